"""Waiting for database locks: a write that is only an optimisation gives up quickly instead of
stalling a writer that waits on its thread, and a request that cannot get the lock is answered 503
(retry), not 500."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from service import db
from service.app import create_app
from service.db import make_engine, make_sessionmakers
from service.embeddings import cache
from service.embeddings.fake import FakeEncoder
from service.orm import Organization, PhraseEmbedding
from service.settings import Settings
from tests.conftest import ADMIN_KEY, PG_URL


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _cached(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PhraseEmbedding)).scalar_one())


def test_a_reader_does_not_wait_long_to_cache_phrases_while_a_writer_holds_the_lock(engine: Engine) -> None:
    """The graduate index's sync stores new phrase vectors from a reader, holding the index's lock; a
    stored-match request holding the database's write lock waits for that lock. The store gives up
    after a moment (the vectors are still returned), so neither waits out the busy timeout (30 s)."""
    encoder = FakeEncoder()
    read, write = make_sessionmakers(engine)
    phrase = "laser cladding of turbine blades"
    with write() as writer, writer.begin():
        # on SQLite this takes the write lock; on PostgreSQL the uncommitted row locks its key
        cache.store_vectors(writer, encoder, [phrase], encoder.encode([phrase]))
        with read() as reader:
            started = time.monotonic()
            vectors = cache.embed_texts(reader, encoder, [phrase, phrase + " (2)"])
            waited = time.monotonic() - started
        assert vectors.shape == (2, encoder.dim)
        np.testing.assert_allclose(vectors[0], encoder.encode([phrase])[0], atol=1e-6)
        assert waited < 5, f"the reader waited {waited:.1f} s to cache its phrases"
        writer.rollback()
    assert _cached(engine) == 0  # nothing was stored meanwhile: only the cache's loss
    with read() as reader:
        cache.embed_texts(reader, encoder, [phrase])
    assert _cached(engine) == 1  # once the lock is free, the same call stores


@pytest.mark.skipif(
    bool(PG_URL), reason="SQLite's one write lock; PostgreSQL's writers do not queue on one lock"
)
def test_a_write_that_cannot_get_the_lock_is_answered_503_and_can_be_retried(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    app = create_app(
        Settings(database_url=database_url, admin_key=ADMIN_KEY, encoder_backend="fake", json_logs=False)
    )
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    body = {"name": "Busy Day Vocational College", "kind": "school"}
    with TestClient(app) as client:
        holder = make_engine(database_url)
        with holder.connect() as conn:
            held = conn.execution_options(sqlite_begin="IMMEDIATE").begin()  # the write lock
            r = client.post("/v1/organizations", json=body, headers=admin)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["retry-after"] == "1"
            assert r.json()["type"].endswith("/database-busy")
            held.rollback()
        holder.dispose()
        r = client.post("/v1/organizations", json=body, headers=admin)
        assert r.status_code == 201, r.text
    check = make_engine(database_url)
    with check.connect() as conn:
        count = conn.execute(select(func.count()).where(Organization.name == body["name"])).scalar_one()
    check.dispose()
    assert count == 1  # the refused attempt left nothing behind
