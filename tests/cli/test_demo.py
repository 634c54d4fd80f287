"""``talentmatch demo``: a consortium in the local database, keys printed, usable through the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db import make_engine
from service.demo.builder import ORGS
from service.orm import Demand, Graduate, Organization, Program
from tests.cli.conftest import Invoke


def test_demo_builds_a_consortium_and_prints_its_keys(
    invoke: Invoke, database_url: str, client: TestClient
) -> None:
    result = invoke("demo", "--graduates-per-programme", "10")
    assert result.exit_code == 0, result.output
    out = result.output
    for org in ORGS:
        assert org.name in out
    keys = re.findall(r"│ (tm_[A-Za-z0-9_-]{20,}) +│", out)
    assert len(keys) == 6
    assert "Skills inferred from the software company's job ad" in out
    assert "Best graduates for “CNC machining technician”" in out  # a ranked match, with evidence
    assert "Evidence for #1" in out
    assert "Gap report: programme “CNC Technology”" in out
    assert "O*NET 29.2 Database" in out  # attribution

    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(Organization.kind).order_by(Organization.kind)).scalars().all() == [
            "enterprise",
            "enterprise",
            "enterprise",
            "government",
            "school",
            "school",
        ]
        assert len(conn.execute(select(Program.id)).all()) == 4
        assert len(conn.execute(select(Graduate.id)).all()) == 40
        demands = {d.title: d for d in conn.execute(select(Demand)).all()}
    engine.dispose()
    inferred = demands["Junior software developer"].skills
    names = {s["name"] for s in inferred}
    assert {"Python", "Git", "JavaScript", "MySQL", "Docker"} <= names
    assert all(s["inferred"] and s["skill_id"] for s in inferred)
    assert not any(s["inferred"] for s in demands["CNC machining technician"].skills)

    # A printed key works against the API, and sees the demo's open demands.
    r = client.get("/v1/demands", headers={"Authorization": f"Bearer {keys[1]}"})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 3

    # Running it again replaces the demo organisations (old keys stop working).
    again = invoke("demo", "--graduates-per-programme", "5")
    assert again.exit_code == 0, again.output
    assert "replaced 6 earlier demo organisations" in again.output
    assert client.get("/v1/demands", headers={"Authorization": f"Bearer {keys[1]}"}).status_code == 401
