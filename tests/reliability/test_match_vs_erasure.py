"""A stored match and an erasure at the same moment (PostgreSQL, where they can overlap): the run is
stored without the erased graduate, never with a 500."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.graduates import repository as graduates_repo
from service.graduates import service as graduates_service
from service.settings import Settings
from tests.builders import make_demand, make_graduate, make_org
from tests.conftest import ADMIN_KEY, PG_URL


@pytest.mark.skipif(not PG_URL, reason="on SQLite the match request's write lock keeps erasures out")
def test_a_graduate_erased_while_a_match_runs_is_left_out_of_the_stored_run(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = make_org(client, "school")
    enterprise = make_org(client, "enterprise")
    skills = [{"name": "PLC programming", "level": 3}, {"name": "electrical wiring", "level": 3}]
    erased = make_graduate(client, school, "ERASED-1", skills=skills)
    kept = make_graduate(client, school, "KEPT-1", skills=skills[:1])
    demand = make_demand(
        client, enterprise, skills=[{"name": "PLC programming"}, {"name": "electrical wiring"}]
    )
    url = f"/v1/demands/{demand['id']}/matches"
    first = client.post(url, json={"top_k": 10}, headers=enterprise.headers)
    assert [r["graduate_id"] for r in first.json()["matches"]] == [erased["id"], kept["id"]]

    app: Any = client.app
    index = app.state.matching.index
    rank = index.rank
    calls: list[int] = []

    def rank_then_erase(*args: Any, **kwargs: Any) -> Any:
        result = rank(*args, **kwargs)
        if not calls:  # another request erases the top graduate after the index was read
            with app.state.write_sessions() as other, other.begin():
                graduate = graduates_repo.get(other, erased["id"])
                assert graduate is not None
                graduates_service.delete(other, graduate)
        calls.append(1)
        return result

    monkeypatch.setattr(index, "rank", rank_then_erase)
    r = client.post(url, json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    results = r.json()["matches"]
    assert [x["graduate_id"] for x in results] == [kept["id"]]
    stored = client.get(url, headers=enterprise.headers)
    assert [x["graduate_id"] for x in stored.json()["matches"]] == [kept["id"]]  # the run as stored
    assert len(calls) == 2  # ranked again once the index caught up with the erasure


@pytest.mark.skipif(not PG_URL, reason="on SQLite the erasures wait for the match's write lock anyway")
def test_erasures_during_a_long_sync_do_not_empty_the_connection_pool(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each erasure brings the graduate index up to date in a background task. While a match holds
    the index for a long sync, those tasks wait without a database connection, so six erasures with a
    pool of three connections are all answered 204, and every one of those syncs succeeds (none fails
    for want of a connection, which left the erased phrases in memory until the next match)."""
    settings = Settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        encoder_backend="fake",
        json_logs=False,
        rate_limit_per_minute=100_000,
        warm_index=False,
        db_pool_size=3,
        db_max_overflow=0,
        db_pool_timeout_seconds=2,
    )
    app: Any = create_app(settings)
    with TestClient(app) as client:
        school = make_org(client, "school")
        enterprise = make_org(client, "enterprise")
        victims = [make_graduate(client, school, f"V-{i}") for i in range(6)]
        demand = make_demand(client, enterprise)
        url = f"/v1/demands/{demand['id']}/matches"
        assert client.post(url, json={"top_k": 5}, headers=enterprise.headers).status_code == 200
        skills = [{"name": "tig welding of thin sheet", "level": 2}]
        make_graduate(client, school, "NEW-1", skills=skills)  # the next match's sync has work to do

        engine = app.state.matching
        ensure = engine.ensure_phrases
        entered, release = threading.Event(), threading.Event()

        def slow_ensure(session: Any, texts: list[str]) -> Any:
            entered.set()
            release.wait(30)
            return ensure(session, texts)

        monkeypatch.setattr(engine, "ensure_phrases", slow_ensure)
        with ThreadPoolExecutor(max_workers=8) as pool:
            match = pool.submit(client.post, url, json={"top_k": 5}, headers=enterprise.headers)
            assert entered.wait(10)
            deletes = [
                pool.submit(client.delete, f"/v1/graduates/{v['id']}", headers=school.headers)
                for v in victims
            ]
            time.sleep(3)  # past the pool timeout: a DELETE left without a connection has its 503 by now
            release.set()
            statuses = [f.result(timeout=60).status_code for f in deletes]
            assert match.result(timeout=60).status_code == 200
        assert statuses == [204] * len(victims)
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not failures, [r.getMessage() for r in failures]
        assert not any(v["id"] in engine.index for v in victims)  # the index caught up
