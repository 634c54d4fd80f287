"""The multilingual encoder compares Chinese with Chinese and with English, offline."""

from __future__ import annotations

import numpy as np

from service.embeddings.encoder import Encoder
from service.embeddings.multilingual import load_multilingual


def test_translations_are_close_and_unrelated_work_is_not() -> None:
    encoder = load_multilingual()
    assert isinstance(encoder, Encoder)
    vectors = encoder.encode(["焊接", "welding", "数控加工", "CNC machining", "会计"])
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sim = vectors @ vectors.T
    assert sim[0, 1] > 0.8  # 焊接 / welding
    assert sim[2, 3] > 0.65  # 数控加工 / CNC machining
    assert sim[4, 2] < sim[2, 3] - 0.3  # 会计 (accounting) is not CNC machining
    assert encoder.encode([]).shape == (0, 512)


def test_loaded_once_per_process() -> None:
    assert load_multilingual() is load_multilingual()
