"""Real parallel requests against a running server (uvicorn, two worker processes, a thread pool each).

The database is the test's (a SQLite file, or PostgreSQL when TALENTMATCH_TEST_DATABASE_URL is set).
Every burst is released at once by a barrier, one HTTP connection per thread.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, PG_URL, _empty_pg

ROUNDS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module (its tests create their own organisations), on its own database."""
    tmp_path = tmp_path_factory.mktemp("server")
    if PG_URL:
        database_url = migrated_template
    else:
        shutil.copyfile(migrated_template, tmp_path / "server.db")
        database_url = f"sqlite:///{tmp_path / 'server.db'}"
    port = _free_port()
    env = {
        **os.environ,
        "TALENTMATCH_DATABASE_URL": database_url,
        "TALENTMATCH_ADMIN_KEY": ADMIN_KEY,
        "TALENTMATCH_ENCODER_BACKEND": "fake",
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": "1000000",
        "TALENTMATCH_JSON_LOGS": "false",
    }
    log = (tmp_path / "server.log").open("w")
    cmd = [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--log-level", "warning"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{(tmp_path / 'server.log').read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if PG_URL:
            _empty_pg(database_url)


def _org(base: str, kind: str, name: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/v1/organizations",
        json={"name": name, "kind": kind},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert r.status_code == 201, r.text
    return {"id": r.json()["id"], "Authorization": f"Bearer {r.json()['api_key']}"}


def _auth(org: dict[str, str]) -> dict[str, str]:
    return {"Authorization": org["Authorization"]}


def _burst(base: str, n: int, send: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """n requests released together, each on its own connection."""
    barrier = threading.Barrier(n)
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(n)]
    for c in clients:
        c.get("/healthz")  # open the connection before the race

    def one(c: httpx.Client) -> httpx.Response:
        barrier.wait()
        return send(c)

    try:
        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(one, clients))
    finally:
        for c in clients:
            c.close()


def test_simultaneous_accepts_with_one_etag_exactly_one_wins(server: str) -> None:
    ent = _org(server, "enterprise", "Hefei Auto Parts")
    school = _org(server, "school", "Hefei Tech")
    with httpx.Client(base_url=server, timeout=60) as http:
        for round_ in range(ROUNDS):
            r = http.post(
                "/v1/training-orders", json={"school_id": school["id"], "headcount": 5}, headers=_auth(ent)
            )
            assert r.status_code == 201, r.text
            order_id, etag = r.json()["id"], r.headers["ETag"]
            url = f"/v1/training-orders/{order_id}/transitions"
            headers = {**_auth(school), "If-Match": etag}

            def accept(c: httpx.Client, url: str = url, headers: dict[str, str] = headers) -> httpx.Response:
                return c.post(url, json={"action": "accept", "reason": "capacity"}, headers=headers)

            statuses = sorted(x.status_code for x in _burst(server, 4, accept))
            assert statuses == [200, 412, 412, 412], (round_, statuses)
            final = http.get(f"/v1/training-orders/{order_id}", headers=_auth(ent)).json()
            assert (final["status"], final["version"]) == ("accepted", 2)
            assert [h["action"] for h in final["history"]] == ["create", "accept"]


def test_simultaneous_creates_with_one_key_make_one_order(server: str) -> None:
    ent = _org(server, "enterprise", "Hefei Auto Parts")
    school = _org(server, "school", "Hefei Tech")
    for key in ("burst-1", "burst-2", "burst-3"):
        body: dict[str, Any] = {"school_id": school["id"], "headcount": 20, "notes": key}

        def create(c: httpx.Client, key: str = key, body: dict[str, Any] = body) -> httpx.Response:
            return c.post("/v1/training-orders", json=body, headers={**_auth(ent), "Idempotency-Key": key})

        answers = _burst(server, 20, create)
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {201, 409}, statuses
        created = [a for a in answers if a.status_code == 201]
        assert created, statuses
        assert len({a.json()["id"] for a in created}) == 1
        assert sum(1 for a in created if "Idempotent-Replayed" not in a.headers) == 1
        # A retry after the burst is replayed.
        again = httpx.post(
            f"{server}/v1/training-orders", json=body, headers={**_auth(ent), "Idempotency-Key": key}
        )
        assert (again.status_code, again.json()["id"]) == (201, created[0].json()["id"])

    listed = httpx.get(f"{server}/v1/training-orders?limit=100", headers=_auth(ent)).json()["items"]
    assert sorted(o["notes"] for o in listed) == ["burst-1", "burst-2", "burst-3"]
