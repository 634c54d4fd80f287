"""Small typed builders for test data, all through the public HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY


@dataclass
class Org:
    id: str
    kind: str
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def make_org(client: TestClient, kind: str, name: str | None = None, **extra: Any) -> Org:
    name = name or f"{kind} org"
    r = client.post("/v1/organizations", json={"name": name, "kind": kind, **extra}, headers=admin_headers())
    assert r.status_code == 201, r.text
    body = r.json()
    return Org(id=body["id"], kind=kind, name=name, key=body["api_key"])


def demand_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "CNC machinist",
        "headcount": 5,
        "region": "Hefei",
        "industry": "manufacturing",
        "skills": [
            {"name": "CNC machining", "importance": 5, "required": True},
            {"name": "read engineering drawings", "importance": 4},
            {"name": "G-code programming", "importance": 3},
            {"name": "quality inspection", "importance": 2},
        ],
    }
    body.update(overrides)
    return body


def make_demand(client: TestClient, org: Org, **overrides: Any) -> dict[str, Any]:
    r = client.post("/v1/demands", json=demand_body(**overrides), headers=org.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def program_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Mechatronics",
        "code": "MECH-01",
        "courses": [
            {
                "code": "C1",
                "title": "CNC machining practice",
                "learning_outcomes": ["operate a CNC lathe", "write G-code programs"],
                "skills": ["CNC machining"],
            },
            {
                "code": "C2",
                "title": "Engineering drawing",
                "learning_outcomes": ["read and interpret engineering drawings"],
                "skills": [],
            },
        ],
    }
    body.update(overrides)
    return body


def make_program(client: TestClient, org: Org, **overrides: Any) -> dict[str, Any]:
    r = client.post("/v1/programs", json=program_body(**overrides), headers=org.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def graduate_body(ref: str = "S-0001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_ref": ref,
        "graduation_year": 2026,
        "skills": [{"name": "operate CNC lathe", "level": 4}, {"name": "engineering drawing", "level": 3}],
        "certificates": ["CNC operator level 4"],
    }
    body.update(overrides)
    return body


def make_graduate(client: TestClient, org: Org, ref: str = "S-0001", **overrides: Any) -> dict[str, Any]:
    r = client.post("/v1/graduates", json=graduate_body(ref, **overrides), headers=org.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
