from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import Org, make_demand, make_org, make_program

PROBLEM = "application/problem+json"


def gaps(client: TestClient, org: Org, program_id: str, **params: str) -> Any:
    return client.get(f"/v1/programs/{program_id}/gaps", params=params, headers=org.headers)


def line(report: dict[str, Any], skill: str) -> dict[str, Any]:
    found = [s for s in report["skills"] if s["skill"] == skill or skill in s["aliases"]]
    assert len(found) == 1, (skill, [s["skill"] for s in report["skills"]])
    return found[0]


def course(title: str, outcomes: list[str] | None = None, skills: list[str] | None = None) -> dict[str, Any]:
    return {"title": title, "learning_outcomes": outcomes or [], "skills": skills or []}


def skill(name: str, importance: int = 3) -> dict[str, Any]:
    return {"name": name, "importance": importance}


def test_taught_skill_is_covered_with_evidence_and_unrelated_one_is_a_gap(client: TestClient) -> None:
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    program = make_program(
        client,
        school,
        courses=[
            course("Machining workshop", ["operate a CNC lathe"], ["CNC machining"]),
            course("Engineering drawing", ["read and interpret engineering drawings"]),
        ],
    )
    demand = make_demand(
        client, ent, skills=[skill("CNC machining", 5), skill("bookkeeping", 2)], headcount=4
    )
    r = gaps(client, ent, program["id"], demand_id=demand["id"])
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["program_id"] == program["id"]
    assert report["scope"] == {
        "kind": "demand",
        "demand_id": demand["id"],
        "region": None,
        "industry": None,
        "demands": 1,
        "headcount": 4,
    }

    cnc = line(report, "CNC machining")
    assert cnc["status"] == "covered"
    assert cnc["weight"] == 20  # headcount 4 x importance 5
    assert cnc["coverage"] > 0.9
    assert cnc["evidence"]["course_id"] == program["courses"][0]["id"]
    assert cnc["evidence"]["course_title"] == "Machining workshop"
    assert cnc["evidence"]["text"] == "CNC machining"
    assert cnc["nearest_course"] is None

    audit = line(report, "bookkeeping")
    assert audit["status"] == "gap"
    assert audit["evidence"] is None
    assert audit["coverage"] < 0.2
    assert audit["nearest_course"]["course_id"] in {c["id"] for c in program["courses"]}
    assert report["summary"] == {"covered": 1, "partial": 0, "gap": 1}
    # Worst weighted gap first, and one coverage figure: the weight-averaged coverage of the lines.
    assert [s["skill"] for s in report["skills"]] == ["bookkeeping", "CNC machining"]
    expected = (20 * cnc["coverage"] + 8 * audit["coverage"]) / 28
    assert report["coverage"] == pytest.approx(expected, abs=1e-3)


def test_lines_are_ordered_by_weight_times_missing_coverage(client: TestClient) -> None:
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    program = make_program(client, school, courses=[course("Welding practice", skills=["arc welding"])])
    demand = make_demand(
        client,
        ent,
        headcount=2,
        skills=[skill("arc welding", 5), skill("tax law", 1), skill("marketing strategy", 4)],
    )
    report = gaps(client, ent, program["id"], demand_id=demand["id"]).json()
    keys = [s["weight"] * (1 - s["coverage"]) for s in report["skills"]]
    assert keys == sorted(keys, reverse=True)
    assert [s["skill"] for s in report["skills"]][:2] == ["marketing strategy", "tax law"]


