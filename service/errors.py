"""Domain errors and their rendering as RFC 9457 ``application/problem+json``.

Exception tree::

    DomainError (500)
    ├── BadRequest (400)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── Conflict (409)
    │   ├── InvalidTransition (409)
    │   └── IdempotencyInFlight (409)
    ├── PreconditionFailed (412)
    ├── PayloadTooLarge (413)
    ├── Unprocessable (422)
    ├── PreconditionRequired (428)
    ├── TooManyRequests (429)
    └── ServiceUnavailable (503)

Services raise these; the HTTP layer only renders them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status = 500
    title = "Internal error"
    type_slug = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(DomainError):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class InvalidTransition(Conflict):
    title = "Transition not allowed"
    type_slug = "invalid-transition"


class IdempotencyInFlight(Conflict):
    title = "A request with this Idempotency-Key is still being processed"
    type_slug = "idempotency-in-flight"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class Unprocessable(DomainError):
    status = 422
    title = "Unprocessable content"
    type_slug = "unprocessable"


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"
    type_slug = "precondition-required"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    type_slug = "rate-limited"


class ServiceUnavailable(DomainError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"


def problem_body(status: int, title: str, detail: str, type_slug: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://talentmatch.example/problems/{type_slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return body


async def send_problem(
    send: Send,
    status: int,
    title: str,
    detail: str,
    type_slug: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer an ASGI request with a problem+json body, from a middleware below the app's handlers."""
    body = json.dumps(problem_body(status, title, detail, type_slug)).encode()
    start_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


def problem_response(
    status: int, title: str, detail: str, type_slug: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, type_slug, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_STATUS_TITLES = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    406: ("Not acceptable", "not-acceptable"),
    409: ("Conflict", "conflict"),
    413: ("Payload too large", "payload-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    422: ("Unprocessable content", "unprocessable"),
}


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


BUSY_RETRY_AFTER_SECONDS = 1
# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected
_LOCK_SQLSTATES = frozenset({"55P03", "40P01"})


def is_lock_timeout(exc: OperationalError) -> bool:
    """Whether the database gave up waiting for a lock (SQLite's busy timeout, PostgreSQL's
    ``lock_timeout`` or a deadlock it broke), as opposed to a broken connection or a bug."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _LOCK_SQLSTATES:
        return True
    return type(orig).__module__.startswith("sqlite3") and "database is locked" in str(orig)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, exc.type_slug, headers=exc.headers or None, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _jsonable_errors(exc.errors())
        return problem_response(
            422, "Validation failed", "The request is not valid; see errors.", "validation", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, slug = _STATUS_TITLES.get(exc.status_code, ("Error", "error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route {request.method} {request.url.path}"
        return problem_response(
            exc.status_code, title, detail, slug, headers=dict(exc.headers) if exc.headers else None
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # The conditional UPDATE ... WHERE version = ? matched no row: a concurrent writer won.
        return problem_response(
            412,
            "Precondition failed",
            "The resource has changed since it was read; fetch it again.",
            "precondition-failed",
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (e.g. NUL in a PostgreSQL text parameter): the client's input.
        return problem_response(
            422,
            "Unprocessable content",
            "A value in the request cannot be stored or searched for (for example a NUL character).",
            "unprocessable",
        )

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        if is_lock_timeout(exc):
            # Nothing was written (the transaction rolled back); the same request can simply be sent again.
            return problem_response(
                503,
                "Database busy",
                "The database was busy with other writes for too long; nothing was changed. Retry shortly.",
                "database-busy",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
            )
        return await _unhandled(request, exc)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("service.errors").exception("unhandled error", exc_info=exc)
        return problem_response(500, "Internal error", "An unexpected error occurred.", "internal")
