"""/v1/occupations: normalize noisy job titles, autocomplete, one occupation; any member may call."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders import Org, make_org
from tests.occupations.conftest import import_esco_sample

CROSSING_GUARD = "http://data.europa.eu/esco/occupation/12da0bb1-26c8-46eb-9476-797f4f1c441e"


def _normalize(client: TestClient, org: Org, texts: list[str], **extra: object) -> list[dict]:
    r = client.post("/v1/occupations/normalize", json={"texts": texts, **extra}, headers=org.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_noisy_chinese_titles_find_their_occupation(csco: TestClient, member: Org) -> None:
    results = _normalize(csco, member, ["浩宇广告招聘奶茶店店员", "数控车床操作工 包吃住 6000元/月", "铣工"])
    first = results[0]
    assert first["text"] == "浩宇广告招聘奶茶店店员"
    top = first["occupations"][0]
    assert top == {
        "occupation_id": "4-03-02-05",
        "code": "4-03-02-05",
        "label": "餐厅服务员",
        "taxonomy": "csco",
        "score": 1.0,
        "matched_label": "奶茶店店员",
    }
    assert results[1]["occupations"][0]["occupation_id"] == "6-18-01-01"
    assert results[2]["occupations"][0]["label"] == "铣工"
    scores = [o["score"] for o in results[1]["occupations"]]
    assert scores == sorted(scores, reverse=True)
    assert len(results[1]["occupations"]) == 4  # every detailed occupation; groups are no candidates


def test_top_k_and_taxonomy_filter(csco: TestClient, app: FastAPI, member: Org) -> None:
    (result,) = _normalize(csco, member, ["车工"], top_k=2, taxonomy="csco")
    assert len(result["occupations"]) == 2
    (none,) = _normalize(csco, member, ["车工"], taxonomy="esco")
    assert none["occupations"] == []


def test_normalize_validation(csco: TestClient, member: Org) -> None:
    bodies: list[dict[str, object]] = [
        {"texts": []},
        {"texts": ["x"] * 101},
        {"texts": ["车工"], "top_k": 0},
        {"texts": ["车工"], "top_k": 21},
        {"texts": ["车工"], "taxonomy": "isco"},
        {"texts": ["车工"], "unknown": 1},
        {"texts": [""]},
    ]
    for body in bodies:
        r = csco.post("/v1/occupations/normalize", json=body, headers=member.headers)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"]


def test_every_member_kind_may_call_and_keys_are_required(csco: TestClient) -> None:
    body = {"texts": ["车工"]}
    assert csco.post("/v1/occupations/normalize", json=body).status_code == 401
    assert csco.get("/v1/occupations", params={"q": "车"}).status_code == 401
    for kind in ("enterprise", "school", "government", "research_institute"):
        org = make_org(csco, kind, f"{kind} one")
        assert csco.post("/v1/occupations/normalize", json=body, headers=org.headers).status_code == 200
        assert csco.get("/v1/occupations/6-18-01-01", headers=org.headers).status_code == 200


def test_without_an_imported_classification_titles_get_no_occupations(
    client: TestClient, member: Org
) -> None:
    (result,) = _normalize(client, member, ["车工"])
    assert result["occupations"] == []
    assert client.get("/v1/occupations", headers=member.headers).json() == {"items": [], "next_cursor": None}


def test_autocomplete_and_pages(csco: TestClient, member: Org) -> None:
    r = csco.get("/v1/occupations", params={"q": "数控"}, headers=member.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert {i["occupation_id"] for i in items[:2]} == {"6-18-01-01", "6-18-01-02"}
    assert items[0]["matched_label"].startswith("数控")
    assert r.json()["next_cursor"] is None

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "taxonomy": "csco"}
        if cursor:
            params["cursor"] = cursor
        page = csco.get("/v1/occupations", params=params, headers=member.headers).json()
        seen.extend(i["occupation_id"] for i in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 8 == len(set(seen))
    assert seen == sorted(seen)
    bad = csco.get("/v1/occupations", params={"cursor": "!!"}, headers=member.headers)
    assert bad.status_code == 422


def test_one_csco_occupation_with_its_tasks(csco: TestClient, member: Org) -> None:
    r = csco.get("/v1/occupations/6-18-01-01", headers=member.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["label"] == "车工"
    assert body["definition"] == "操作车床，进行工件旋转表面切削加工的人员。"
    assert body["tasks"][1] == "选择、刃磨、安装刀具"
    assert body["level"] == 4 and body["broader"] == "6-18-01-00"
    assert body["essential_skills"] == []
    missing = csco.get("/v1/occupations/9-99-99-99", headers=member.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_one_esco_occupation_with_its_skills(client: TestClient, app: FastAPI, member: Org) -> None:
    import_esco_sample(app)
    r = client.get(f"/v1/occupations/{quote(CROSSING_GUARD, safe='')}", headers=member.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["label"] == "crossing guard"
    assert body["taxonomy"] == "esco"
    assert body["code"] == "5419.4"
    assert body["essential_skills"] and all(s["label"] for s in body["essential_skills"])
    assert body["optional_skills"]
    by_code = client.get("/v1/occupations/5419.4", headers=member.headers)
    assert by_code.json()["occupation_id"] == CROSSING_GUARD
    (result,) = _normalize(client, member, ["School Crossing Guard (PART TIME)"], taxonomy="esco")
    assert result["occupations"][0]["occupation_id"] == CROSSING_GUARD
