"""The encoder's domain adaptation (training/encoder.py): its pairs, its batches and a short real run."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from training.encoder import MAX_PER_TEXT, batches, main, onet_pairs


def test_no_text_twice_in_a_batch() -> None:
    # One DWA shared by several tasks: in one batch it would be the negative of its own positives.
    pairs = [(f"task {i}", "Operate machines" if i % 25 == 0 else f"activity {i}") for i in range(200)]
    seen: list[tuple[str, str]] = []
    for batch in batches(pairs, 16, random.Random(1)):
        texts = [t for pair in batch for t in pair]
        assert len(texts) == len(set(texts))
        assert 2 <= len(batch) <= 16
        seen.extend(batch)
    assert len(set(seen)) == len(seen)
    assert len(seen) >= len(pairs) - 1  # at most a lone last pair is left out


def _onet() -> Path:
    from training.onet import onet_dir

    base = onet_dir()
    if not (base / "Tasks to DWAs.txt").is_file():
        pytest.skip(f"O*NET files not found in {base}")
    return base


def test_pairs_come_from_the_fit_occupations_only() -> None:
    from training.onet import load_onet, split

    base = _onet()
    by_kind = onet_pairs(base, 2_000)
    assert set(by_kind) == {"task_dwa", "emerging", "tool", "title"}
    assert all(by_kind[k] for k in ("task_dwa", "tool", "title"))
    onet = load_onet(base)
    eval_titles = {o.title for o in onet.occupations.values() if split(o.code) == "eval"}
    fit_titles = {o.title for o in onet.occupations.values() if split(o.code) == "fit"}
    assert all(title in fit_titles for _, title in by_kind["title"])
    assert not any(title in eval_titles - fit_titles for _, title in by_kind["title"])
    # Deterministic: the same seed gives the same pairs.
    assert onet_pairs(base, 2_000) == by_kind
    for pairs in by_kind.values():  # no text in more than MAX_PER_TEXT pairs
        counts = Counter(t for pair in pairs for t in pair)
        assert max(counts.values()) <= MAX_PER_TEXT


@pytest.mark.real_encoder
def test_a_short_run_writes_a_model_and_its_card(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from training.export_onnx import source_folder

    _onet()
    out = tmp_path / "tuned"
    main(["--out", str(out), "--pairs", "200", "--batch", "32", "--threads", "1"])
    card = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert card["steps"] >= 3
    assert card["hyper_parameters"]["mix"] == 0.5
    assert len(card["data_sha256"]) == 9 and all(len(h) == 64 for h in card["data_sha256"].values())
    texts = ["CNC machining", "operate computer-controlled lathes", "welding", "customer service"]
    base = SentenceTransformer(str(source_folder(None)), device="cpu", local_files_only=True)
    tuned = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    a = base.encode(texts, normalize_embeddings=True)
    b = tuned.encode(texts, normalize_embeddings=True)
    agreement = (a * b).sum(axis=1)
    assert not np.allclose(a, b)  # it learned something
    assert agreement.min() > 0.9  # and, averaged with the base weights, stayed near it
