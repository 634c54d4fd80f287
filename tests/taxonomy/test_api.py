"""/v1/skills: normalize, autocomplete and extract against the imported ESCO sample."""

from __future__ import annotations

import csv
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.orm import PhraseEmbedding
from tests.builders import Org, make_org
from tests.taxonomy.conftest import ESCO_SAMPLE, import_esco

READ_ASSEMBLY = "http://data.europa.eu/esco/skill/2feeef46-05cf-445c-9ca1-c96a30e10106"
USE_CAD = "use CAD software"


def _skill_id(label: str) -> str:
    with (ESCO_SAMPLE / "skills_en.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["preferredLabel"] == label:
                return row["conceptUri"]
    raise AssertionError(label)


def _normalize(client: TestClient, org: Org, texts: list[str], **extra: object) -> list[dict]:
    r = client.post("/v1/skills/normalize", json={"texts": texts, **extra}, headers=org.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_normalize_recognises_preferred_and_alternative_labels(esco: TestClient, member: Org) -> None:
    results = _normalize(
        esco, member, ["read assembly drawings", "Interpreting  Assembly Drawings", "use Dbs"]
    )
    for result in results[:2]:
        top = result["candidates"][0]
        assert top["skill_id"] == READ_ASSEMBLY
        assert top["label"] == "read assembly drawings"
        assert top["score"] == 1.0
    assert results[1]["candidates"][0]["matched_label"] == "interpreting assembly drawings"
    # "use Dbs" is an alternative label of "use databases".
    assert results[2]["candidates"][0]["label"] == "use databases"
    assert results[2]["text"] == "use Dbs"


def test_normalize_ranks_near_matches_and_respects_top_k(esco: TestClient, member: Org) -> None:
    (result,) = _normalize(esco, member, ["reading of assembly drawing"], top_k=3)
    candidates = result["candidates"]
    assert len(candidates) == 3
    assert candidates[0]["skill_id"] == READ_ASSEMBLY
    assert 0.5 < candidates[0]["score"] < 1.0
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert len({c["skill_id"] for c in candidates}) == 3


def test_normalize_handles_chinese_and_mixed_text(client: TestClient, app: FastAPI, tmp_path: Path) -> None:
    """A taxonomy with Chinese labels (same official CSV format) recognises Chinese and mixed input
    through the lexical channel; Latin tool names inside Chinese text still match."""
    folder = tmp_path / "local"
    folder.mkdir()
    header = ["conceptType", "conceptUri", "skillType", "preferredLabel", "altLabels", "description"]
    rows = [
        [
            "KnowledgeSkillCompetence",
            "urn:x:cnc",
            "skill/competence",
            "数控加工",
            "数控机床操作\nCNC machining",
            "",
        ],
        ["KnowledgeSkillCompetence", "urn:x:weld", "skill/competence", "焊接", "电焊\n焊接工艺", ""],
        ["KnowledgeSkillCompetence", "urn:x:cad", "skill/competence", "use CAD software", "CAD制图", ""],
        ["KnowledgeSkillCompetence", "urn:x:plc", "skill/competence", "PLC编程", "PLC programming", ""],
    ]
    with (folder / "skills_en.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    import_esco(app, folder, version="local-1")
    org = make_org(client, "school", "Hefei Tech")
    results = _normalize(client, org, ["数控机床加工", "熟练使用CAD软件制图", "西门子PLC编程", "焊接工艺"])
    assert [r["candidates"][0]["skill_id"] for r in results] == [
        "urn:x:cnc",
        "urn:x:cad",
        "urn:x:plc",
        "urn:x:weld",
    ]
    assert results[3]["candidates"][0]["score"] == 1.0  # an alternative label, exactly


def test_normalize_limits_are_422(esco: TestClient, member: Org) -> None:
    def post(body: dict) -> int:
        return esco.post("/v1/skills/normalize", json=body, headers=member.headers).status_code

    assert post({"texts": ["x"] * 101}) == 422
    assert post({"texts": ["x" * 2001]}) == 422
    assert post({"texts": ["x" * 2000]}) == 200
    assert post({"texts": []}) == 422
    assert post({"texts": ["x"], "top_k": 0}) == 422
    assert post({"texts": ["x"], "top_k": 21}) == 422
    assert post({"texts": ["x"], "language": "en"}) == 422
    r = esco.post("/v1/skills/normalize", json={"texts": ["x"] * 101}, headers=member.headers)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert esco.post("/v1/skills/normalize", json={"texts": ["x"]}).status_code == 401


def test_normalize_without_a_taxonomy_returns_no_candidates(client: TestClient, member: Org) -> None:
    r = client.post("/v1/skills/normalize", json={"texts": ["CAD"]}, headers=member.headers)
    assert r.status_code == 200
    assert r.json() == {"results": [{"text": "CAD", "candidates": []}], "taxonomy_version": None}


def test_autocomplete_prefix_then_semantic(esco: TestClient, member: Org) -> None:
    r = esco.get("/v1/skills", params={"q": "use C", "limit": 5}, headers=member.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert items[0]["label"] == USE_CAD and items[0]["match"] == "prefix"
    assert r.json()["next_cursor"] is None
    # An alternative label's prefix finds the skill under its preferred label.
    r = esco.get("/v1/skills", params={"q": "map interp"}, headers=member.headers)
    assert r.json()["items"][0]["label"] == "read maps"
    assert r.json()["items"][0]["matched_label"] == "map interpreting"
    # No label starts with this: neighbours by meaning and form.
    r = esco.get("/v1/skills", params={"q": "drawings of assemblies", "limit": 5}, headers=member.headers)
    items = r.json()["items"]
    assert any(i["skill_id"] == READ_ASSEMBLY and i["match"] == "semantic" for i in items)
    assert len(items) <= 5


def test_skill_list_pages_through_the_whole_taxonomy(esco: TestClient, member: Org) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        r = esco.get("/v1/skills", params=params, headers=member.headers)
        assert r.status_code == 200
        body = r.json()
        seen.extend(i["skill_id"] for i in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 514
    assert esco.get("/v1/skills", params={"cursor": "%%%"}, headers=member.headers).status_code == 422


JOB_AD = """About us
Hefei Precision Parts is a leading supplier of machined components, founded in 1998. We are committed to
guaranteeing customer satisfaction and we communicate with customers in 30 countries.

Responsibilities
- Read assembly drawings and use CAD software to prepare production prototypes.
- Operate soldering equipment; check for solder defects before shipping.

Requirements:
- Experience with precision tools such as micrometers.

Benefits: competitive salary, health insurance and paid time off.
We are an equal opportunity employer: all applicants are considered without regard to race, religion,
disability or veteran status, and we protect vulnerable social service users' rights.
"""


def test_extract_finds_the_skills_and_their_sentences_but_not_boilerplate(
    esco: TestClient, member: Org
) -> None:
    r = esco.post("/v1/skills/extract", json={"text": JOB_AD}, headers=member.headers)
    assert r.status_code == 200, r.text
    skills = {s["label"]: s for s in r.json()["skills"]}
    for label in (
        "read assembly drawings",
        USE_CAD,
        "operate soldering equipment",
        "check for solder defects",
    ):
        assert label in skills, (label, sorted(skills))
    assert (
        skills[USE_CAD]["evidence"]
        == "Read assembly drawings and use CAD software to prepare production prototypes."
    )
    assert skills["check for solder defects"]["evidence"] == "check for solder defects before shipping."
    assert skills["operate soldering equipment"]["evidence"] == "Operate soldering equipment;"
    assert skills["read assembly drawings"]["score"] == 1.0
    assert "use precision tools" in skills
    # The blurb names customer skills and the equal-opportunity statement social-care ones: neither counts.
    for label in (
        "guarantee customer satisfaction",
        "communicate with customers",
        "protect vulnerable social service users",
    ):
        assert label not in skills
    for skill in skills.values():
        assert "equal opportunity" not in skill["evidence"] and "founded" not in skill["evidence"]
        assert 0.5 <= skill["score"] <= 1.0


def test_the_same_phrase_counts_outside_boilerplate(esco: TestClient, member: Org) -> None:
    text = "You will communicate with customers and guarantee customer satisfaction."
    r = esco.post("/v1/skills/extract", json={"text": text}, headers=member.headers)
    labels = {s["label"] for s in r.json()["skills"]}
    assert {"communicate with customers", "guarantee customer satisfaction"} <= labels


def test_extract_limits(esco: TestClient, member: Org) -> None:
    post = esco.post
    assert post("/v1/skills/extract", json={"text": "x" * 20_001}, headers=member.headers).status_code == 422
    assert post("/v1/skills/extract", json={"text": ""}, headers=member.headers).status_code == 422
    assert (
        post("/v1/skills/extract", json={"text": "a", "max_skills": 0}, headers=member.headers).status_code
        == 422
    )
    r = post("/v1/skills/extract", json={"text": JOB_AD, "max_skills": 2}, headers=member.headers)
    assert len(r.json()["skills"]) == 2


def test_typed_skills_gain_canonical_ids_from_alternative_labels(
    esco: TestClient, app: FastAPI, member: Org
) -> None:
    body = {
        "title": "Fitter",
        "headcount": 2,
        "skills": [
            {"name": "Interpreting assembly drawings", "importance": 5},
            {"name": "reading of assembly drawing"},
            {"name": "underwater basket weaving"},
        ],
    }
    r = esco.post("/v1/demands", json=body, headers=member.headers)
    assert r.status_code == 201, r.text
    skills = r.json()["skills"]
    assert skills[0]["name"] == "Interpreting assembly drawings"  # the user's text is kept
    assert skills[0]["skill_id"] == READ_ASSEMBLY
    assert skills[1]["skill_id"] == READ_ASSEMBLY  # a confident near-match
    assert skills[2]["skill_id"] is None
    # Names compared with the taxonomy are embedded once and kept for the matcher.
    with app.state.read_sessions() as session:
        cached = set(session.scalars(select(PhraseEmbedding.text)))
    assert {"reading of assembly drawing", "underwater basket weaving"} <= cached
    school = make_org(esco, "school", "Hefei Tech")
    r = esco.post(
        "/v1/graduates",
        json={"external_ref": "S-1", "skills": [{"name": "use of CAD software", "level": 4}]},
        headers=school.headers,
    )
    assert r.status_code == 201
    assert r.json()["skills"][0]["skill_id"] == _skill_id(USE_CAD)


def test_a_demand_can_be_posted_from_a_description_alone(esco: TestClient, member: Org) -> None:
    r = esco.post(
        "/v1/demands",
        json={"title": "Electronics assembler", "headcount": 3, "description": JOB_AD},
        headers=member.headers,
    )
    assert r.status_code == 201, r.text
    skills = r.json()["skills"]
    names = {s["name"] for s in skills}
    assert {"read assembly drawings", USE_CAD, "operate soldering equipment"} <= names
    assert "guarantee customer satisfaction" not in names
    assert all(s["inferred"] and s["skill_id"] for s in skills)
    # Explicit skills are never marked inferred.
    explicit = esco.post(
        "/v1/demands",
        json={"title": "x", "headcount": 1, "description": JOB_AD, "skills": [{"name": "bend wire"}]},
        headers=member.headers,
    ).json()["skills"]
    assert [(s["name"], s["inferred"]) for s in explicit] == [("bend wire", False)]


def test_a_demand_needs_skills_or_a_description_that_names_some(esco: TestClient, member: Org) -> None:
    r = esco.post("/v1/demands", json={"title": "x", "headcount": 1}, headers=member.headers)
    assert r.status_code == 422
    r = esco.post(
        "/v1/demands",
        json={"title": "x", "headcount": 1, "description": "We are a great team in a nice city."},
        headers=member.headers,
    )
    assert r.status_code == 422
    assert "No taxonomy skill could be inferred" in r.json()["detail"]
    assert esco.get("/v1/demands", headers=member.headers).json()["items"] == []


def test_versions_name_the_taxonomy_in_force(esco: TestClient, member: Org) -> None:
    r = esco.get("/v1/skills/versions", headers=member.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["current"] == "esco@v1.1.1"
    assert [(i["source"], i["version"], i["skills"]) for i in body["imports"]] == [("esco", "v1.1.1", 514)]
    r = esco.post("/v1/skills/normalize", json={"texts": ["bend wire"]}, headers=member.headers)
    assert r.json()["taxonomy_version"] == "esco@v1.1.1"


def test_a_lone_common_word_does_not_name_a_longer_skill(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "esco"
    folder.mkdir()
    with (folder / "skills_en.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["conceptUri", "skillType", "preferredLabel", "altLabels", "description"])
        writer.writerow(["urn:x:sap", "knowledge", "SAP Maintenance", "", ""])
        writer.writerow(["urn:x:maps", "skill/competence", "read maps", "", ""])
    import_esco(app, folder, version="t")
    org = make_org(client, "enterprise")
    (result,) = _normalize(client, org, ["maintenance"])
    assert result["candidates"][0]["skill_id"] == "urn:x:sap"
    assert result["candidates"][0]["score"] >= 0.5  # a close candidate when asked about the word alone
    r = client.post(
        "/v1/skills/extract", json={"text": "Advise on system design or maintenance."}, headers=org.headers
    )
    assert r.json()["skills"] == []
    r = client.post("/v1/skills/extract", json={"text": "Run SAP maintenance orders."}, headers=org.headers)
    assert [s["skill_id"] for s in r.json()["skills"]] == ["urn:x:sap"]
