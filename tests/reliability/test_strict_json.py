"""Strict JSON bodies: duplicate keys, non-JSON media types, non-UTF-8 bodies, invisible text."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.builders import demand_body, make_demand, make_org


def _raw(body: dict[str, object]) -> str:
    return json.dumps(body)


def test_duplicate_keys_are_422_and_nothing_is_stored(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    body = _raw(demand_body(headcount=1)).replace('"headcount": 1', '"headcount": 1, "headcount": 100000')
    r = client.post("/v1/demands", content=body, headers={**ent.headers, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert "headcount" in r.json()["detail"]
    assert client.get("/v1/demands", headers=ent.headers).json()["items"] == []
    # Nested objects too.
    nested = _raw(demand_body()).replace('"importance": 5', '"importance": 5, "importance": 1')
    r = client.post(
        "/v1/demands", content=nested, headers={**ent.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(client: TestClient, content_type: str | None) -> None:
    ent = make_org(client, "enterprise")
    headers = dict(ent.headers)
    if content_type:
        headers["Content-Type"] = content_type
    r = client.post("/v1/demands", content=_raw(demand_body()), headers=headers)
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("utf-16", "application/json"),
        ("utf-16-le", "application/json"),
        ("utf-8", "application/json; charset=utf-16"),
    ],
)
def test_a_body_that_is_not_utf8_is_415(client: TestClient, encoding: str, content_type: str) -> None:
    ent = make_org(client, "enterprise")
    r = client.post(
        "/v1/demands",
        content=_raw(demand_body()).encode(encoding),
        headers={**ent.headers, "Content-Type": content_type},
    )
    assert r.status_code in (415, 422), r.text
    assert client.get("/v1/demands", headers=ent.headers).json()["items"] == []


def test_utf8_json_with_a_charset_and_a_json_suffix_is_accepted(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        r = client.post(
            "/v1/demands", content=_raw(demand_body()), headers={**ent.headers, "Content-Type": content_type}
        )
        assert r.status_code == 201, (content_type, r.text)


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\u200d\ufeff", "\u2060", "\u3164", "\u00ad"])
def test_text_that_shows_nothing_is_422(client: TestClient, invisible: str) -> None:
    ent = make_org(client, "enterprise")
    assert (
        client.post("/v1/demands", json=demand_body(title=invisible), headers=ent.headers).status_code == 422
    )
    skills = [{"name": invisible, "importance": 3}]
    assert client.post("/v1/demands", json=demand_body(skills=skills), headers=ent.headers).status_code == 422
    demand = make_demand(client, ent)
    r = client.patch(f"/v1/demands/{demand['id']}", json={"title": invisible}, headers=ent.headers)
    assert r.status_code == 422
    # Visible text around an invisible character is fine.
    assert (
        client.post(
            "/v1/demands", json=demand_body(title=f"CNC{invisible}operator"), headers=ent.headers
        ).status_code
        == 201
    )
