"""The outermost request middleware: request id, access log, HTTP metrics, last-resort 500.

- ``X-Request-ID``: a well-formed id sent by the caller (or a proxy) is kept, otherwise one is made;
  it is echoed on every response, 4xx/5xx included, and set in :data:`~service.ops.logs.request_id_var`
  so every log line of the request carries it.
- One access-log line per request (logger ``service.access``): method, route *template* (never the raw
  path or query string, which may carry identifiers), status, duration, the caller's organisation id.
- Metrics are labelled by route template; paths that match no route count as ``<unmatched>``.
- A 405 lists in ``Allow`` every method the path supports (the router names only one route's).
- An exception no handler took is logged (with the request id) and answered with a problem+json 500
  here, inside the request's context, rather than by Starlette's outer error middleware.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import send_problem
from service.ops import metrics
from service.ops.logs import request_id_var

access_log = logging.getLogger("service.access")
error_log = logging.getLogger("service.errors")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def iter_routes(app: FastAPI) -> list[tuple[str, frozenset[str], Any]]:
    """(path template, methods, compiled path regex) of every concrete route, included routers too."""
    out: list[tuple[str, frozenset[str], Any]] = []
    try:
        from fastapi.routing import iter_route_contexts

        contexts: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI: the routes are already flat
        contexts = list(app.routes)
    for route in contexts:
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        regex = getattr(route, "path_regex", None)
        if path is None or regex is None:
            continue
        methods = frozenset(getattr(route, "methods", None) or ())
        out.append((path, methods, regex))
    return out


class RouteTemplates:
    """Maps a request to its route template, for metric labels and logs (bounded cardinality)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._routes: list[tuple[str, frozenset[str], Any]] | None = None
        self._cache: dict[tuple[str, str], str] = {}

    def allowed_methods(self, path: str) -> list[str]:
        """The methods of the path template ``path`` resolves to (for ``Allow`` on a 405): the first
        matching template in routing order, with the methods of every route sharing it."""
        if self._routes is None:
            self._routes = iter_routes(self.app)
        template = next((t for t, _, regex in self._routes if regex.match(path)), None)
        methods: set[str] = set()
        for other, route_methods, _ in self._routes:
            if other == template:
                methods |= route_methods
        return sorted(methods)

    def template(self, method: str, path: str) -> str:
        key = (method, path)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if self._routes is None:
            self._routes = iter_routes(self.app)
        found = UNMATCHED
        fallback = None
        for template, methods, regex in self._routes:
            if regex.match(path):
                if not methods or method in methods:
                    found = template
                    break
                fallback = fallback or template
        if found == UNMATCHED and fallback is not None:
            found = fallback
        if "{" not in found and len(self._cache) < 10_000:  # only fixed paths are worth caching
            self._cache[key] = found
        return found


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestContext:
    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.templates = RouteTemplates(fastapi_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _VALID_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started = True
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                if status == 405:
                    # The router names only the methods of the first route it matched; a path
                    # served by several routes (GET and POST) must list them all.
                    allowed = self.templates.allowed_methods(scope.get("path", ""))
                    if allowed:
                        headers["Allow"] = ", ".join(allowed)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            status = 500
            error_log.error("unhandled error", exc_info=exc)
            if not started:
                await self._problem_500(send, request_id)
        finally:
            duration = time.perf_counter() - start
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "OTHER"
            route = self.templates.template(method, scope.get("path", ""))
            labels = (method, route, str(status))
            metrics.http_requests.labels(*labels).inc()
            metrics.http_latency.labels(*labels).observe(duration)
            state = scope.get("state") or {}
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "ctx": {
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        "organization_id": state.get("organization_id"),
                    }
                },
            )
            request_id_var.reset(token)

    @staticmethod
    async def _problem_500(send: Send, request_id: str) -> None:
        await send_problem(
            send,
            500,
            "Internal error",
            "An unexpected error occurred.",
            "internal",
            [(REQUEST_ID_HEADER.lower().encode(), request_id.encode())],
        )