def test_weights_add_up_across_the_demands_of_a_region(client: TestClient) -> None:
    school = make_org(client, "school")
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    program = make_program(client, school)
    d1 = make_demand(client, a, headcount=5, skills=[skill("CNC machining", 5), skill("welding", 2)])
    d2 = make_demand(client, b, headcount=2, skills=[skill("CNC machining", 3)])
    make_demand(client, b, headcount=9, region="Wuhu", skills=[skill("CNC machining", 5)])
    make_demand(client, a, headcount=7, industry="logistics", skills=[skill("CNC machining", 5)])

    r = gaps(client, school, program["id"], region="Hefei", industry="manufacturing")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["scope"]["kind"] == "filter"
    assert report["scope"]["region"] == "Hefei"
    assert report["scope"]["demands"] == 2
    assert report["scope"]["headcount"] == 7
    cnc = line(report, "CNC machining")
    assert cnc["weight"] == 5 * 5 + 2 * 3
    assert cnc["headcount"] == 7
    assert sorted(cnc["demand_ids"]) == sorted([d1["id"], d2["id"]])
    assert line(report, "welding")["weight"] == 10

    # Region alone widens the scope to the logistics demand too.
    wider = gaps(client, school, program["id"], region="Hefei").json()
    assert line(wider, "CNC machining")["weight"] == 31 + 35
    # A closed demand leaves the aggregate scope.
    r = client.patch(f"/v1/demands/{d2['id']}", json={"status": "closed"}, headers=b.headers)
    assert r.status_code == 200
    narrowed = gaps(client, school, program["id"], region="Hefei", industry="manufacturing").json()
    assert line(narrowed, "CNC machining")["weight"] == 25


def test_without_filters_the_report_covers_the_schools_own_region_and_says_so(client: TestClient) -> None:
    hefei = make_org(client, "school", "Hefei school", region="Hefei")
    anywhere = make_org(client, "school", "school without a region")
    ent = make_org(client, "enterprise")
    make_demand(client, ent, headcount=5, skills=[skill("CNC machining", 5)])
    make_demand(
        client, ent, headcount=9, region="Wuhu", skills=[skill("CNC machining", 5), skill("welding", 4)]
    )

    report = gaps(client, hefei, make_program(client, hefei)["id"]).json()
    assert report["scope"]["kind"] == "school"
    assert (report["scope"]["region"], report["scope"]["industry"]) == ("Hefei", None)
    assert report["scope"]["demands"] == 1
    assert [s["skill"] for s in report["skills"]] == ["CNC machining"]
    assert line(report, "CNC machining")["weight"] == 25
    # An empty filter is no filter.
    assert (
        gaps(client, hefei, make_program(client, hefei)["id"], region="").json()["scope"]["kind"] == "school"
    )

    # A school without a region is shown every open demand, and the scope says "any region".
    report = gaps(client, anywhere, make_program(client, anywhere)["id"]).json()
    assert report["scope"]["kind"] == "school"
    assert report["scope"]["region"] is None
    assert report["scope"]["demands"] == 2
    assert line(report, "CNC machining")["weight"] == 25 + 45


def test_scope_is_one_demand_or_filters_not_both(client: TestClient) -> None:
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    program = make_program(client, school)
    demand = make_demand(client, ent)
    for params in (
        {"demand_id": demand["id"], "region": "Hefei"},
        {"region": "He\x00fei"},
        {"region": "x" * 201},
    ):
        r = gaps(client, ent, program["id"], **params)
        assert r.status_code == 422, params
        assert r.headers["content-type"].startswith(PROBLEM)
    assert gaps(client, ent, program["id"], industry="manufacturing").status_code == 200


def test_unknown_or_unreadable_programme_or_demand_is_404(client: TestClient) -> None:
    school = make_org(client, "school")
    owner = make_org(client, "enterprise", "owner")
    other = make_org(client, "enterprise", "other")
    program = make_program(client, school)
    demand = make_demand(client, owner)
    missing = str(uuid.uuid4())
    assert gaps(client, owner, missing, demand_id=demand["id"]).status_code == 404
    assert gaps(client, owner, "not-a-uuid", region="Hefei").status_code == 404
    r = gaps(client, owner, program["id"], demand_id=missing)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    r = client.patch(f"/v1/demands/{demand['id']}", json={"status": "closed"}, headers=owner.headers)
    assert r.status_code == 200
    # A closed demand is private to its owner: others get 404, the owner its report.
    assert gaps(client, other, program["id"], demand_id=demand["id"]).status_code == 404
    assert gaps(client, school, program["id"], demand_id=demand["id"]).status_code == 404
    assert gaps(client, owner, program["id"], demand_id=demand["id"]).status_code == 200


