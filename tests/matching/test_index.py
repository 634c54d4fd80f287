"""The in-memory graduate index: same answers as the plain CSR ranking, kept in step by writes."""

from __future__ import annotations

import random

import numpy as np
import pytest

from service.embeddings.fake import FakeEncoder
from service.matching import scoring
from service.matching.calibration import load_calibration
from service.matching.index import GraduateIndex
from service.matching.lexical import default_model
from service.matching.phrase_store import PhraseStore

ENC = FakeEncoder()
LEX = default_model()
CAL = load_calibration("fake-hash")
VOCAB = [
    "CNC machining",
    "operate CNC lathe",
    "read engineering drawings",
    "G-code programming",
    "G-code",
    "quality inspection",
    "welding",
    "TIG welding",
    "Python programming",
    "Python 编程",
    "数控机床加工",
    "数控加工",
    "Microsoft Excel",
    "Excel",
    "spreadsheet software",
    "AutoCAD",
    "CAD software",
    "PLC",
    "Siemens S7-1200 PLC",
    "customer service",
    "baking bread",
    "forklift operation",
    "hydraulics",
    "pneumatics",
    "SolidWorks",
    "3D printing",
    "metrology",
    "micrometer measurement",
    "lathe setup",
]


def make_store() -> PhraseStore:
    store = PhraseStore(ENC.dim, LEX, capacity=4)  # small capacity: exercises growth
    store.add(VOCAB, ENC.encode(VOCAB))
    return store


def demand(names, **kw) -> scoring.DemandSkills:
    return scoring.DemandSkills.build(names, ENC.encode(names), LEX, **kw)


def random_profiles(n: int, seed: int = 0) -> list[list[tuple[str, int | None]]]:
    rng = random.Random(seed)
    return [
        [(t, rng.choice([None, 1, 2, 3, 4, 5])) for t in rng.sample(VOCAB, rng.randint(0, 6))]
        for _ in range(n)
    ]


def reference(index: GraduateIndex, d: scoring.DemandSkills, profiles, k: int):
    """The plain CSR ranking, with the index's specificity weights."""
    store = index.phrases
    sim = store.similarity(d, CAL, multilingual=False)
    cov = CAL.coverage(sim)
    weights = d.weights * index.specificity(cov)
    indptr = np.cumsum([0] + [len(p) for p in profiles])
    idx = store.ids([t for p in profiles for t, _ in p])
    lv = scoring.encode_levels([lv for p in profiles for _, lv in p])
    return scoring.rank(cov, weights, d.required, d.levels, indptr, idx, lv, k, CAL)


def test_index_matches_the_plain_csr_ranking_through_writes_and_rebuilds():
    store = make_store()
    index = GraduateIndex(store, CAL)
    profiles = random_profiles(60)
    for i, p in enumerate(profiles[:40]):
        index.upsert(f"g{i}", store.ids([t for t, _ in p]), [lv for _, lv in p])
    index.compact()  # 40 in the base segment
    for i, p in enumerate(profiles[40:], start=40):  # 20 in the delta segment
        index.upsert(f"g{i}", store.ids([t for t, _ in p]), [lv for _, lv in p])
    d = demand(
        ["CNC machining", "G-code", "quality inspection", "数控加工"],
        weights=[5, 3, 2, 1],
        required=[True, False, False, False],
        levels=[3, None, 2, None],
    )
    for _ in range(2):
        result = index.rank(d, 60)
        ref_idx, ref_scores = reference(index, d, profiles, 60)
        assert np.allclose(np.sort(result.scores), np.sort(ref_scores), atol=1e-6)
        got = dict(zip(result.keys, result.scores.tolist(), strict=True))
        for i, s in zip(ref_idx.tolist(), ref_scores.tolist(), strict=True):
            assert got[f"g{i}"] == pytest.approx(s, abs=1e-6)
        index.compact()


