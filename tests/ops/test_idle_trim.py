"""The idle heap trim: freed heap goes back to the OS once the service is idle, never mid-burst."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Receive, Scope, Send

from service.ops import idle_trim
from service.ops.idle_trim import IdleHeapTrim


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _request(app: IdleHeapTrim) -> None:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/"}, receive, send)
    assert sent[0]["status"] == 200


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(idle_trim, "trim_heap", lambda: calls.append(1))
    return calls


def test_heap_is_trimmed_once_after_the_service_falls_idle(trims: list[int]) -> None:
    async def scenario() -> None:
        app = IdleHeapTrim(_ok, idle_seconds=0.05)
        await _request(app)
        await _request(app)
        assert trims == []  # not while requests come
        await asyncio.sleep(0.2)
        assert trims == [1]
        await asyncio.sleep(0.2)
        assert trims == [1]  # once per idle period: nothing ran since

    asyncio.run(scenario())


def test_a_steady_stream_of_requests_is_never_interrupted_by_a_trim(trims: list[int]) -> None:
    async def scenario() -> None:
        app = IdleHeapTrim(_ok, idle_seconds=0.2)
        for _ in range(10):
            await _request(app)
            await asyncio.sleep(0.05)
        assert trims == []
        await asyncio.sleep(0.4)
        assert trims == [1]
        await _request(app)
        await asyncio.sleep(0.4)
        assert trims == [1, 1]  # a new idle period after new work

    asyncio.run(scenario())


def test_the_app_installs_the_idle_trim_outermost() -> None:
    from service.app import create_app

    app = create_app()
    assert app.user_middleware[0].cls is IdleHeapTrim
