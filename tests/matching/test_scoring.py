"""Scoring on small, hand-checkable cases (fake encoder), and the lexical channel."""

from __future__ import annotations

import numpy as np
import pytest

from service.embeddings.fake import FakeEncoder
from service.matching import scoring
from service.matching.calibration import Calibration, load_calibration
from service.matching.lexical import default_model, latin_share, similarity
from service.text import normalize_phrase

ENC = FakeEncoder()
LEX = default_model()
CAL = load_calibration("fake-hash")


def demand(names, weights=None, required=None, levels=None) -> scoring.DemandSkills:
    return scoring.DemandSkills.build(names, ENC.encode(names), LEX, weights, required, levels)


def rank_profiles(d: scoring.DemandSkills, profiles: list[list[tuple[str, int | None]]]):
    """Rank candidates given as lists of (phrase, level) with the plain CSR path."""
    texts = sorted({t for p in profiles for t, _ in p})
    col = {t: i for i, t in enumerate(texts)}
    vecs = ENC.encode(texts) if texts else np.zeros((0, ENC.dim), dtype=np.float32)
    sim = scoring.combined_similarity(d.names, d.vecs, texts, vecs, calibration=CAL, lexical=LEX)
    cov = scoring.coverage(sim, CAL)
    indptr = np.cumsum([0] + [len(p) for p in profiles])
    idx = np.array([col[t] for p in profiles for t, _ in p], dtype=np.int64)
    lv = scoring.encode_levels([lv for p in profiles for _, lv in p])
    order, scores = scoring.rank(cov, d.weights, d.required, d.levels, indptr, idx, lv, len(profiles), CAL)
    return order, scores, (sim, cov, texts, col)


def test_normalize_phrase():
    assert normalize_phrase("  CNC   Machining\t") == "cnc machining"
    assert normalize_phrase("Ｐｙｔｈｏｎ　编程") == "python 编程"  # NFKC full-width


def test_fake_encoder_is_deterministic_and_unit_length():
    enc = FakeEncoder()
    a = enc.encode(["CNC machining", "operate CNC machine", ""])
    b = FakeEncoder().encode(["CNC machining"])
    assert a.dtype == np.float32 and a.shape == (3, 64)
    assert np.allclose(a[0], b[0])
    assert np.isclose(np.linalg.norm(a[0]), 1.0)
    assert not a[2].any()  # empty text: zero row
    assert enc.calls == 1
    assert enc.encode([]).shape == (0, 64) and enc.calls == 1


def test_lexical_channel_keeps_tool_names_versions_and_chinese_apart():
    texts = ["C++", "C#", "S7-1200", "Siemens S7-1200 PLC", "数控加工", "数控机床加工", "焊接"]
    s = similarity(LEX.transform(texts), LEX.transform(texts))
    assert s[0, 1] < 0.1  # C++ is not C#
    assert s[2, 3] > 0.5  # the PLC model number carries
    assert s[4, 5] > 0.5  # shared Chinese characters and bigrams
    assert s[4, 6] == 0.0
    assert latin_share(["Python 编程", "数控", "Excel"]).tolist() == pytest.approx([0.75, 0.0, 1.0])


def test_ranking_order_on_a_hand_checkable_case():
    d = demand(["CNC machining", "read engineering drawings", "G-code"], weights=[5, 3, 2])
    profiles = [
        [("piano", None), ("poetry", None)],  # unrelated
        [("CNC machining", None), ("read engineering drawings", None), ("G-code", None)],  # everything
        [("CNC machining", None)],  # the most important skill only
        [("G-code", None)],  # the least important skill only
    ]
    order, scores, _ = rank_profiles(d, profiles)
    assert order.tolist() == [1, 2, 3, 0]
    assert scores[0] > 0.9
    # exact skill, weight 5 of 10: half the score; weight 2 of 10: a fifth
    assert scores[1] == pytest.approx(0.5 * scores[0], abs=0.05)
    assert scores[2] == pytest.approx(0.2 * scores[0], abs=0.05)
    assert scores[3] < 0.05  # unrelated profile: near 0


def test_empty_profile_scores_zero_and_unrelated_near_zero():
    d = demand(["CNC machining", "quality inspection", "welding"])
    order, scores, _ = rank_profiles(d, [[], [("piano", None), ("poetry", None), ("yoga", None)]])
    by_index = dict(zip(order.tolist(), scores.tolist(), strict=True))
    assert by_index[0] == 0.0
    assert by_index[1] < 0.05


def test_missing_required_skill_pulls_the_score_down_and_is_listed():
    names = ["CNC machining", "quality inspection"]
    plain = demand(names)
    strict = demand(names, required=[True, False])
    profile = [[("quality inspection", None)]]
    _, s_plain, _ = rank_profiles(plain, profile)
    _, s_strict, (sim, cov, texts, col) = rank_profiles(strict, profile)
    assert s_strict[0] == pytest.approx(s_plain[0] * CAL.required_missing_factor)
    evidence, missing = scoring.explain(
        strict.names,
        sim,
        cov,
        texts,
        np.array([col["quality inspection"]]),
        np.array([0]),
        strict.levels,
        strict.required,
        CAL,
    )
    assert missing == ["CNC machining"]
    assert evidence[0] == {
        "demand_skill": "CNC machining",
        "matched": None,
        "similarity": evidence[0]["similarity"],
        "coverage": 0.0,
        "status": "missing",
    }
    assert evidence[1]["matched"] == "quality inspection" and evidence[1]["status"] == "met"


