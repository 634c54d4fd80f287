"""The pure gap computation: grouping, weights, units of learning outcomes, statuses, order."""

from __future__ import annotations

import numpy as np

from service.gaps import analysis as a
from service.gaps import evidence as ev

TH = a.Thresholds(met=0.5, partial=0.2)


def occ(name: str, importance: int, headcount: int, demand: str) -> a.SkillOccurrence:
    return a.SkillOccurrence(name=name, importance=importance, headcount=headcount, demand_id=demand)


def test_same_wording_shares_a_line_and_a_demand_counts_once() -> None:
    lines = a.group_skills(
        [
            occ("CNC machining", 5, 4, "d1"),
            occ("cnc  Machining", 2, 4, "d1"),  # same demand again: counted once, larger importance
            occ("CNC machining", 3, 2, "d2"),
            occ("welding", 1, 2, "d2"),
        ]
    )
    by_label = {line.label: line for line in lines}
    assert set(by_label) == {"CNC machining", "welding"}
    cnc = by_label["CNC machining"]
    assert cnc.weight == 4 * 5 + 2 * 3
    assert cnc.headcount == 6
    assert cnc.demand_ids == ["d1", "d2"]
    assert cnc.importance == 5
    assert cnc.aliases == []  # normalised duplicates are not aliases


def test_cluster_labels_fold_wordings_and_label_is_the_most_demanded() -> None:
    occurrences = [
        occ("PLC programming", 3, 1, "d1"),
        occ("programming PLCs", 5, 4, "d2"),
        occ("welding", 3, 1, "d3"),
    ]
    phrases, _ = a.distinct_phrases(occurrences)
    assert phrases == ["PLC programming", "programming PLCs", "welding"]
    lines = a.group_skills(occurrences, np.array([0, 0, 1]))
    assert [line.label for line in lines] == ["programming PLCs", "welding"]
    assert lines[0].aliases == ["PLC programming"]
    assert lines[0].weight == 3 + 20
    assert lines[0].headcount == 5


def test_cluster_phrases_average_linkage_cut_at_threshold() -> None:
    cov = np.array(
        [
            [1.0, 0.9, 0.6, 0.0],
            [0.9, 1.0, 0.5, 0.0],
            [0.6, 0.5, 1.0, 0.1],
            [0.0, 0.0, 0.1, 1.0],
        ],
        dtype=np.float32,
    )
    labels = a.cluster_phrases(4, lambda s, e: cov[s:e], threshold=0.5, block=2)
    # 0 and 1 merge (0.9); 2 joins them on average (0.55 >= 0.5); 3 stays alone.
    assert labels.tolist() == [0, 0, 0, 1]
    labels = a.cluster_phrases(4, lambda s, e: cov[s:e], threshold=0.7, block=3)
    assert labels.tolist() == [0, 0, 1, 2]
    assert a.cluster_phrases(0, lambda s, e: cov[s:e], threshold=0.5).tolist() == []


def test_outcome_units_drop_lead_ins_and_split_clauses() -> None:
    units = ev.outcome_units("Students will be able to set up CNC lathes, and read drawings to check parts")
    assert units[0] == "Students will be able to set up CNC lathes, and read drawings to check parts"
    assert "set up CNC lathes" in units
    assert "read drawings to check parts" in units
    assert "read drawings" in units
    assert ev.outcome_units("能够编写PLC程序并调试自动化生产线")[1:] == [
        "编写PLC程序并调试自动化生产线",
        "编写PLC程序",
        "调试自动化生产线",
    ]
    assert ev.outcome_units("Welding") == ["Welding"]


def test_evidence_items_keep_the_whole_outcome_as_text() -> None:
    items = ev.curriculum_evidence(
        [
            {"id": "c1", "title": "Workshop", "learning_outcomes": ["Able to weld, and grind"], "skills": []},
            {"title": "Drawing", "skills": [{"name": "CAD"}, "blueprints"]},
        ]
    )
    assert [(i.kind, i.scored) for i in items] == [
        ("title", "Workshop"),
        ("outcome", "Able to weld, and grind"),
        ("outcome", "weld, and grind"),
        ("title", "Drawing"),
        ("skill", "CAD"),
        ("skill", "blueprints"),
    ]
    assert {i.text for i in items if i.kind == "outcome"} == {"Able to weld, and grind"}
    assert items[-1].course_index == 1
    assert items[-1].course_id is None


