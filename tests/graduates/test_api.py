from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import graduate_body, make_graduate, make_org, make_program


def test_school_adds_and_reads_its_graduate(client: TestClient) -> None:
    school = make_org(client, "school")
    p = make_program(client, school)
    g = make_graduate(client, school, "S-1", program_id=p["id"])
    assert g["external_ref"] == "S-1"
    assert g["program_id"] == p["id"]
    assert g["skills"][0] == {"name": "operate CNC lathe", "level": 4, "skill_id": None}
    assert client.get(f"/v1/graduates/{g['id']}", headers=school.headers).json()["id"] == g["id"]


def test_graduates_private_to_owning_school(client: TestClient) -> None:
    school = make_org(client, "school", "S1")
    other = make_org(client, "school", "S2")
    ent = make_org(client, "enterprise")
    gov = make_org(client, "government")
    g = make_graduate(client, school)
    assert client.get(f"/v1/graduates/{g['id']}", headers=other.headers).status_code == 404
    assert (
        client.patch(
            f"/v1/graduates/{g['id']}", json={"graduation_year": 2020}, headers=other.headers
        ).status_code
        == 404
    )
    assert client.delete(f"/v1/graduates/{g['id']}", headers=other.headers).status_code == 404
    assert client.get(f"/v1/graduates/{g['id']}/export", headers=other.headers).status_code == 404
    assert client.get("/v1/graduates", headers=other.headers).json()["items"] == []
    for outsider in (ent, gov):
        assert client.get(f"/v1/graduates/{g['id']}", headers=outsider.headers).status_code == 403
        assert client.get("/v1/graduates", headers=outsider.headers).status_code == 403


def test_program_of_another_school_is_422(client: TestClient) -> None:
    school = make_org(client, "school", "S1")
    other = make_org(client, "school", "S2")
    p = make_program(client, other)
    r = client.post("/v1/graduates", json=graduate_body(program_id=p["id"]), headers=school.headers)
    assert r.status_code == 422
    assert client.get("/v1/graduates", headers=school.headers).json()["items"] == []


def test_bulk_upserts_by_external_ref(client: TestClient) -> None:
    school = make_org(client, "school")
    rows = [graduate_body(f"S-{i}") for i in range(3)]
    r = client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers)
    assert r.status_code == 200
    assert (r.json()["created"], r.json()["updated"]) == (3, 0)
    rows[0]["graduation_year"] = 2025
    rows.append(graduate_body("S-9"))
    r = client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers)
    assert (r.json()["created"], r.json()["updated"]) == (1, 3)
    listed = client.get("/v1/graduates?limit=100", headers=school.headers).json()["items"]
    assert len(listed) == 4
    assert {g["external_ref"]: g["graduation_year"] for g in listed}["S-0"] == 2025


def test_bulk_with_one_bad_row_stores_nothing_and_names_the_row(client: TestClient) -> None:
    school = make_org(client, "school")
    rows = [graduate_body(f"S-{i}") for i in range(5)]
    rows[3]["skills"] = [{"name": "welding", "level": 9}]
    r = client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers)
    assert r.status_code == 422
    assert any(e["loc"][:4] == ["body", "graduates", "3", "skills"] for e in r.json()["errors"])
    rows[3] = graduate_body("S-1")  # duplicate external_ref within the batch
    r = client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "graduates", 3, "external_ref"]
    assert client.get("/v1/graduates", headers=school.headers).json()["items"] == []


def test_bulk_caps(client: TestClient) -> None:
    school = make_org(client, "school")
    rows = [{"external_ref": f"S-{i}"} for i in range(1001)]
    assert (
        client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers).status_code == 422
    )
    too_many_skills = graduate_body(skills=[{"name": f"s{i}"} for i in range(201)])
    assert client.post("/v1/graduates", json=too_many_skills, headers=school.headers).status_code == 422


def test_delete_erases_and_export_returns_everything(client: TestClient) -> None:
    school = make_org(client, "school")
    g = make_graduate(client, school)
    export = client.get(f"/v1/graduates/{g['id']}/export", headers=school.headers)
    assert export.status_code == 200
    assert export.json()["graduate"]["external_ref"] == "S-0001"
    assert client.delete(f"/v1/graduates/{g['id']}", headers=school.headers).status_code == 204
    assert client.get(f"/v1/graduates/{g['id']}", headers=school.headers).status_code == 404


def test_no_personal_fields_accepted(client: TestClient) -> None:
    school = make_org(client, "school")
    for field in ({"name": "Zhang San"}, {"phone": "13800000000"}, {"id_card": "340104199001011234"}):
        r = client.post("/v1/graduates", json={**graduate_body(), **field}, headers=school.headers)
        assert r.status_code == 422


def test_a_programme_is_named_by_its_id_or_its_code(client: TestClient) -> None:
    """The school's own programme code works wherever a programme is named, as in the CSV import."""
    school = make_org(client, "school", "S1")
    other = make_org(client, "school", "S2")
    mech = make_program(client, school, code="MECH-01")
    weld = make_program(client, school, name="Welding", code="WELD-02")
    make_program(client, other, code="OTHER-01")

    g = make_graduate(client, school, "S-1", program_id="MECH-01")
    assert g["program_id"] == mech["id"]
    r = client.patch(f"/v1/graduates/{g['id']}", json={"program_id": "WELD-02"}, headers=school.headers)
    assert r.status_code == 200, r.text
    assert r.json()["program_id"] == weld["id"]
    r = client.patch(f"/v1/graduates/{g['id']}", json={"program_id": mech["id"]}, headers=school.headers)
    assert r.json()["program_id"] == mech["id"]

    rows = [graduate_body("S-2", program_id="WELD-02"), graduate_body("S-3", program_id=mech["id"])]
    r = client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers)
    assert r.status_code == 200, r.text
    listed = client.get("/v1/graduates?limit=100", headers=school.headers).json()["items"]
    assert {x["external_ref"]: x["program_id"] for x in listed} == {
        "S-1": mech["id"],
        "S-2": weld["id"],
        "S-3": mech["id"],
    }

    # another school's code is not this school's programme, and nothing is stored
    r = client.post("/v1/graduates", json=graduate_body("S-4", program_id="OTHER-01"), headers=school.headers)
    assert r.status_code == 422
    assert "OTHER-01" in r.json()["detail"]
    assert r.json()["errors"][0]["loc"] == ["body", "program_id"]
    r = client.post(
        "/v1/graduates/bulk",
        json={"graduates": [graduate_body("S-5"), graduate_body("S-6", program_id="OTHER-01")]},
        headers=school.headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "graduates", 1, "program_id"]
    assert len(client.get("/v1/graduates?limit=100", headers=school.headers).json()["items"]) == 3


def test_a_code_shared_by_two_programmes_asks_for_the_id(client: TestClient) -> None:
    school = make_org(client, "school")
    make_program(client, school, code="MECH-01")
    make_program(client, school, name="Mechatronics (evening)", code="MECH-01")
    r = client.post("/v1/graduates", json=graduate_body(program_id="MECH-01"), headers=school.headers)
    assert r.status_code == 422
    assert "use the programme id" in r.json()["detail"]
