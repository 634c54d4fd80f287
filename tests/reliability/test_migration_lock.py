"""Replicas starting together: concurrent migrations of one fresh PostgreSQL database all succeed."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from service.db import normalise_url
from service.orm import Base
from tests.conftest import PG_URL

REPLICAS = 4


@pytest.mark.skipif(not PG_URL, reason="advisory locks are PostgreSQL's; SQLite has one writer")
def test_replicas_migrating_at_once_all_succeed() -> None:
    assert PG_URL is not None
    url = make_url(normalise_url(PG_URL))
    name = f"talentmatch_migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = url.set(database=name).render_as_string(hide_password=False)
    # One process per replica (Alembic keeps its context in module state), started together.
    script = f"from service.migrate import upgrade; upgrade({target!r})"
    try:
        procs = [
            subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(REPLICAS)
        ]
        outcomes = []
        for p in procs:
            out, _ = p.communicate(timeout=120)
            outcomes.append((p.returncode, out.decode()[-2000:]))
        assert [code for code, _ in outcomes] == [0] * REPLICAS, outcomes
        engine = create_engine(target)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
            counters = conn.execute(text("SELECT count(*) FROM state_counter")).scalar_one()
        engine.dispose()
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert versions == 1
        assert counters == 4  # seeded once, not once per replica
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
