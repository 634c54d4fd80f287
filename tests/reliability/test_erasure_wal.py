"""Erasure reaches the SQLite write-ahead log: after DELETE, no copy of the profile is left in it."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service import db
from service.db import make_engine, make_sessionmakers, truncate_wal
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


def _wal_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT)")
        conn.exec_driver_sql("INSERT INTO t VALUES ('erased')")
    return engine


def test_a_reader_that_writes_is_not_stalled_by_the_erasure_checkpoint(tmp_path: Path) -> None:
    """A request that read and now stores phrases in a short write of its own, while an erasure's
    checkpoint waits for that very reader: neither waits out the busy timeout (30 s)."""
    engine = _wal_engine(tmp_path)
    read, write = make_sessionmakers(engine)
    with read() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1  # holds its snapshot
        checkpoint = threading.Thread(target=lambda: results.append(truncate_wal(engine, patience=20)))
        results: list[bool] = []
        checkpoint.start()
        time.sleep(0.3)  # the checkpoint is now waiting for the reader
        started = time.monotonic()
        with write() as writer, writer.begin():
            writer.execute(text("INSERT INTO t VALUES ('phrase')"))
        waited = time.monotonic() - started
        assert checkpoint.is_alive()  # still waiting for the reader, which has not ended
    checkpoint.join(timeout=20)
    assert results == [True]
    assert waited < 5, f"the writer waited {waited:.1f} s for the checkpoint"
    wal = tmp_path / "wal.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    engine.dispose()


def test_a_long_reader_defers_the_truncation_to_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _wal_engine(tmp_path)
    monkeypatch.setattr(db, "WAL_TRUNCATE_PATIENCE_S", 0.2)
    monkeypatch.setattr(db, "WAL_TRUNCATE_RETRY_PATIENCE_S", 0.2)
    wal = tmp_path / "wal.db-wal"
    reader = engine.connect()
    reader.begin()
    reader.exec_driver_sql("SELECT count(*) FROM t").scalar()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM t")
    assert truncate_wal(engine, patience=0.2) is False
    db.erase_from_wal(engine)  # returns after its patience; a thread keeps trying
    assert wal.stat().st_size > 0

    # another erasure meanwhile does not wait at all: the pending truncation covers it
    monkeypatch.setattr(db, "WAL_TRUNCATE_PATIENCE_S", 30.0)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES ('second')")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM t")
    started = time.monotonic()
    db.erase_from_wal(engine)
    assert time.monotonic() - started < 5

    reader.close()
    for _ in range(100):
        if wal.stat().st_size == 0:
            break
        time.sleep(0.1)
    assert wal.stat().st_size == 0
    raw = (tmp_path / "wal.db").read_bytes()
    assert b"erased" not in raw
    assert b"second" not in raw
    engine.dispose()
