"""Admission control: a per-process limit on expensive requests (matching, gap reports, imports).

Past the limit a request is answered at once with 503 ``overloaded`` and ``Retry-After`` rather than
queued behind the others for a thread and a database connection (where it would wait until the pool
timed out, and hold up health checks and cheap reads meanwhile). Shed requests are counted in
``talentmatch_requests_shed_total``.

The limit is ``settings.max_expensive_requests`` or, by default, the smaller of twice the cores this
process may use and half the database pool (the other half stays free for cheap requests).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import problem_response
from service.ops import metrics
from service.ops.middleware import RouteTemplates

RETRY_AFTER_SECONDS = 1

EXPENSIVE = frozenset(
    {
        ("POST", "/v1/demands/{demand_id}/matches"),
        ("POST", "/v1/match"),
        ("GET", "/v1/demands/{demand_id}/program-matches"),
        ("GET", "/v1/graduates/{graduate_id}/demand-matches"),
        ("GET", "/v1/programs/{program_id}/gaps"),
        ("POST", "/v1/gap-analysis"),
        ("POST", "/v1/graduates/bulk"),
    }
)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_limit(engine: Engine) -> int:
    by_cores = 2 * usable_cores()
    pool = engine.pool
    if isinstance(pool, QueuePool):
        capacity = pool.size() + max(0, pool._max_overflow)
        return max(1, min(by_cores, capacity // 2))
    return max(1, by_cores)


def overloaded_response(detail: str) -> Any:
    return problem_response(
        503,
        "Overloaded",
        detail,
        "overloaded",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class Admission:
    """ASGI middleware; runs on the event loop, so a plain counter is enough."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.templates = RouteTemplates(fastapi_app)
        self.in_flight = 0

    def limit(self) -> int:
        state = self.fastapi_app.state
        limit = getattr(state, "expensive_limit", None)
        if limit is None:
            configured = state.settings.max_expensive_requests
            engine = getattr(state, "engine", None)
            limit = configured or (default_limit(engine) if engine is not None else 2 * usable_cores())
            state.expensive_limit = limit
        return int(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        template = self.templates.template(scope["method"], scope.get("path", ""))
        if (scope["method"], template) not in EXPENSIVE:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit():
            metrics.requests_shed.labels(reason="concurrency").inc()
            response = overloaded_response(
                "Too many matching, gap or import requests are in progress; retry shortly."
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
