"""Upgrade on an empty database, downgrade to base, upgrade again; no drift between ORM and migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from service.db import make_engine, normalise_url
from service.migrate import check, downgrade, upgrade
from service.orm import Base

PG_URL = os.environ.get("TALENTMATCH_TEST_DATABASE_URL")


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'mig.db'}"
        return
    # A separate, empty database on the same PostgreSQL server.
    name = f"tm_mig_{uuid.uuid4().hex[:10]}"
    from sqlalchemy import create_engine

    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    base = normalise_url(PG_URL).rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(empty_url: str) -> None:
    upgrade(empty_url)
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= _tables(empty_url)
    check(empty_url)  # raises if the ORM and the migrations differ
    downgrade(empty_url, "base")
    assert _tables(empty_url) - {"alembic_version"} == set()
    upgrade(empty_url)
    assert expected <= _tables(empty_url)
    check(empty_url)
