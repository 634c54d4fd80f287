"""Builders for training-order tests, all through the public HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.builders import Org, make_graduate, make_org

ORDERS = "/v1/training-orders"


@dataclass
class Parties:
    enterprise: Org
    school: Org
    other_enterprise: Org
    other_school: Org
    government: Org


def make_parties(client: TestClient) -> Parties:
    return Parties(
        enterprise=make_org(client, "enterprise", "Hefei Auto Parts"),
        school=make_org(client, "school", "Hefei Tech"),
        other_enterprise=make_org(client, "enterprise", "Wuhu Robotics"),
        other_school=make_org(client, "school", "Anqing Vocational"),
        government=make_org(client, "government", "Hefei Education Bureau"),
    )


def order_body(school: Org, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"school_id": school.id, "headcount": 3}
    body.update(overrides)
    return body


def place_order(client: TestClient, by: Org, school: Org, **overrides: Any) -> dict[str, Any]:
    r = client.post(ORDERS, json=order_body(school, **overrides), headers=by.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def act(
    client: TestClient,
    org: Org,
    order: dict[str, Any],
    action: str,
    *,
    etag: str | None = "current",
    **body: Any,
) -> Any:
    """POST a transition; ``etag="current"`` sends the order's version as If-Match, None sends none."""
    headers = dict(org.headers)
    if etag == "current":
        headers["If-Match"] = f'"{order["version"]}"'
    elif etag is not None:
        headers["If-Match"] = etag
    return client.post(
        f"{ORDERS}/{order['id']}/transitions", json={"action": action, **body}, headers=headers
    )


def fetch(client: TestClient, org: Org, order_id: str) -> dict[str, Any]:
    r = client.get(f"{ORDERS}/{order_id}", headers=org.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def graduates(client: TestClient, school: Org, n: int, prefix: str = "G") -> list[str]:
    return [make_graduate(client, school, f"{prefix}-{school.id[:4]}-{i}")["id"] for i in range(n)]
