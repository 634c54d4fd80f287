"""POST /v1/demands with an occupation (or a title alone) and no skills: the occupation's skills are
proposed, marked inferred, for the enterprise to edit."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders import Org
from tests.occupations.conftest import import_esco_sample
from tests.ui.support import page_token, sign_in

CROSSING_GUARD = "http://data.europa.eu/esco/occupation/12da0bb1-26c8-46eb-9476-797f4f1c441e"


def _post(client: TestClient, org: Org, **body: object) -> dict:
    r = client.post("/v1/demands", json={"headcount": 2, **body}, headers=org.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_csco_occupation_proposes_its_tasks(csco: TestClient, member: Org) -> None:
    demand = _post(csco, member, title="数控车工", occupation_id="6-18-01-01")
    assert demand["occupation_id"] == "6-18-01-01"
    names = [s["name"] for s in demand["skills"]]
    assert names[:2] == ["安装夹具，调整车床，找正、定位与装夹工件", "选择、刃磨、安装刀具"]
    assert all(s["inferred"] for s in demand["skills"])
    # The enterprise edits them: its own skills are not inferred.
    r = csco.patch(
        f"/v1/demands/{demand['id']}",
        json={"skills": [{"name": names[0]}, {"name": "数控编程", "importance": 5}]},
        headers=member.headers,
    )
    assert r.status_code == 200, r.text
    assert [(s["name"], s["inferred"]) for s in r.json()["skills"]] == [
        (names[0], False),
        ("数控编程", False),
    ]
    assert r.json()["occupation_id"] == "6-18-01-01"


def test_a_title_alone_names_the_occupation(csco: TestClient, member: Org) -> None:
    demand = _post(csco, member, title="浩宇广告招聘奶茶店店员")
    assert demand["occupation_id"] == "4-03-02-05"
    assert [s["name"] for s in demand["skills"]] == ["迎送宾客", "为顾客点餐、上菜"]
    assert all(s["inferred"] for s in demand["skills"])


def test_given_skills_are_kept_and_the_occupation_recorded(csco: TestClient, member: Org) -> None:
    demand = _post(csco, member, title="车工", occupation_id="6-18-01-01", skills=[{"name": "CNC"}])
    assert [(s["name"], s["inferred"]) for s in demand["skills"]] == [("CNC", False)]
    assert demand["occupation_id"] == "6-18-01-01"


def test_an_unknown_occupation_or_an_unrecognised_title_is_422(csco: TestClient, member: Org) -> None:
    r = csco.post(
        "/v1/demands",
        json={"title": "车工", "headcount": 1, "occupation_id": "9-99-99-99"},
        headers=member.headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "occupation_id"]
    r = csco.post("/v1/demands", json={"title": "Zzxq", "headcount": 1}, headers=member.headers)
    assert r.status_code == 422
    assert "occupation_id" in r.json()["detail"]
    assert csco.get("/v1/demands", headers=member.headers).json()["items"] == []


def test_an_esco_occupation_proposes_its_essential_skills(
    client: TestClient, app: FastAPI, member: Org
) -> None:
    import_esco_sample(app)
    essential = client.get("/v1/occupations/5419.4", headers=member.headers).json()["essential_skills"]
    demand = _post(client, member, title="School crossing guard", occupation_id=CROSSING_GUARD)
    skills = demand["skills"]
    assert [s["skill_id"] for s in skills] == [s["skill_id"] for s in essential][: len(skills)]
    assert [s["name"] for s in skills] == [s["label"] for s in essential][: len(skills)]
    assert all(s["inferred"] and s["importance"] == 4 for s in skills)


def test_the_demand_page_suggests_the_occupation_of_its_title(csco: TestClient, member: Org) -> None:
    sign_in(csco, member)
    path = "/ui/demands/new"
    form = {"title": "浩宇广告招聘奶茶店店员", "headcount": "2", "skills": "收银", "suggest": "1"}
    r = csco.post(path, data={**form, "csrf_token": page_token(csco, path)}, follow_redirects=False)
    assert r.status_code == 200, r.text
    textarea = r.text.split("<textarea", 2)[-1].split("</textarea>")[0]
    # The enterprise's own line first, then the tasks of 餐厅服务员 (the occupation the title names).
    assert textarea.index("收银") < textarea.index("迎送宾客") < textarea.index("为顾客点餐、上菜")
    assert csco.get("/v1/demands", headers=member.headers).json()["items"] == []
