"""Erasure reaches the SQLite write-ahead log: after DELETE, no copy of the profile is left in it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.builders import make_demand, make_graduate, make_org


def test_erased_graduate_is_in_neither_the_database_file_nor_its_wal(
    client: TestClient, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the write-ahead log file is SQLite's; PostgreSQL is covered in docs/operations.md")
    marker = uuid.uuid4().hex
    school = make_org(client, "school")
    enterprise = make_org(client, "enterprise")
    graduate = make_graduate(
        client, school, f"REF-{marker}", skills=[{"name": f"{marker} laser cladding", "level": 3}]
    )
    demand = make_demand(client, enterprise, skills=[{"name": "laser cladding"}])
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    assert client.get(f"/v1/graduates/{graduate['id']}/export", headers=school.headers).status_code == 200
    path = Path(database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    assert marker.encode() in path.read_bytes() + wal.read_bytes()

    assert client.delete(f"/v1/graduates/{graduate['id']}", headers=school.headers).status_code == 204

    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")  # what SQLite does on its own
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert raw.count(marker.encode()) == 0
