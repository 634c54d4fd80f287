"""X-Forwarded-For is believed only from TALENTMATCH_TRUSTED_PROXIES (default none)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.conftest import ADMIN_KEY, PG_URL
from tests.orders.test_concurrency import _free_port

GUESSES = 60
LIMIT = 10


@pytest.fixture
def server(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """``talentmatch serve`` as deployed, with a small rate limit and no trusted proxy."""
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
        "TALENTMATCH_WARM_INDEX": "false",
        "TALENTMATCH_RATE_LIMIT_PER_MINUTE": str(LIMIT),
        "TALENTMATCH_JSON_LOGS": "false",
    }
    env.pop("TALENTMATCH_TRUSTED_PROXIES", None)
    log = (tmp_path / "server.log").open("w")
    cmd = [sys.executable, "-c", "from service.cli import app; app()", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
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
        proc.wait(timeout=20)
        log.close()


def test_rotating_forwarded_for_from_loopback_does_not_escape_the_limit(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        statuses = [
            http.get(
                "/v1/demands",
                headers={"Authorization": f"Bearer guess-{i}", "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(GUESSES)
        ]
    assert set(statuses) == {401, 429}, statuses
    assert statuses.count(429) >= GUESSES - LIMIT - 5, statuses


def _guesses(client: TestClient, forwarded: str, n: int) -> list[int]:
    return [
        client.get(
            "/v1/demands", headers={"Authorization": f"Bearer g{i}", "X-Forwarded-For": forwarded}
        ).status_code
        for i in range(n)
    ]


def test_a_configured_proxy_is_believed_and_only_it(settings: Settings) -> None:
    configured = settings.model_copy(update={"rate_limit_per_minute": 3, "trusted_proxies": "10.0.0.0/8"})
    app = create_app(configured)
    with TestClient(app, client=("10.1.2.3", 4000)) as via_proxy:
        assert 429 in _guesses(via_proxy, "198.51.100.7", 6)
        # Another client behind the same proxy has a budget of its own.
        assert _guesses(via_proxy, "198.51.100.8, 10.9.9.9", 3) == [401, 401, 401]
    with TestClient(app, client=("192.0.2.50", 4000)) as direct:
        # Not a configured proxy: its header names nobody, it counts against its own address.
        answers = _guesses(direct, "198.51.100.9", 3) + _guesses(direct, "198.51.100.10", 3)
        assert 429 in answers