def test_assess_statuses_evidence_and_nearest_course() -> None:
    lines = a.group_skills([occ("a", 5, 1, "d"), occ("b", 4, 1, "d"), occ("c", 3, 1, "d")])
    items = [
        ev.EvidenceItem(0, "c0", "Course 0", "t0", "title"),
        ev.EvidenceItem(1, "c1", "Course 1", "t1", "outcome"),
        ev.EvidenceItem(1, "c1", "Course 1", "t2", "skill"),
    ]
    cov = np.array([[0.9, 0.1, 0.3], [0.0, 0.3, 0.1], [0.0, 0.05, 0.0]], dtype=np.float32)
    sim = np.array([[0.9, 0.4, 0.5], [0.2, 0.5, 0.3], [0.1, 0.35, 0.3]], dtype=np.float32)
    row = {"a": 0, "b": 1, "c": 2}
    out = {x.line.label: x for x in a.assess(lines, items, cov, sim, row, TH)}
    assert out["a"].status == "covered"
    assert out["a"].evidence is not None and out["a"].evidence.text == "t0"
    assert out["b"].status == "partial"
    assert out["b"].evidence is not None and out["b"].evidence.text == "t1"
    assert out["c"].status == "gap"
    assert out["c"].evidence is None
    assert out["c"].nearest is not None and out["c"].nearest.course_id == "c1"
    assert out["c"].nearest_similarity == np.float32(0.35)

    report = a.build_report("p", {"kind": "demand"}, list(out.values()), "m")
    # priorities: a 5 * 0.1 = 0.5, b 4 * 0.7 = 2.8, c 3 * 0.95 = 2.85
    assert [s["skill"] for s in report["skills"]] == ["c", "b", "a"]
    assert report["coverage"] == round((5 * 0.9 + 4 * 0.3 + 3 * 0.05) / 12, 4)
    assert report["summary"] == {"covered": 1, "partial": 1, "gap": 1}
    assert report["skills"][0]["nearest_course"]["course_title"] == "Course 1"


def test_no_evidence_means_every_line_is_a_gap() -> None:
    lines = a.group_skills([occ("a", 5, 2, "d")])
    out = a.assess(lines, [], np.zeros((1, 0)), np.zeros((1, 0)), {"a": 0}, TH)
    assert out[0].status == "gap"
    assert out[0].coverage == 0.0
    assert out[0].nearest is None
    assert a.programme_coverage(out) == 0.0
    assert a.programme_coverage([]) == 0.0


def test_an_item_that_clearly_covers_another_skill_counts_less_for_this_one() -> None:
    import numpy as np
    import pytest

    from service.gaps.analysis import compete

    # rows: "repair firearms", "customise guns"; items: a repair outcome, an unrelated one
    sim = np.array([[0.90, 0.10], [0.70, 0.20]], dtype=np.float32)
    out = compete(sim, [[0], [1]], gate=0.64)
    assert out[0].tolist() == pytest.approx([0.90, 0.10])  # the clear winner keeps its evidence
    assert out[1, 0] == pytest.approx(0.50)  # 0.70 - (0.90 - 0.70)
    assert out[1, 1] == pytest.approx(0.20)  # nothing clearly covered by item 2: left alone
    # Under the gate, no competition at all.
    weak = np.array([[0.60, 0.1], [0.50, 0.1]], dtype=np.float32)
    assert np.array_equal(compete(weak, [[0], [1]], gate=0.64), weak)
    # A line's own wordings never compete with each other.
    assert np.array_equal(compete(sim, [[0, 1]], gate=0.64), sim)


def test_two_wordings_of_one_skill_barely_compete_but_siblings_do() -> None:
    import pytest

    from service.gaps.analysis import compete

    # rows: "CNC machining", "operate CNC machines" (wordings of one skill, 0.74 alike), and in a
    # second report "customise guns", a sibling of "repair firearms" (0.45 alike); one item each
    sim = np.array([[0.74], [0.61]], dtype=np.float32)
    wordings = np.array([[1.0, 0.74], [0.74, 1.0]], dtype=np.float32)
    out = compete(sim, [[0], [1]], gate=0.64, line_sim=wordings)
    assert out[1, 0] == pytest.approx(0.61)  # the item is as close to one wording as they are alike
    siblings = np.array([[1.0, 0.45], [0.45, 1.0]], dtype=np.float32)
    sim = np.array([[0.90], [0.70]], dtype=np.float32)
    out = compete(sim, [[0], [1]], gate=0.64, line_sim=siblings)
    assert out[1, 0] == pytest.approx(0.50)  # 0.70 - (0.90 - 0.70), as without line_sim


def test_cross_language_partial_band_starts_above_the_noise_of_unrelated_pairs() -> None:
    from service.gaps.calibration import across_languages, coverage_at
    from service.matching.calibration import Bridge, load_bridge, load_calibration

    calibration = load_calibration("all-MiniLM-L6-v2")
    assert across_languages(calibration, None) == calibration.partial
    unfitted = Bridge("m", scale=0.5, shift=0.2)
    assert across_languages(calibration, unfitted) == calibration.partial
    bridge = load_bridge(calibration, "universal-sentence-encoder-multilingual-3")
    assert bridge is not None and bridge.unrelated_cos > bridge.floor_cos
    across = across_languages(calibration, bridge)
    # The bundled fit: evidence that 1 in 100 random Chinese/English pairs reaches is not partial.
    assert across > calibration.partial
    assert abs(across - coverage_at(calibration, bridge.similarity_of(bridge.unrelated_cos))) < 1e-4
    thresholds = a.Thresholds(met=0.7, partial=0.7, across=across)
    assert thresholds.status(across - 0.01, across_languages=True) == a.GAP
    assert thresholds.status(across + 0.01, across_languages=True) == a.PARTIAL
    assert thresholds.status(across + 0.01) == a.GAP
    # Where the English cut lies under the noise level (no gap cut fitted for the encoder), the noise
    # level still decides a cross-language line.
    fallback = a.Thresholds(met=0.7, partial=across - 0.05, across=across)
    assert fallback.status(across - 0.01, across_languages=True) == a.GAP
    assert fallback.status(across - 0.01) == a.PARTIAL
