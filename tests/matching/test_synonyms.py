"""An imported taxonomy's labels are synonyms: two labels of one skill match as the same skill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.matching.lexical import default_model
from service.matching.phrase_store import PhraseStore
from service.matching.scoring import DemandSkills
from service.matching.synonyms import SAME_SKILL, Synonyms
from tests.builders import make_demand, make_graduate, make_org, make_program
from tests.taxonomy.conftest import import_esco, write_esco
from tests.ui.support import sign_in

CAD = "http://data.europa.eu/esco/skill/cad-test"
WELD = "http://data.europa.eu/esco/skill/weld-test"
SKILLS = [
    (CAD, "use CAD software", "computer-aided design\nCAD"),
    (WELD, "use welding equipment", "operate welding torch"),
]


def synonyms(groups: dict[str, list[int]]) -> Synonyms:
    names = {0: ("urn:a", "alpha"), 1: ("urn:b", "beta")}
    return Synonyms(key="test", lookup=lambda norm: groups.get(norm, ()), describe=names.__getitem__)


def test_only_two_labels_of_one_skill_are_lifted_to_the_same_skill() -> None:
    syn = synonyms({"use cad software": [0], "computer-aided design": [0], "operate welding torch": [1]})
    sim = np.full((2, 3), 0.2, dtype=np.float32)
    syn.lift(sim, ["use CAD software", "payroll"], ["Computer-Aided  Design", "operate welding torch", "CAD"])
    np.testing.assert_allclose(sim, [[SAME_SKILL, 0.2, 0.2], [0.2, 0.2, 0.2]])
    assert syn.shared("use CAD software", "computer-aided design") == ("urn:a", "alpha")
    assert syn.shared("use CAD software", "operate welding torch") is None


def test_the_phrase_store_finds_labels_added_after_its_first_query() -> None:
    lexical = default_model()
    store = PhraseStore(4, lexical)
    vec = np.eye(4, dtype=np.float32)
    store.add(["computer-aided design", "cooking"], vec[[1, 2]])
    syn = synonyms({"use cad software": [0], "computer-aided design": [0], "computerised drafting": [0]})
    demand = DemandSkills.build(["use CAD software"], vec[[0]], lexical, synonyms=syn)
    assert store.similarity(demand, _calibration(), False)[0].tolist() == pytest.approx([1.0, 0.0])
    store.add(["computerised drafting"], vec[[3]])
    assert store.similarity(demand, _calibration(), False)[0].tolist() == pytest.approx([1.0, 0.0, 1.0])
    without = DemandSkills.build(["use CAD software"], vec[[0]], lexical)
    assert store.similarity(without, _calibration(), False)[0].tolist() == pytest.approx([0.0, 0.0, 0.0])


def _calibration() -> Any:
    from service.matching.calibration import load_calibration

    return load_calibration("all-MiniLM-L6-v2")


def _import(app: FastAPI, tmp_path: Path) -> None:
    import_esco(app, write_esco(tmp_path / "esco", SKILLS))


def _cad_evidence(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    body = {
        "demand": {"skills": [{"name": "use CAD software", "importance": 5}]},
        "candidates": [
            {"id": "label", "skills": [{"name": "computer-aided design"}]},
            {"id": "other", "skills": [{"name": "operate welding torch"}]},
        ],
        "top_k": 2,
    }
    r = client.post("/v1/match", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return [m["skills"][0] | {"id": m["id"], "score": m["score"]} for m in r.json()["matches"]]


def test_a_graduate_written_with_an_alternative_label_meets_the_skill(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    ent = make_org(client, "enterprise")
    before = {e["id"]: e for e in _cad_evidence(client, ent.headers)}
    assert before["label"]["status"] == "missing"  # the encoder alone does not know these are one skill

    _import(app, tmp_path)
    after = {e["id"]: e for e in _cad_evidence(client, ent.headers)}
    assert after["label"]["status"] == "met"
    assert after["label"]["similarity"] == 1.0
    assert after["label"]["matched"] == "computer-aided design"
    assert after["label"]["same_skill"] == {"skill_id": CAD, "label": "use CAD software"}
    assert after["label"]["score"] > 0.9
    assert after["other"]["status"] == "missing"  # a label of another skill is not a synonym
    assert after["other"]["same_skill"] is None

    # Stored matches: the graduate index reads the same synonyms, and says so in the evidence.
    school = make_org(client, "school")
    grad = make_graduate(client, school, "S-cad", skills=[{"name": "CAD"}, {"name": "cooking"}])
    demand = make_demand(client, ent, skills=[{"name": "use CAD software", "importance": 5}])
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 5}, headers=ent.headers)
    assert r.status_code == 200, r.text
    top = r.json()["matches"][0]
    assert top["graduate_id"] == grad["id"]
    assert top["skills"][0]["status"] == "met"
    assert top["skills"][0]["same_skill"]["skill_id"] == CAD

    # The matches page says why "CAD" met "use CAD software".
    sign_in(client, ent)
    html = client.get(f"/ui/demands/{demand['id']}/matches").text
    assert "matched: CAD (the same skill as “use CAD software” in the taxonomy)" in html


def test_a_course_teaching_an_alternative_label_covers_the_skill(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    ent = make_org(client, "enterprise")
    body = {
        "curriculum": {
            "courses": [
                {"title": "Drafting studio", "learning_outcomes": ["computer-aided design"], "skills": []}
            ]
        },
        "demand": {"skills": [{"name": "use CAD software", "importance": 5}]},
    }

    def line() -> dict[str, Any]:
        r = client.post("/v1/gap-analysis", json=body, headers=ent.headers)
        assert r.status_code == 200, r.text
        return dict(r.json()["skills"][0])

    assert line()["status"] == "gap"
    _import(app, tmp_path)
    covered = line()
    assert covered["status"] == "covered"
    assert covered["evidence"]["matched"] == "computer-aided design"
    assert covered["evidence"]["same_skill"] == {"skill_id": CAD, "label": "use CAD software"}


def test_the_gap_page_says_which_taxonomy_skill_a_course_teaches(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    _import(app, tmp_path)
    ent = make_org(client, "enterprise", region="Hefei")
    school = make_org(client, "school", region="Hefei")
    make_demand(client, ent, skills=[{"name": "use CAD software", "importance": 5}])
    drafting = {"code": "D1", "title": "Drafting studio", "learning_outcomes": ["computer-aided design"]}
    program = make_program(client, school, courses=[drafting])
    sign_in(client, school)
    html = client.get(f"/ui/programs/{program['id']}/gaps").text
    assert "computer-aided design<br><small>the same skill as “use CAD software” in the taxonomy" in html