def test_level_below_the_requested_one_is_partial():
    d = demand(["CNC machining"], levels=[4])
    order, scores, (sim, cov, texts, _col) = rank_profiles(
        d, [[("CNC machining", 2)], [("CNC machining", 4)], [("CNC machining", None)]]
    )
    by_index = dict(zip(order.tolist(), scores.tolist(), strict=True))
    assert by_index[1] == by_index[2] > by_index[0] > 0
    assert by_index[0] < CAL.met
    ev_low, _ = scoring.explain(
        d.names, sim, cov, texts, np.array([0]), np.array([2]), d.levels, d.required, CAL
    )
    ev_ok, _ = scoring.explain(
        d.names, sim, cov, texts, np.array([0]), np.array([5]), d.levels, d.required, CAL
    )
    assert ev_low[0]["status"] == "partial" and ev_low[0]["matched"] == "CNC machining"
    assert ev_ok[0]["status"] == "met"


def test_level_caps_stay_in_the_partial_band():
    caps = scoring.level_caps(CAL)
    assert caps[0].tolist() == [1.0] * 6 and caps[:, 0].tolist() == [1.0] * 6
    assert caps[5, 5] == 1.0 and caps[3, 4] == 1.0
    assert CAL.partial < caps[5, 1] < caps[5, 4] < CAL.met


def test_chinese_with_an_english_only_encoder_relies_on_the_lexical_channel():
    # An English-only encoder finds any two Chinese strings alike; trust shifts the weight to the lexis.
    texts = ["数控机床加工", "焊接"]
    vecs = np.ones((2, 4), dtype=np.float32) / 2  # a worst case: identical vectors for everything
    d = np.ones((1, 4), dtype=np.float32) / 2
    english_only = scoring.combined_similarity(["数控加工"], d, texts, vecs, calibration=CAL, lexical=LEX)
    assert english_only[0, 0] > 0.5
    assert english_only[0, 1] == 0.0
    trusting = scoring.combined_similarity(
        ["数控加工"], d, texts, vecs, calibration=CAL, lexical=LEX, multilingual=True
    )
    assert trusting[0, 1] == pytest.approx(1.0)


def test_chinese_and_mixed_skills_rank_above_unrelated_ones():
    d = demand(["数控机床加工", "Python programming"])
    order, _scores, (sim, cov, _texts, col) = rank_profiles(
        d, [[("焊接", None), ("Java", None)], [("数控加工", None), ("Python 编程", None)]]
    )
    assert order.tolist() == [1, 0]
    assert sim[0, col["数控加工"]] > sim[0, col["焊接"]] + 0.3
    assert sim[1, col["Python 编程"]] > sim[1, col["Java"]]
    assert cov[0, col["数控加工"]] >= CAL.met


def test_rank_respects_top_k_and_min_score():
    d = demand(["CNC machining"])
    profiles = [[("CNC machining", None)], [("baking", None)], [("CNC machining", None)]]
    texts = sorted({t for p in profiles for t, _ in p})
    col = {t: i for i, t in enumerate(texts)}
    sim = scoring.combined_similarity(d.names, d.vecs, texts, ENC.encode(texts), calibration=CAL, lexical=LEX)
    cov = scoring.coverage(sim, CAL)
    indptr = np.array([0, 1, 2, 3])
    idx = np.array([col[p[0][0]] for p in profiles])
    lv = np.zeros(3, dtype=np.int8)
    order, _ = scoring.rank(cov, d.weights, d.required, d.levels, indptr, idx, lv, 2, CAL)
    assert order.tolist() == [0, 2]  # ties broken by index
    order, _ = scoring.rank(cov, d.weights, d.required, d.levels, indptr, idx, lv, 3, CAL, min_score=0.5)
    assert order.tolist() == [0, 2]


def test_coverage_is_monotone_and_zero_under_the_floor():
    cal = Calibration(encoder="x", gamma=1.0, a=10.0, b=-6.0, floor=0.05, partial=0.15, met=0.5)
    sims = np.linspace(0, 1, 101, dtype=np.float32)
    cov = cal.coverage(sims)
    assert np.all(np.diff(cov) >= 0)
    assert cov[sims < cal.floor_similarity].max() == 0.0
    assert cov[-1] == pytest.approx(1 / (1 + np.exp(-4.0)), rel=1e-5)
    assert cal.status(0.6) == "met" and cal.status(0.2) == "partial" and cal.status(0.1) == "missing"


def test_shipped_calibration_thresholds_are_ordered():
    for name in ("all-MiniLM-L6-v2", "fake-hash"):
        cal = load_calibration(name)
        assert 0 < cal.floor < cal.partial < cal.met < 1
        assert cal.floor_similarity < cal.similarity_at(cal.partial) < cal.similarity_at(cal.met)
