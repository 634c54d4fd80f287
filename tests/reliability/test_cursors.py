"""List cursors are signed: a cursor the service did not issue is 422 on every list, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from tests.builders import Org, make_demand, make_graduate, make_org, make_program
from tests.orders.helpers import place_order

LISTS = ["/v1/demands", "/v1/programs", "/v1/graduates", "/v1/training-orders"]


def _b64(payload: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


TAMPERED = {
    "lone surrogate": _b64(["2026-01-01T00:00:00+00:00", "\ud800"]),
    "offset overflow": _b64(["9999-12-31T23:59:59-23:59", "x"]),
}


@pytest.fixture
def owners(client: TestClient) -> dict[str, Org]:
    ent = make_org(client, "enterprise")
    school = make_org(client, "school")
    for i in range(3):
        make_demand(client, ent, title=f"Demand {i}")
        make_program(client, school, name=f"Programme {i}", code=f"P{i}")
        make_graduate(client, school, f"S-{i}")
        place_order(client, ent, school)
    return {"/v1/demands": ent, "/v1/programs": school, "/v1/graduates": school, "/v1/training-orders": ent}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("name", list(TAMPERED))
def test_tampered_cursor_is_422(client: TestClient, owners: dict[str, Org], path: str, name: str) -> None:
    for cursor in (TAMPERED[name], TAMPERED[name] + ".AAAAAAAAAAAAAAAAAAAAAA"):
        r = client.get(path, params={"cursor": cursor}, headers=owners[path].headers)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", LISTS)
def test_issued_cursors_page_through_and_an_edited_one_is_422(
    client: TestClient, owners: dict[str, Org], path: str
) -> None:
    headers = owners[path].headers
    first = client.get(path, params={"limit": 2}, headers=headers).json()
    cursor = first["next_cursor"]
    assert cursor
    second = client.get(path, params={"limit": 2, "cursor": cursor}, headers=headers)
    assert second.status_code == 200, second.text
    ids = [x["id"] for x in first["items"] + second.json()["items"]]
    assert len(ids) == len(set(ids)) == 3
    payload, _, signature = cursor.partition(".")
    created, _id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = _b64([created, "ffffffff-ffff-ffff-ffff-ffffffffffff"]) + "." + signature
    assert client.get(path, params={"cursor": edited}, headers=headers).status_code == 422
