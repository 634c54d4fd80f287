"""Idempotent POSTs: the ``Idempotency-Key`` header (Stripe; IETF draft-ietf-httpapi-idempotency-key-header).

A client that may retry a create sends a key it chose; the service answers every retry with the first
answer instead of doing the work again.

- Same key, same request (same endpoint and canonical JSON body), same organisation: the original
  status and body are replayed (header ``Idempotent-Replayed: true``; the ``ETag`` is the one the first
  answer carried, derived from the stored body's ``version``). Nothing is written a second time.
- Same key, different request: 422.
- A request that arrives while the first with that key is still running: 409 (retry later; once the
  first has committed, the retry is replayed).
- Keys are scoped per organisation (the one the API key names) and kept ``idempotency_ttl_hours``
  (settings, 48 h by default). Expired keys of an organisation are purged when it next sends one.
- Only successful answers are stored. The key is claimed in the request's own transaction: the claim
  row is inserted before the work runs and the response is written into it before the session
  dependency commits, so the claim and the work are stored together or not at all. A request that
  fails (4xx/5xx) leaves no trace and may be retried with the same key.

In-flight detection, so a concurrent duplicate never runs the work twice:

- PostgreSQL: ``pg_try_advisory_xact_lock(hashtext(org || ':' || key))`` (held until the transaction
  ends; taken → 409), then the stored row is read again: a first request that committed meanwhile is
  replayed.
- SQLite: write transactions are already serialised (``BEGIN IMMEDIATE``), so a duplicate waits for the
  first to commit and is then replayed. An in-process set of in-flight ``(organisation, key)`` pairs,
  released when the request's transaction ends, answers 409 for any path that is not serialised.
- Backstop: the unique constraint ``(organization_id, key)``; a violation answers 409, never 500.

``resource_ids`` records the ids a stored answer mentions (e.g. the graduate ids of a bulk upsert), so
:func:`service.idempotency.repository.forget_resources` can erase stored answers that name an erased
graduate. Every statement is in ``repository.py``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from service.api.deps import CurrentOrg, SettingsDep
from service.db import SessionDep
from service.errors import IdempotencyInFlight, Unprocessable
from service.idempotency import repository as repo
from service.kit.versions import etag_for
from service.orm import IdempotencyKey, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


@dataclass
class Outcome:
    """What the work of an idempotent request produced: the answer to send and to store."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    resource_ids: list[str] = field(default_factory=list)


class _InFlight:
    """In-process set of (organisation, key) pairs whose request has not finished yet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[tuple[str, str]] = set()

    def claim(self, pair: tuple[str, str]) -> bool:
        with self._lock:
            if pair in self._keys:
                return False
            self._keys.add(pair)
            return True

    def release(self, pair: tuple[str, str]) -> None:
        with self._lock:
            self._keys.discard(pair)


IN_FLIGHT = _InFlight()


def request_hash(endpoint: str, payload: Any) -> str:
    """SHA-256 of the endpoint and the canonical JSON of the body (sorted keys, no whitespace)."""
    canonical = json.dumps(
        jsonable_encoder(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


def parse_key(raw: str) -> str:
    """The key as sent; a structured-field string (``"..."``, as the IETF draft writes it) is unquoted."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise Unprocessable(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters.",
            extra={"errors": [{"loc": ["header", HEADER], "msg": "not a valid key", "type": "value_error"}]},
        )
    return key


def _response(status: int, body: Any, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers or None)


def _replay_headers(body: Any) -> dict[str, str]:
    headers = {REPLAYED_HEADER: "true"}
    if isinstance(body, dict) and isinstance(body.get("version"), int):
        headers["ETag"] = etag_for(body["version"])
    return headers


class Idempotency:
    """One request's idempotency handle: ``run(payload, work)`` does the work at most once per key."""

    def __init__(
        self, session: Session, *, organization_id: str, key: str | None, endpoint: str, ttl_hours: int
    ) -> None:
        self.session = session
        self.organization_id = organization_id
        self.key = parse_key(key) if key is not None else None
        self.endpoint = endpoint
        self.ttl = timedelta(hours=ttl_hours)

    def run(self, payload: Any, work: Callable[[], Outcome]) -> JSONResponse:
        if self.key is None:
            outcome = work()
            return _response(outcome.status, jsonable_encoder(outcome.body), outcome.headers)
        digest = request_hash(self.endpoint, payload)
        self._purge_expired()
        stored = self._stored()
        if stored is not None:
            return self._answer(stored, digest)
        self._claim_in_flight()
        stored = self._stored()  # a first request may have committed while we claimed
        if stored is not None:
            return self._answer(stored, digest)
        row = self._insert_claim(digest)
        outcome = work()
        body = jsonable_encoder(outcome.body)
        row.response_status = outcome.status
        row.response_body = body
        row.resource_ids = list(outcome.resource_ids)
        self.session.flush()
        return _response(outcome.status, body, outcome.headers)

    # -- steps -------------------------------------------------------------------------------------

    def _purge_expired(self) -> None:
        """Opportunistic clean-up: the organisation's keys older than the TTL are forgotten."""
        repo.purge_older_than(self.session, self.organization_id, utcnow() - self.ttl)

    def _stored(self) -> IdempotencyKey | None:
        assert self.key is not None
        return repo.get(self.session, self.organization_id, self.key)

    def _answer(self, stored: IdempotencyKey, digest: str) -> JSONResponse:
        if stored.request_hash != digest:
            raise Unprocessable(
                f"This {HEADER} was already used with a different request "
                f"({stored.endpoint}); use a new key for a new request.",
                extra={
                    "errors": [
                        {
                            "loc": ["header", HEADER],
                            "msg": "reused with a different request",
                            "type": "value_error",
                        }
                    ]
                },
            )
        if stored.response_status is None:
            raise IdempotencyInFlight(f"The request with this {HEADER} has not finished; retry shortly.")
        body = stored.response_body
        return _response(stored.response_status, body, _replay_headers(body))

    def _claim_in_flight(self) -> None:
        assert self.key is not None
        pair = (self.organization_id, self.key)
        busy = IdempotencyInFlight(f"A request with this {HEADER} is still being processed; retry shortly.")
        if not IN_FLIGHT.claim(pair):
            raise busy

        def _release(_session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None:
                IN_FLIGHT.release(pair)

        event.listen(self.session, "after_transaction_end", _release)
        if not repo.try_lock(self.session, self.organization_id, self.key):
            raise busy

    def _insert_claim(self, digest: str) -> IdempotencyKey:
        row = IdempotencyKey(
            organization_id=self.organization_id,
            key=self.key,
            endpoint=self.endpoint,
            request_hash=digest,
            response_status=None,
            response_body=None,
            resource_ids=[],
        )
        try:
            repo.add_claim(self.session, row)
        except IntegrityError as exc:  # another request claimed the key first
            raise IdempotencyInFlight(
                f"A request with this {HEADER} is still being processed; retry shortly."
            ) from exc
        return row


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=MAX_KEY_LENGTH + 2,
        description=(
            "Optional client-chosen key (≤ 255 printable ASCII characters). A retry with the same key "
            "and body replays the first answer; the same key with another body is 422; a retry while "
            "the first is still running is 409. Kept at least 24 h, per organisation."
        ),
    ),
]


def idempotency(
    request: Request,
    session: SessionDep,
    org: CurrentOrg,
    settings: SettingsDep,
    key: IdempotencyKeyHeader = None,
) -> Idempotency:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return Idempotency(
        session,
        organization_id=org.id,
        key=key,
        endpoint=f"{request.method} {path}",
        ttl_hours=settings.idempotency_ttl_hours,
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
