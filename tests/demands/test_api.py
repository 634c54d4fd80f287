from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import demand_body, make_demand, make_org


def _count(client: TestClient, headers: dict[str, str]) -> int:
    return len(client.get("/v1/demands?limit=100", headers=headers).json()["items"])


def test_enterprise_posts_demand_and_reads_it_back(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    r = client.post("/v1/demands", json=demand_body(), headers=ent.headers)
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "open"
    assert body["version"] == 1
    assert body["organization_id"] == ent.id
    assert r.headers["ETag"] == '"1"'
    assert body["skills"][0]["name"] == "CNC machining"
    assert body["skills"][0]["required"] is True
    assert body["skills"][1]["importance"] == 4
    got = client.get(f"/v1/demands/{body['id']}", headers=ent.headers)
    assert got.status_code == 200
    assert got.json() == body


def test_research_institute_may_post_school_may_not(client: TestClient) -> None:
    ri = make_org(client, "research_institute")
    assert client.post("/v1/demands", json=demand_body(), headers=ri.headers).status_code == 201
    school = make_org(client, "school")
    r = client.post("/v1/demands", json=demand_body(), headers=school.headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    gov = make_org(client, "government")
    assert client.post("/v1/demands", json=demand_body(), headers=gov.headers).status_code == 403
    assert client.get("/v1/demands", headers=gov.headers).status_code == 403


def test_other_enterprise_sees_open_demands_but_cannot_change_them(client: TestClient) -> None:
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    d = make_demand(client, a)
    assert client.get(f"/v1/demands/{d['id']}", headers=b.headers).status_code == 200
    assert client.patch(f"/v1/demands/{d['id']}", json={"title": "x"}, headers=b.headers).status_code == 404
    assert client.delete(f"/v1/demands/{d['id']}", headers=b.headers).status_code == 404
    # A closed demand is private to its owner.
    r = client.patch(f"/v1/demands/{d['id']}", json={"status": "closed"}, headers=a.headers)
    assert r.status_code == 200
    assert r.json()["version"] == 2
    assert client.get(f"/v1/demands/{d['id']}", headers=b.headers).status_code == 404
    assert _count(client, b.headers) == 0
    assert _count(client, a.headers) == 1


def test_patch_honours_if_match(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    d = make_demand(client, ent)
    r = client.patch(
        f"/v1/demands/{d['id']}", json={"headcount": 9}, headers={**ent.headers, "If-Match": '"7"'}
    )
    assert r.status_code == 412
    assert client.get(f"/v1/demands/{d['id']}", headers=ent.headers).json()["headcount"] == 5
    r = client.patch(
        f"/v1/demands/{d['id']}", json={"headcount": 9}, headers={**ent.headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200
    assert r.json()["headcount"] == 9
    assert r.headers["ETag"] == '"2"'


def test_unknown_fields_rejected_and_nothing_stored(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    for extra in ({"organization_id": "x"}, {"status": "closed"}, {"version": 3}, {"colour": "red"}):
        r = client.post("/v1/demands", json={**demand_body(), **extra}, headers=ent.headers)
        assert r.status_code == 422, extra
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"]
    assert _count(client, ent.headers) == 0


def test_caps_and_required_fields(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    bad = [
        demand_body(title="x" * 201),
        demand_body(description="x" * 20_001),
        demand_body(skills=[]),
        demand_body(skills=[{"name": f"skill {i}"} for i in range(51)]),
        demand_body(headcount=0),
        demand_body(skills=[{"name": "welding", "importance": 6}]),
        {k: v for k, v in demand_body().items() if k != "title"},
    ]
    for body in bad:
        r = client.post("/v1/demands", json=body, headers=ent.headers)
        assert r.status_code == 422
        assert r.json()["status"] == 422
    assert _count(client, ent.headers) == 0
    assert client.get("/v1/demands?limit=101", headers=ent.headers).status_code == 422
    assert client.get("/v1/demands?limit=0", headers=ent.headers).status_code == 422


def test_body_over_limit_is_413(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    big = demand_body(description="x" * (3 * 1024 * 1024))
    r = client.post("/v1/demands", json=big, headers=ent.headers)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert _count(client, ent.headers) == 0


def test_cursor_pagination_and_filters(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    for i in range(5):
        make_demand(client, ent, title=f"demand {i}", region="Hefei" if i % 2 else "Wuhu")
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/demands?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=ent.headers).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    hefei = client.get("/v1/demands?region=Hefei", headers=ent.headers).json()["items"]
    assert {d["title"] for d in hefei} == {"demand 1", "demand 3"}
    assert client.get("/v1/demands?cursor=garbage!", headers=ent.headers).status_code == 422


def test_unknown_id_any_format_is_404(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    for bad in ("nope", "00000000-0000-0000-0000-000000000000", "1"):
        r = client.get(f"/v1/demands/{bad}", headers=ent.headers)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")


def test_nul_character_is_422_not_500(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    r = client.post("/v1/demands", json=demand_body(title="CNC\x00machinist"), headers=ent.headers)
    assert r.status_code == 422
    skills = [{"name": "weld\x00ing"}]
    assert client.post("/v1/demands", json=demand_body(skills=skills), headers=ent.headers).status_code == 422
    r = client.get("/v1/demands", params={"region": "He\x00fei"}, headers=ent.headers)
    assert r.status_code in (200, 422)
    assert r.status_code != 500
    assert _count(client, ent.headers) == 0