def test_update_and_remove_are_reflected_at_once():
    store = make_store()
    index = GraduateIndex(store, CAL)
    index.upsert("a", store.ids(["baking bread"]))
    index.upsert("b", store.ids(["CNC machining", "G-code"]))
    index.compact()
    d = demand(["CNC machining", "G-code"])
    assert index.rank(d, 1).keys == ["b"]
    index.upsert("a", store.ids(["CNC machining", "G-code programming", "G-code"]))  # a learnt it
    result = index.rank(d, 2)
    assert set(result.keys) == {"a", "b"} and len(index) == 2
    assert index.remove("b") is True and index.remove("b") is False
    assert index.rank(d, 5).keys == ["a"]
    index.compact()
    assert index.rank(d, 5).keys == ["a"]
    assert "b" not in index and "a" in index


def test_explain_reports_the_graduates_evidence():
    store = make_store()
    index = GraduateIndex(store, CAL)
    index.upsert("a", store.ids(["operate CNC lathe", "baking bread"]), [2, None], payload={"school": "s"})
    d = demand(["CNC machining", "welding"], required=[False, True], levels=[4, None])
    result = index.rank(d, 1)
    evidence, missing = index.explain(result, d, 0)
    assert [e["demand_skill"] for e in evidence] == ["CNC machining", "welding"]
    assert evidence[1]["status"] == "missing" and evidence[1]["matched"] is None
    assert missing == ["welding"]
    assert index.payload("a") == {"school": "s"}


def test_empty_index_and_empty_profiles():
    store = make_store()
    index = GraduateIndex(store, CAL)
    d = demand(["CNC machining"])
    assert index.rank(d, 10).keys == []
    index.upsert("empty", [])
    index.compact()
    result = index.rank(d, 10)
    assert result.keys == ["empty"] and result.scores.tolist() == [0.0]


def test_bulk_load_equals_one_write_per_graduate():
    store = make_store()
    profiles = random_profiles(30, seed=3)
    one_by_one = GraduateIndex(store, CAL)
    for i, p in enumerate(profiles):
        one_by_one.upsert(i, store.ids([t for t, _ in p]), [lv for _, lv in p])
    bulk = GraduateIndex(store, CAL)
    indptr = np.cumsum([0] + [len(p) for p in profiles])
    bulk.load(
        list(range(30)),
        indptr,
        store.ids([t for p in profiles for t, _ in p]),
        scoring.encode_levels([lv for p in profiles for _, lv in p]),
    )
    d = demand(["welding", "Excel", "PLC"], levels=[2, None, 5])
    a, b = one_by_one.rank(d, 30), bulk.rank(d, 30)
    assert a.keys == b.keys and np.allclose(a.scores, b.scores)
    with pytest.raises(ValueError):
        bulk.load([1, 1], np.array([0, 0, 0]), np.zeros(0, dtype=np.int32))


def test_phrase_store_ids_and_unknown_phrases():
    store = make_store()
    assert store.ids(["  cnc   MACHINING "]).tolist() == store.ids(["CNC machining"]).tolist()
    assert store.ids(["never seen"]).tolist() == [-1]
    assert store.missing(["never seen", "Never  seen", "CNC machining"]) == ["never seen"]
    before = len(store)
    store.add(["CNC machining", "brand new"], ENC.encode(["CNC machining", "brand new"]))
    assert len(store) == before + 1
    index = GraduateIndex(store, CAL)
    with pytest.raises(ValueError):
        index.upsert("x", [len(store) + 5])


def test_specificity_weighs_a_rare_skill_more_than_one_everybody_has():
    store = make_store()
    index = GraduateIndex(store, CAL)
    for i in range(20):  # everybody knows Excel; one graduate also knows PLC programming
        index.upsert(f"g{i}", store.ids(["Microsoft Excel"] + (["Siemens S7-1200 PLC"] if i == 0 else [])))
    d = demand(["Microsoft Excel", "Siemens S7-1200 PLC"])
    spec = index.specificity_for(d)
    assert spec[0] == pytest.approx(1.0, abs=0.05)  # ln(21/21) + 1
    assert spec[1] == pytest.approx(np.log(21 / 2) + 1, rel=1e-4)
    result = index.rank(d, 2)
    assert result.keys[0] == "g0"
    # the same weights whichever way they are computed, and a write invalidates the cache
    sim = store.similarity(d, CAL, multilingual=False)
    assert np.allclose(index.specificity(CAL.coverage(sim)), spec)
    index.remove("g0")
    assert index.specificity_for(d)[1] == pytest.approx(np.log(20) + 1, rel=1e-4)
    evidence, _ = index.explain(result, d, 0)
    assert sum(e["weight"] for e in evidence) == pytest.approx(1.0, abs=1e-3)
    assert evidence[1]["weight"] > evidence[0]["weight"]


