"""The served encoder's static token vectors: cheap approximations that rank like the transformer."""

from __future__ import annotations

import numpy as np

from service.embeddings.fake import FakeEncoder
from service.embeddings.loader import load_encoder
from service.embeddings.static import StaticVectors, for_encoder


def test_static_vectors_exist_only_for_the_encoder_they_were_built_from() -> None:
    static = for_encoder(load_encoder("real"))
    assert isinstance(static, StaticVectors)
    assert for_encoder(load_encoder("real")) is static  # loaded once per process
    assert for_encoder(FakeEncoder()) is None


def test_static_vectors_approximate_the_transformer_and_rank_like_it() -> None:
    encoder = load_encoder("real")
    static = for_encoder(encoder)
    assert static is not None
    texts = [
        "operate a CNC lathe",
        "weld steel pipes",
        "prepare financial statements",
        "bake bread and pastries",
        "Microsoft Excel",
        "teach mathematics to secondary school students",
    ]
    approx = static.encode(texts)
    real = encoder.encode(texts)
    assert approx.shape == real.shape and approx.dtype == np.float32
    assert np.allclose(np.linalg.norm(approx, axis=1), 1.0, atol=1e-5)
    assert float((approx * real).sum(axis=1).mean()) > 0.75
    # against a demanded skill's real vector, the static vectors pick the phrase the transformer picks
    # (for "bookkeeping" both pick baking over financial statements)
    demanded = encoder.encode(
        ["CNC machining", "welding", "bookkeeping", "baking", "spreadsheets", "teaching"]
    )
    picked = np.argmax(demanded @ approx.T, axis=1)
    assert list(picked) == list(np.argmax(demanded @ real.T, axis=1))
    assert list(picked) == [0, 1, 3, 3, 4, 5]


def test_a_text_without_word_pieces_has_a_zero_vector_and_pieces_are_remembered() -> None:
    static = for_encoder(load_encoder("real"))
    assert static is not None
    out = static.encode(["", "welding", "welding"])
    assert not out[0].any()
    assert np.array_equal(out[1], out[2])
    assert static.encode([]).shape == (0, static.dim)
    first = static.pieces(["arc welding"])[0]
    assert static.pieces(["arc welding"])[0] is first  # the tokenizer ran once


def test_an_erasure_drops_the_remembered_pieces_of_its_phrases() -> None:
    from service.embeddings.cache import forget_phrases
    from service.text import normalize_phrase

    static = for_encoder(load_encoder("real"))
    assert static is not None
    static.pieces(["Laser  Cladding of turbine blades", "TIG welding"])
    forget_phrases({normalize_phrase("laser cladding of turbine blades")})  # what an erasure calls
    assert "Laser  Cladding of turbine blades" not in static._pieces
    assert "TIG welding" in static._pieces
