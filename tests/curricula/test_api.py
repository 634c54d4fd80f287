from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import make_org, make_program, program_body


def test_school_posts_programme_with_course_ids(client: TestClient) -> None:
    school = make_org(client, "school")
    r = client.post("/v1/programs", json=program_body(), headers=school.headers)
    assert r.status_code == 201
    body = r.json()
    assert len(body["courses"]) == 2
    assert all(c["id"] for c in body["courses"])
    assert body["courses"][0]["learning_outcomes"] == ["operate a CNC lathe", "write G-code programs"]
    assert r.headers["ETag"] == '"1"'


def test_programmes_readable_by_members_writable_by_owner_only(client: TestClient) -> None:
    school = make_org(client, "school", "S1")
    other = make_org(client, "school", "S2")
    ent = make_org(client, "enterprise")
    gov = make_org(client, "government")
    p = make_program(client, school)
    assert client.get(f"/v1/programs/{p['id']}", headers=ent.headers).status_code == 200
    assert client.get(f"/v1/programs/{p['id']}", headers=other.headers).status_code == 200
    assert client.get(f"/v1/programs/{p['id']}", headers=gov.headers).status_code == 403
    assert (
        client.patch(f"/v1/programs/{p['id']}", json={"name": "x"}, headers=other.headers).status_code == 404
    )
    assert client.delete(f"/v1/programs/{p['id']}", headers=other.headers).status_code == 404
    assert client.post("/v1/programs", json=program_body(), headers=ent.headers).status_code == 403
    assert client.get(f"/v1/programs/{p['id']}", headers=school.headers).json()["name"] == "Mechatronics"


def test_patch_replaces_courses_and_bumps_version(client: TestClient) -> None:
    school = make_org(client, "school")
    p = make_program(client, school)
    r = client.patch(
        f"/v1/programs/{p['id']}",
        json={"courses": [{"title": "PLC programming"}]},
        headers={**school.headers, "If-Match": p and '"1"'},
    )
    assert r.status_code == 200
    assert [c["title"] for c in r.json()["courses"]] == ["PLC programming"]
    assert r.json()["version"] == 2
    stale = client.patch(
        f"/v1/programs/{p['id']}", json={"name": "y"}, headers={**school.headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412


def test_bad_programmes_rejected(client: TestClient) -> None:
    school = make_org(client, "school")
    bad = [
        program_body(name=""),
        program_body(courses=[{"title": "x", "teacher": "Li"}]),
        program_body(courses=[{"description": "no title"}]),
        program_body(courses=[{"title": f"c{i}"} for i in range(101)]),
        program_body(organization_id=school.id),
    ]
    for body in bad:
        r = client.post("/v1/programs", json=body, headers=school.headers)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/programs", headers=school.headers).json()["items"] == []