def test_government_reads_no_stored_programme_but_may_run_the_stateless_analysis(
    client: TestClient,
) -> None:
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    gov = make_org(client, "government")
    program = make_program(client, school)
    demand = make_demand(client, ent)
    r = gaps(client, gov, program["id"], demand_id=demand["id"])
    assert r.status_code == 403
    assert gaps(client, gov, program["id"], region="Hefei").status_code == 403
    body = {"curriculum": {"courses": [course("CNC practice")]}, "demand": {"skills": [skill("CNC")]}}
    assert client.post("/v1/gap-analysis", json=body, headers=gov.headers).status_code == 200
    assert client.post("/v1/gap-analysis", json=body).status_code == 401


def test_programme_without_courses_reports_every_demanded_skill_as_a_gap(client: TestClient) -> None:
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    program = make_program(client, school, courses=[])
    demand = make_demand(client, ent)
    r = gaps(client, school, program["id"], demand_id=demand["id"])
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["coverage"] == 0
    assert len(report["skills"]) == 4
    assert all(s["status"] == "gap" and s["evidence"] is None for s in report["skills"])
    assert all(s["nearest_course"] is None for s in report["skills"])
    # Most weight first when nothing is covered.
    assert [s["weight"] for s in report["skills"]] == [25, 20, 15, 10]


def test_region_without_open_demands_gives_an_empty_report(client: TestClient) -> None:
    school = make_org(client, "school")
    program = make_program(client, school)
    report = gaps(client, school, program["id"], region="Nowhere").json()
    assert report["skills"] == []
    assert report["coverage"] == 0
    assert report["scope"]["demands"] == 0


def _cached_phrases(app: Any) -> int:
    from sqlalchemy import func, select

    from service.orm import PhraseEmbedding

    with app.state.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(PhraseEmbedding)) or 0)


