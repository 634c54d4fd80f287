"""The real encoder (all-MiniLM-L6-v2) with its fitted calibration: surface forms, Chinese, honesty."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from service.embeddings.encoder import Encoder
from service.embeddings.loader import load_encoder
from service.matching import scoring
from service.matching.calibration import load_calibration
from service.matching.lexical import default_model

pytestmark = pytest.mark.real_encoder
LEX = default_model()


@lru_cache(maxsize=1)
def encoder() -> Encoder:
    return load_encoder("real")


def similarity(demand: list[str], phrases: list[str]) -> tuple[np.ndarray, np.ndarray]:
    enc = encoder()
    cal = load_calibration(enc.name)
    sim = scoring.combined_similarity(
        demand,
        enc.encode(demand),
        phrases,
        enc.encode(phrases),
        calibration=cal,
        lexical=LEX,
        multilingual=enc.multilingual,
    )
    return sim, scoring.coverage(sim, cal)


def test_encoder_identity_is_pinned():
    enc = encoder()
    assert enc.name == "all-MiniLM-L6-v2" and enc.dim == 384
    assert enc.version.startswith("0.1.0+onnx-") and len(enc.version) == len("0.1.0+onnx-") + 12
    v = enc.encode(["CNC machining"])
    assert v.dtype == np.float32 and np.isclose(np.linalg.norm(v), 1.0, atol=1e-5)


def test_chinese_skill_matches_its_longer_form_and_not_an_unrelated_one():
    # The English encoder finds "焊接" (welding) about as close to "数控机床加工" as "数控加工" is;
    # the lexical channel and the trust rule keep them apart.
    sim, cov = similarity(["数控机床加工"], ["数控加工", "焊接", "会计"])
    assert sim[0, 0] > sim[0, 1] + 0.4
    assert cov[0, 0] >= load_calibration("all-MiniLM-L6-v2").met
    assert cov[0, 1] == 0.0 and cov[0, 2] == 0.0


def test_mixed_chinese_and_english():
    sim, cov = similarity(["Python programming"], ["Python 编程", "Java 编程", "烹饪"])
    assert sim[0, 0] > sim[0, 1] > sim[0, 2]
    assert cov[0, 0] >= load_calibration("all-MiniLM-L6-v2").met


def test_surface_forms_match_and_unrelated_skills_do_not():
    cal = load_calibration("all-MiniLM-L6-v2")
    _, cov = similarity(
        ["CNC machining", "JavaScript", "Microsoft Excel"],
        ["operate CNC machine", "JS", "Excel", "bake bread"],
    )
    assert cov[0, 0] >= cal.partial  # CNC machining / operate CNC machine
    assert cov[1, 1] >= cal.partial  # JavaScript / JS
    assert cov[2, 2] >= cal.met  # Microsoft Excel / Excel
    assert cov[:, 3].max() == 0.0  # bake bread covers none of them


def test_an_unrelated_profile_scores_near_zero():
    enc = encoder()
    cal = load_calibration(enc.name)
    names = ["CNC machining", "read engineering drawings", "G-code", "quality inspection"]
    profiles = [["hotel reception", "cooking", "piano"], ["operate CNC lathe", "blueprint reading", "G-code"]]
    texts = sorted({t for p in profiles for t in p})
    col = {t: i for i, t in enumerate(texts)}
    _, cov = similarity(names, texts)
    indptr = np.cumsum([0] + [len(p) for p in profiles])
    idx = np.array([col[t] for p in profiles for t in p])
    order, scores = scoring.rank(
        cov,
        np.full(4, 3.0),
        np.zeros(4, bool),
        np.zeros(4, np.int8),
        indptr,
        idx,
        np.zeros(len(idx), np.int8),
        2,
        cal,
    )
    by = dict(zip(order.tolist(), scores.tolist(), strict=True))
    assert by[0] < 0.05
    assert by[1] > 0.6
