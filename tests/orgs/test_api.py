from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import admin_headers, make_org


def test_admin_creates_org_and_key_works_once_shown(client: TestClient) -> None:
    org = make_org(client, "enterprise", "Hefei Auto Parts", region="Hefei")
    assert org.key.startswith("tm_")
    me = client.get("/v1/organizations/me", headers=org.headers)
    assert me.status_code == 200
    assert me.json()["id"] == org.id
    assert me.json()["kind"] == "enterprise"
    assert "api_key" not in me.json()


def test_key_is_stored_only_as_hash(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    org = make_org(client, "school")
    with app.state.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_key"))
    assert org.key not in dump


def test_missing_or_wrong_key_is_401_problem(client: TestClient) -> None:
    r = client.get("/v1/organizations/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401
    r = client.get("/v1/organizations/me", headers={"Authorization": "Bearer tm_nope"})
    assert r.status_code == 401


def test_member_key_cannot_create_orgs(client: TestClient) -> None:
    org = make_org(client, "enterprise")
    r = client.post("/v1/organizations", json={"name": "x", "kind": "school"}, headers=org.headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_issuing_a_key_revokes_nothing_unless_asked(client: TestClient) -> None:
    org = make_org(client, "school")
    r = client.post(f"/v1/organizations/{org.id}/api-keys", headers=admin_headers())
    assert r.status_code == 201, r.text
    body = r.json()
    second = body["api_key"]
    # the running integration's key still works, and the answer says both keys are active
    assert client.get("/v1/organizations/me", headers=org.headers).status_code == 200
    assert (
        client.get("/v1/organizations/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    )
    assert len(body["active_keys"]) == 2
    assert body["id"] in {k["id"] for k in body["active_keys"]}
    assert all(k["revoked_at"] is None for k in body["active_keys"])


def test_rotate_revokes_old_key(client: TestClient) -> None:
    org = make_org(client, "school")
    r = client.post(f"/v1/organizations/{org.id}/api-keys?revoke_existing=true", headers=admin_headers())
    assert r.status_code == 201
    new_key = r.json()["api_key"]
    assert [k["id"] for k in r.json()["active_keys"]] == [r.json()["id"]]
    assert client.get("/v1/organizations/me", headers=org.headers).status_code == 401
    assert (
        client.get("/v1/organizations/me", headers={"Authorization": f"Bearer {new_key}"}).status_code == 200
    )


def test_revoke_one_key(client: TestClient) -> None:
    org = make_org(client, "school")
    keys = client.get(f"/v1/organizations/{org.id}/api-keys", headers=admin_headers()).json()
    r = client.delete(f"/v1/organizations/{org.id}/api-keys/{keys[0]['id']}", headers=admin_headers())
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None
    assert client.get("/v1/organizations/me", headers=org.headers).status_code == 401


def test_unknown_kind_and_unknown_field_are_422(client: TestClient) -> None:
    r = client.post("/v1/organizations", json={"name": "x", "kind": "bank"}, headers=admin_headers())
    assert r.status_code == 422
    r = client.post(
        "/v1/organizations", json={"name": "x", "kind": "school", "api_key": "mine"}, headers=admin_headers()
    )
    assert r.status_code == 422
    assert r.json()["errors"]


def test_unknown_route_is_problem_404(client: TestClient) -> None:
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_refused_caller_is_named_with_the_right_article(client: TestClient) -> None:
    enterprise = make_org(client, "enterprise")
    r = client.get("/v1/graduates", headers=enterprise.headers)
    assert r.status_code == 403
    assert "the caller is an enterprise." in r.json()["detail"]
    government = make_org(client, "government")
    r = client.get("/v1/programs", headers=government.headers)
    assert r.status_code == 403
    assert "the caller is a government." in r.json()["detail"]
