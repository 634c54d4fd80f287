"""Test fixtures: a fresh, migrated database per test (SQLite by default, PostgreSQL when
TALENTMATCH_TEST_DATABASE_URL is set), the app with a deterministic fake encoder, and builders.

Isolation: on SQLite each test gets a copy of a database migrated once per session; on PostgreSQL
the schema is migrated once per session and every table is emptied after each test.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.app import create_app
from service.db import make_engine, normalise_url
from service.migrate import upgrade
from service.orm import Base
from service.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if "TALENTMATCH_CACHE_DIR" not in os.environ:  # the multilingual table's file, outside the user's cache
    os.environ["TALENTMATCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="talentmatch-cache-")
    atexit.register(shutil.rmtree, os.environ["TALENTMATCH_CACHE_DIR"], ignore_errors=True)

ADMIN_KEY = "test-admin-key-0123456789"
PG_URL = os.environ.get("TALENTMATCH_TEST_DATABASE_URL")
COUNTERS = ("graduate", "demand", "program", "taxonomy")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite template file, or the PostgreSQL test database itself."""
    if PG_URL:
        upgrade(PG_URL)
        return normalise_url(PG_URL)
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


def _empty_pg(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for name in COUNTERS:
            conn.execute(text("INSERT INTO state_counter (name, value) VALUES (:n, 0)"), {"n": name})
    engine.dispose()


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        yield migrated_template
        _empty_pg(migrated_template)
        return
    target = tmp_path / "test.db"
    shutil.copyfile(migrated_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        encoder_backend="fake",
        rate_limit_per_minute=100_000,
        json_logs=False,
        warm_index=False,  # tests that need it turn it on (tests/matching/test_warm_up.py)
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