def test_stateless_analysis_has_the_same_shape(client: TestClient, app: Any) -> None:
    ent = make_org(client, "enterprise")
    cached = _cached_phrases(app)
    body = {
        "curriculum": {
            "courses": [
                course("Machining workshop", ["write G-code programs"], ["CNC machining"]),
                course("Drawing", ["read engineering drawings"]),
            ]
        },
        "demand": {"headcount": 3, "skills": [skill("CNC machining", 5), skill("payroll accounting", 2)]},
    }
    r = client.post("/v1/gap-analysis", json=body, headers=ent.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["program_id"] is None
    assert report["scope"]["kind"] == "request"
    assert report["scope"]["headcount"] == 3
    cnc = line(report, "CNC machining")
    assert cnc["status"] == "covered"
    assert cnc["weight"] == 15
    assert cnc["evidence"]["course_id"] is None
    assert cnc["evidence"]["course_index"] == 0
    assert cnc["evidence"]["course_title"] == "Machining workshop"
    payroll = line(report, "payroll accounting")
    assert payroll["status"] == "gap"
    assert payroll["nearest_course"]["course_index"] in (0, 1)
    assert [s["skill"] for s in report["skills"]] == ["payroll accounting", "CNC machining"]
    # Nothing was stored: no demand, and none of the phrases in the phrase cache.
    assert client.get("/v1/demands", headers=ent.headers).json()["items"] == []
    assert _cached_phrases(app) == cached


def test_stateless_analysis_rejects_bad_bodies(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    demand = {"skills": [skill("CNC machining")]}
    bad = [
        {"curriculum": {"courses": []}, "demand": demand},
        {"curriculum": {}, "demand": demand},
        {"curriculum": {"courses": [course("x")]}, "demand": {"skills": []}},
        {"curriculum": {"courses": [course("x")]}, "demand": demand, "program_id": "p"},
        {"curriculum": {"courses": [{**course("x"), "teacher": "Li"}]}, "demand": demand},
        {"curriculum": {"courses": [course("x")]}, "demand": {**demand, "region": "Hefei"}},
        {"curriculum": {"courses": [course("x")]}, "demand": {"skills": [{"name": "x", "importance": 9}]}},
    ]
    for body in bad:
        r = client.post("/v1/gap-analysis", json=body, headers=ent.headers)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["errors"]


def test_chinese_outcomes_and_demand(client: TestClient) -> None:
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    program = make_program(
        client,
        school,
        courses=[
            course("电气控制与PLC", ["能够完成PLC编程与调试", "识读电气原理图"], ["PLC编程"]),
            course("机械制图", ["能够识读机械零件图"]),
        ],
    )
    demand = make_demand(
        client,
        ent,
        title="自动化产线运维",
        skills=[skill("PLC编程", 5), skill("机械制图识读", 3), skill("财务审计", 2)],
    )
    report = gaps(client, ent, program["id"], demand_id=demand["id"]).json()
    plc = line(report, "PLC编程")
    assert plc["status"] == "covered"
    assert plc["evidence"]["course_title"] == "电气控制与PLC"
    assert line(report, "机械制图识读")["status"] in ("covered", "partial")
    audit = line(report, "财务审计")
    assert audit["status"] == "gap"
    assert report["skills"][0]["skill"] == "财务审计"


def test_program_gaps_is_callable_by_other_domains(client: TestClient, app: Any) -> None:
    """``service.gaps.service.program_gaps`` (used for a training order's curriculum additions)."""
    from service.gaps.service import program_gaps
    from service.orm import Demand, Program

    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    p = make_program(client, school)
    d = make_demand(client, ent)
    with app.state.read_sessions() as session:
        report = program_gaps(
            session, app.state.encoder, session.get(Program, p["id"]), [session.get(Demand, d["id"])]
        )
    assert report["program_id"] == p["id"]
    assert report["scope"]["kind"] == "demand"
    assert {s["skill"] for s in report["skills"]} == {s["name"] for s in d["skills"]}
    assert [s["skill"] for s in report["skills"] if s["status"] == "gap"] == ["quality inspection"]


# -- on the real encoder: paraphrases, grouping, Chinese ---------------------------------------------


@pytest.mark.real_encoder
def test_paraphrase_is_covered_or_partial_unrelated_is_a_gap(real_client: TestClient) -> None:
    client = real_client
    school = make_org(client, "school")
    ent = make_org(client, "enterprise")
    program = make_program(
        client,
        school,
        courses=[
            course(
                "Machining technology",
                ["Students will be able to set up and run CNC lathes and milling machines"],
            ),
            course("Technical drawing", ["Interpret technical blueprints and tolerances"]),
        ],
    )
    demand = make_demand(
        client,
        ent,
        skills=[
            skill("CNC machining", 5),
            skill("operate CNC machines", 4),
            skill("read engineering drawings", 4),
            skill("bookkeeping", 3),
            skill("social media marketing", 2),
        ],
    )
    report = gaps(client, ent, program["id"], demand_id=demand["id"]).json()
    for paraphrase in ("operate CNC machines", "CNC machining"):
        assert line(report, paraphrase)["status"] in ("covered", "partial"), paraphrase
        assert line(report, paraphrase)["evidence"]["course_title"] == "Machining technology"
    drawings = line(report, "read engineering drawings")
    assert drawings["status"] in ("covered", "partial")
    assert drawings["evidence"]["course_title"] == "Technical drawing"
    for unrelated in ("bookkeeping", "social media marketing"):
        assert line(report, unrelated)["status"] == "gap", unrelated
    assert report["skills"][0]["skill"] == "bookkeeping"


@pytest.mark.real_encoder
def test_grouping_merges_paraphrases_across_demands(real_client: TestClient) -> None:
    client = real_client
    school = make_org(client, "school")
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    program = make_program(client, school, courses=[course("Welding", ["MIG and TIG welding of steel"])])
    make_demand(client, a, headcount=3, skills=[skill("PLC programming", 4), skill("welding", 3)])
    make_demand(client, b, headcount=2, skills=[skill("programming PLCs", 5), skill("Python", 2)])
    report = gaps(client, school, program["id"], region="Hefei").json()
    plc = line(report, "PLC programming")
    assert {plc["skill"], *plc["aliases"]} == {"PLC programming", "programming PLCs"}
    assert plc["weight"] == 3 * 4 + 2 * 5
    assert plc["headcount"] == 5
    assert plc["status"] == "gap"
    assert line(report, "welding")["aliases"] == []
    assert line(report, "welding")["status"] == "covered"
    assert line(report, "Python")["aliases"] == []
    assert len(report["skills"]) == 3
    # One demand at a time, nothing is merged.
    single = client.post(
        "/v1/gap-analysis",
        json={
            "curriculum": {"courses": [course("Welding")]},
            "demand": {"skills": [skill("PLC programming"), skill("programming PLCs")]},
        },
        headers=a.headers,
    ).json()
    assert len(single["skills"]) == 2


@pytest.mark.real_encoder
def test_grouping_keeps_related_but_different_skills_apart(real_client: TestClient) -> None:
    client = real_client
    school = make_org(client, "school")
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    program = make_program(client, school, courses=[course("Welding", ["MIG and TIG welding of steel"])])
    make_demand(client, a, headcount=3, skills=[skill("PLC programming", 5), skill("welding", 3)])
    make_demand(
        client, b, headcount=2, skills=[skill("industrial robot programming", 4), skill("soldering", 3)]
    )
    report = gaps(client, school, program["id"], region="Hefei").json()
    assert sorted(s["skill"] for s in report["skills"]) == [
        "PLC programming",
        "industrial robot programming",
        "soldering",
        "welding",
    ]
    assert all(s["aliases"] == [] for s in report["skills"])
    assert line(report, "PLC programming")["weight"] == 15  # PLC's weight is its own, not merged away


@pytest.mark.real_encoder
def test_grouping_keeps_the_skills_one_demand_lists_apart(real_client: TestClient) -> None:
    # An occupation's essential skills are often close wordings of different skills; the demand that
    # lists them separately says they are different, in a region's report as in its own.
    client = real_client
    school = make_org(client, "school")
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    program = make_program(client, school, courses=[course("Welding", ["making welds"])])
    make_demand(
        client,
        a,
        headcount=3,
        skills=[
            skill("perform MIG welding", 4),
            skill("perform TIG welding", 4),
            skill("welding techniques", 3),
        ],
    )
    make_demand(client, b, headcount=2, skills=[skill("TIG welding", 5)])
    report = gaps(client, school, program["id"], region="Hefei").json()
    lines = {s["skill"]: s["aliases"] for s in report["skills"]}
    assert lines == {
        "perform MIG welding": [],
        "perform TIG welding": ["TIG welding"],  # another demand's wording of it joins its line
        "welding techniques": [],
    }
    assert line(report, "perform TIG welding")["weight"] == 3 * 4 + 2 * 5


@pytest.mark.real_encoder
def test_chinese_on_the_real_encoder(real_client: TestClient) -> None:
    client = real_client
    ent = make_org(client, "enterprise")
    body = {
        "curriculum": {
            "courses": [
                course("电气控制与PLC", ["学生能够完成西门子PLC编程，并调试自动化生产线"]),
                course("机械制图", ["能够识读机械零件图和装配图"]),
            ]
        },
        "demand": {"skills": [skill("PLC编程", 5), skill("调试自动化生产线", 4), skill("财务审计", 3)]},
    }
    report = client.post("/v1/gap-analysis", json=body, headers=ent.headers).json()
    plc = line(report, "PLC编程")
    assert plc["status"] in ("covered", "partial")
    assert plc["evidence"]["text"] == "学生能够完成西门子PLC编程，并调试自动化生产线"
    assert line(report, "调试自动化生产线")["status"] == "covered"
    assert line(report, "财务审计")["status"] == "gap"
