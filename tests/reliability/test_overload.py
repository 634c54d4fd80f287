"""Overload: expensive work past the per-process limit is 503 ``overloaded`` at once, a request that
gets no database connection in time is 503 (never 500), and health checks answer meanwhile."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.builders import make_org

HOLD_SECONDS = 30  # only reached when the behaviour under test is missing


def _shed(client: TestClient, reason: str) -> float:
    text = client.get("/metrics").text
    found = re.search(rf'^talentmatch_requests_shed_total\{{reason="{reason}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def _match_body(phrase: str) -> dict[str, Any]:
    return {
        "demand": {"skills": [{"name": phrase, "importance": 3}]},
        "candidates": [{"id": "c1", "skills": [{"name": phrase}]}],
    }


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"max_expensive_requests": 1}))) as c:
        yield c


def test_expensive_work_past_the_limit_is_503_at_once_and_health_still_answers(limited: TestClient) -> None:
    client = limited
    ent = make_org(client, "enterprise")
    encoder = client.app.state.encoder  # type: ignore[attr-defined]
    encode = encoder.encode
    entered, release = threading.Event(), threading.Event()
    held_to_the_end: list[bool] = []

    def slow_encode(texts: list[str]) -> Any:
        entered.set()
        held_to_the_end.append(not release.wait(HOLD_SECONDS))
        return encode(texts)

    encoder.encode = slow_encode
    before = _shed(client, "concurrency")
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(client.post, "/v1/match", json=_match_body("orbital welding"), headers=ent.headers)
        assert entered.wait(HOLD_SECONDS)

        async def one_worker_thread() -> None:  # the held request has it: every worker thread is busy
            anyio.to_thread.current_default_thread_limiter().total_tokens = 1

        client.portal.call(one_worker_thread)  # type: ignore[union-attr]

        shed = [
            client.post("/v1/match", json=_match_body(f"riveting {i}"), headers=ent.headers) for i in range(3)
        ]
        health = client.get("/healthz")
        ready = client.get("/readyz")
        release.set()
        first = held.result()
    shed_after = _shed(client, "concurrency")

    assert [r.status_code for r in shed] == [503, 503, 503]
    for r in shed:
        assert r.headers["Retry-After"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/overloaded")
    assert (health.status_code, ready.status_code) == (200, 200), ready.text
    assert shed_after - before == 3
    # All of that was answered while the first request was still held, not after it gave up.
    assert held_to_the_end and not any(held_to_the_end)
    assert first.status_code == 200, first.text
    # Once it is done, the next one is admitted.
    encoder.encode = encode
    assert client.post("/v1/match", json=_match_body("riveting"), headers=ent.headers).status_code == 200


def test_no_database_connection_in_time_is_503_not_500_and_readiness_answers(settings: Settings) -> None:
    tiny = settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_seconds": 0.2}
    )
    with TestClient(create_app(tiny)) as client:
        ent = make_org(client, "enterprise")
        before = _shed(client, "pool_timeout")
        with client.app.state.engine.connect():  # type: ignore[attr-defined]  # the pool's only connection
            r = client.get("/v1/demands", headers=ent.headers)
            ready = client.get("/readyz")
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "1"
        assert r.json()["type"].endswith("/overloaded")
        assert ready.status_code == 200, ready.text
        assert _shed(client, "pool_timeout") - before == 1
