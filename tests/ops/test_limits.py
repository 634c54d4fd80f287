"""Limits: body cap (413, chunked too), per-organisation rate limit (429 + Retry-After), deadlines."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.app import create_app
from service.ops import metrics, ratelimit
from service.ops.deadline import Deadline, MatchDeadline, check_deadline, use_deadline
from service.settings import Settings
from tests.builders import admin_headers, demand_body, graduate_body, make_org
from tests.ui.support import sign_in

REDIS_URL = "redis://127.0.0.1:6379/0"


def _client(settings: Settings, **changes: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes)))


# -- body cap ------------------------------------------------------------------------------------


def test_body_over_the_cap_is_413_problem(settings: Settings) -> None:
    with _client(settings, max_body_bytes=2_000) as client:
        school = make_org(client, "school")
        body = graduate_body(certificates=["x" * 150] * 20)
        r = client.post("/v1/graduates", json=body, headers=school.headers)
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 413
        assert r.headers["X-Request-ID"]
        assert client.get("/v1/graduates", headers=school.headers).json()["items"] == []


def test_chunked_body_over_the_cap_is_413_not_400(settings: Settings) -> None:
    """No Content-Length: the cap counts the bytes as they stream in."""

    def chunks() -> Iterator[bytes]:
        yield b'{"external_ref": "S-1", "certificates": ["'
        for _ in range(20):
            yield b"x" * 200
        yield b'"]}'

    with _client(settings, max_body_bytes=2_000) as client:
        school = make_org(client, "school")
        r = client.post(
            "/v1/graduates",
            content=chunks(),
            headers={**school.headers, "content-type": "application/json"},
        )
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert client.get("/v1/graduates", headers=school.headers).json()["items"] == []


def test_bulk_import_has_its_own_larger_cap(settings: Settings) -> None:
    with _client(settings, max_body_bytes=2_000, max_bulk_body_bytes=200_000) as client:
        school = make_org(client, "school")
        rows = [graduate_body(f"S-{i:04d}") for i in range(100)]
        r = client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=school.headers)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 100


# -- rate limit ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(ratelimit.time, "monotonic", fake)
    return fake


def test_over_the_limit_is_429_with_retry_after_and_others_are_unaffected(
    settings: Settings, clock: FakeClock
) -> None:
    with _client(settings, rate_limit_per_minute=5) as client:
        noisy, quiet = make_org(client, "school", "noisy"), make_org(client, "school", "quiet")
        statuses = [client.get("/v1/graduates", headers=noisy.headers).status_code for _ in range(5)]
        assert statuses == [200] * 5

        r = client.get("/v1/graduates", headers=noisy.headers)

        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 429
        assert int(r.headers["Retry-After"]) == 12  # one request every 60/5 s
        assert r.headers["X-Request-ID"]
        # Another member, the monitoring endpoints and the admin are not starved.
        assert [client.get("/v1/graduates", headers=quiet.headers).status_code for _ in range(5)] == [200] * 5
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.get("/metrics").status_code == 200
        # After Retry-After, the noisy member may send again (one request per interval).
        clock.now += 12
        assert client.get("/v1/graduates", headers=noisy.headers).status_code == 200
        assert client.get("/v1/graduates", headers=noisy.headers).status_code == 429


def test_refused_requests_do_not_count_and_writes_are_not_applied(
    settings: Settings, clock: FakeClock
) -> None:
    with _client(settings, rate_limit_per_minute=2) as client:
        school = make_org(client, "school")
        created = client.post("/v1/graduates", json=graduate_body("A"), headers=school.headers)
        assert created.status_code == 201
        assert client.get("/v1/graduates", headers=school.headers).status_code == 200
        for _ in range(10):
            r = client.post("/v1/graduates", json=graduate_body("B"), headers=school.headers)
            assert r.status_code == 429
        clock.now += 30  # one interval: one request, however many were refused meanwhile
        listed = client.get("/v1/graduates", headers=school.headers)
        assert [g["external_ref"] for g in listed.json()["items"]] == ["A"]


def test_all_keys_of_an_organisation_share_one_budget(settings: Settings, clock: FakeClock) -> None:
    with _client(settings, rate_limit_per_minute=4) as client:
        school = make_org(client, "school")
        r = client.post(
            f"/v1/organizations/{school.id}/api-keys?revoke_existing=false", headers=admin_headers()
        )
        second = {"Authorization": f"Bearer {r.json()['api_key']}"}
        assert client.get("/v1/graduates", headers=school.headers).status_code == 200
        assert client.get("/v1/graduates", headers=second).status_code == 200
        assert client.get("/v1/graduates", headers=school.headers).status_code == 200
        assert client.get("/v1/graduates", headers=second).status_code == 200
        assert client.get("/v1/graduates", headers=second).status_code == 429
        assert client.get("/v1/graduates", headers=school.headers).status_code == 429


def test_bad_keys_are_limited_by_address_not_charged_to_members(settings: Settings, clock: FakeClock) -> None:
    with _client(settings, rate_limit_per_minute=3) as client:
        school = make_org(client, "school")
        bad = {"Authorization": f"Bearer tm_{uuid.uuid4().hex}"}
        assert [client.get("/v1/graduates", headers=bad).status_code for _ in range(3)] == [401] * 3
        assert client.get("/v1/graduates", headers=bad).status_code == 429
        assert client.get("/v1/graduates").status_code == 429  # no key: the same address bucket
        assert client.get("/v1/graduates", headers=school.headers).status_code == 200


def test_page_requests_count_against_the_signed_in_organisation(settings: Settings, clock: FakeClock) -> None:
    with _client(settings, rate_limit_per_minute=4) as client:
        school = make_org(client, "school")
        sign_in(client, school)  # two requests before sign-in: the client address's bucket
        assert [client.get("/ui/").status_code for _ in range(4)] == [200] * 4

        assert client.get("/ui/").status_code == 429
        # the organisation's budget is one, pages and API alike
        assert client.get("/v1/graduates", headers=school.headers).status_code == 429
        # the address was not charged for the pages: someone else behind it still has its last two
        anonymous = TestClient(client.app)
        assert [anonymous.get("/ui/sign-in").status_code for _ in range(3)] == [200, 200, 429]
        # a cookie that is not validly signed counts against the address, not the organisation
        clock.now += 15  # one interval: one request in each bucket
        forged = {"Cookie": "tm_session=forged"}
        assert anonymous.get("/ui/sign-in", headers=forged).status_code == 200
        assert client.get("/ui/").status_code == 200


def test_limit_is_shared_through_redis_by_several_processes(settings: Settings) -> None:
    """Two app instances (as two worker processes would) share each organisation's budget."""
    with (
        _client(settings, rate_limit_per_minute=5, redis_url=REDIS_URL) as first,
        _client(settings, rate_limit_per_minute=5, redis_url=REDIS_URL) as second,
    ):
        prefix = f"test:{uuid.uuid4().hex}:"
        for client in (first, second):
            state = client.app.state  # type: ignore[attr-defined]
            assert isinstance(state.rate_limit_store, ratelimit.RedisStore)  # chosen from the settings
            # Each its own connection, as processes would; a prefix of this test's own, so earlier
            # runs' buckets (the admin's) cannot interfere.
            state.rate_limit_store.close()
            state.rate_limit_store = ratelimit.RedisStore(REDIS_URL, prefix=prefix)
        noisy, quiet = make_org(first, "school", "noisy"), make_org(first, "school", "quiet")
        seen = []
        for i in range(5):
            worker = first if i % 2 else second
            seen.append(worker.get("/v1/graduates", headers=noisy.headers).status_code)
        assert seen == [200] * 5
        r = first.get("/v1/graduates", headers=noisy.headers)
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 12
        assert second.get("/v1/graduates", headers=noisy.headers).status_code == 429
        assert second.get("/v1/graduates", headers=quiet.headers).status_code == 200