@pytest.mark.parametrize("top_k", [1, 5, 20])
def test_two_pass_ranking_is_exact(top_k):
    """With many graduates, rank() reads weak evidence only for possible winners: same answer."""
    store = make_store()
    index = GraduateIndex(store, CAL)
    profiles = random_profiles(400, seed=7)
    for i, p in enumerate(profiles):
        index.upsert(f"g{i}", store.ids([t for t, _ in p]), [lv for _, lv in p])
    index.compact()
    extra = random_profiles(10, seed=8)  # a few in the delta segment too
    for i, p in enumerate(extra, start=400):
        index.upsert(f"g{i}", store.ids([t for t, _ in p]), [lv for _, lv in p])
    for names, required in (
        (["CNC machining", "G-code", "quality inspection", "Excel"], [True, False, False, False]),
        (["welding", "AutoCAD", "PLC", "数控加工", "hydraulics"], [False, False, False, False, False]),
    ):
        d = demand(names, required=required, levels=[3] + [None] * (len(names) - 1))
        result = index.rank(d, top_k)
        ref_idx, ref_scores = reference(index, d, profiles + extra, top_k)
        assert np.allclose(result.scores, ref_scores, atol=1e-6)
        assert set(result.keys) == {f"g{i}" for i in ref_idx} or np.unique(ref_scores).size < len(ref_scores)


@pytest.mark.parametrize(
    "coverages", [(0.3,), (0.3, 0.15), (0.9, 0.6), (0.6, 0.3, 0.15), ()], ids=lambda c: str(c)
)
@pytest.mark.parametrize("min_candidates", [0, 40, 4096])
def test_every_pruning_path_gives_the_exact_ranking(coverages, min_candidates):
    """Pruning levels tried in turn and the full scan when they leave too many candidates: whichever
    path a query takes (small candidate limits force the later ones), the answer is the same."""
    store = make_store()
    index = GraduateIndex(store, CAL)
    index.PRUNE_COVERAGES = coverages
    index.PRUNE_MIN_CANDIDATES = min_candidates
    profiles = random_profiles(300, seed=11)
    for i, p in enumerate(profiles):
        index.upsert(f"g{i}", store.ids([t for t, _ in p]), [lv for _, lv in p])
    index.compact()
    d = demand(
        ["CNC machining", "quality inspection", "welding", "Excel"],
        required=[True, False, False, False],
        levels=[3, None, 2, None],
    )
    for top_k in (1, 10):
        result = index.rank(d, top_k)
        _, ref_scores = reference(index, d, profiles, top_k)
        assert np.allclose(result.scores, ref_scores, atol=1e-6)


def test_phrase_store_gives_back_unused_capacity_and_keeps_its_content():
    store = PhraseStore(ENC.dim, LEX, capacity=2)
    texts = [f"skill number {i}" for i in range(300)]
    ids = store.add(texts, ENC.encode(texts))
    vecs = store.vecs.copy()
    store.shrink(headroom=10)
    assert store.nbytes() < PhraseStore(ENC.dim, LEX, capacity=400).nbytes()
    assert store.ids(texts).tolist() == ids.tolist()
    assert np.array_equal(store.vecs, vecs)
    more = ["after the shrink", "and one more"]
    new_ids = store.add(more, ENC.encode(more))
    assert new_ids.tolist() == [300, 301]
    assert np.allclose(store.vecs[300:], ENC.encode(more))


@pytest.mark.parametrize("multilingual", [False, True])
def test_store_similarity_equals_the_plain_fusion(multilingual):
    store = make_store()
    names = ["数控加工", "Python programming", "CNC machining", "Excel 表格"]
    d = demand(names)
    got = store.similarity(d, CAL, multilingual)
    want = scoring.combined_similarity(
        names, d.vecs, store.texts, store.vecs, calibration=CAL, lexical=LEX, multilingual=multilingual
    )
    assert np.allclose(got, want, atol=1e-6)
