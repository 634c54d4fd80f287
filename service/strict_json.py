"""Strict JSON request bodies on the API (``/v1/...``): what the parser would silently accept is refused.

- a body whose media type is not JSON (``application/json`` or ``application/*+json``), or that
  names a charset other than UTF-8, is 415;
- a body that is not UTF-8 (UTF-16 with or without a byte-order mark, Latin-1) is 415;
- an object with the same key twice (``{"headcount": 1, "headcount": 100000}``) is 422: which of
  the two values a parser keeps differs between parsers, so neither is taken.

Malformed JSON is 422 (as FastAPI would answer it). The web pages (forms) are not under ``/v1``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/v1/"


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def _media_type_ok(content_type: str) -> bool:
    media, *params = [p.strip().lower() for p in content_type.split(";")]
    if not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


class StrictJSON:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or not scope.get("path", "").startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except HTTPException as exc:  # the body cap (service.limits) refuses while streaming
            await problem_response(
                exc.status_code, "Payload too large", str(exc.detail), "payload-too-large"
            )(scope, receive, send)
            return
        body = b"".join(chunks)
        refusal = self._check(scope, body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _check(self, scope: Scope, body: bytes) -> Any:
        if not body:
            return None
        content_type = ""
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                content_type = value.decode("latin-1")
                break
        if not _media_type_ok(content_type):
            return problem_response(
                415,
                "Unsupported media type",
                "The request body must be JSON (Content-Type: application/json).",
                "unsupported-media-type",
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return problem_response(
                415,
                "Unsupported media type",
                "The request body must be UTF-8 JSON.",
                "unsupported-media-type",
            )
        try:
            json.loads(text, object_pairs_hook=_no_duplicates)
        except DuplicateKey as dup:
            return problem_response(
                422,
                "Validation failed",
                f"The key '{dup.key}' appears twice in one object.",
                "validation",
                errors=[{"loc": ["body", dup.key], "msg": "duplicate key", "type": "value_error"}],
            )
        except ValueError as exc:
            # Answered here: FastAPI would guess the encoding of the bytes itself (UTF-16 without a
            # byte-order mark decodes as UTF-8 with NULs, then parses as UTF-16).
            pos = getattr(exc, "pos", 0)
            return problem_response(
                422,
                "Validation failed",
                "The request body is not valid JSON.",
                "validation",
                errors=[{"loc": ["body", str(pos)], "msg": "JSON decode error", "type": "json_invalid"}],
            )
        return None