def test_unreachable_redis_lets_requests_through_and_counts_it(settings: Settings) -> None:
    before = metrics.rate_limit_errors._value.get()
    with _client(settings, rate_limit_per_minute=1, redis_url="redis://127.0.0.1:1/0") as client:
        school = make_org(client, "school")
        statuses = [client.get("/v1/graduates", headers=school.headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert metrics.rate_limit_errors._value.get() >= before + 3


# -- deadlines -----------------------------------------------------------------------------------


def _slow_app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    def slow(deadline: MatchDeadline) -> dict[str, int]:
        steps = 0
        with use_deadline(deadline):
            for _ in range(1_000):
                check_deadline()
                time.sleep(0.005)
                steps += 1
        return {"steps": steps}

    app.add_api_route("/test-only/slow", slow, methods=["GET"])
    return app


def test_matching_work_past_its_deadline_is_503(settings: Settings) -> None:
    before = metrics.match_timeouts._value.get()
    with TestClient(_slow_app(settings.model_copy(update={"match_timeout_seconds": 0.05}))) as client:
        started = time.monotonic()
        r = client.get("/test-only/slow")
        elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/match-timeout")
    assert r.headers["Retry-After"]
    assert elapsed < 2
    assert metrics.match_timeouts._value.get() == before + 1


def test_deadline_helpers() -> None:
    assert Deadline(None).remaining is None
    Deadline(None).check()
    check_deadline()  # no ambient deadline: nothing to do
    live = Deadline(60)
    assert live.remaining is not None and 59 < live.remaining <= 60
    live.check()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/demands/{demand_id}/matches"),
        ("GET", "/v1/demands/{demand_id}/program-matches"),
        ("GET", "/v1/graduates/{graduate_id}/demand-matches"),
        ("POST", "/v1/match"),
    ],
)
def test_matching_calls_stop_at_the_match_timeout(settings: Settings, method: str, path: str) -> None:
    with _client(settings, match_timeout_seconds=1e-9) as client:
        enterprise, school = make_org(client, "enterprise"), make_org(client, "school")
        r = client.post("/v1/demands", json=demand_body(), headers=enterprise.headers)
        demand_id = r.json()["id"]
        r = client.post("/v1/graduates", json=graduate_body(), headers=school.headers)
        graduate_id = r.json()["id"]
        caller = school if "graduate_id" in path else enterprise
        body = None
        if path == "/v1/match":
            body = {"demand": {"skills": [{"name": "CNC"}]}, "candidates": [{"id": "c1", "skills": []}]}
        elif method == "POST":
            body = {"top_k": 5}
        url = path.format(demand_id=demand_id, graduate_id=graduate_id)
        r = client.request(method, url, json=body, headers=caller.headers)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/match-timeout")
        assert r.headers["Retry-After"]
        if path.endswith("/matches"):  # nothing was stored
            stored = client.get(url, headers=caller.headers)
            assert stored.status_code == 404
