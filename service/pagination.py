"""Opaque keyset cursors: newest first, ordered by (created_at, id); signed (HMAC), so a cursor the
service did not issue is 422 rather than a query with whatever it holds."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_

from service.errors import Unprocessable

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size (1-100).")]
CursorQuery = Annotated[str | None, Query(max_length=500, description="Opaque cursor from `next_cursor`.")]


_ID = re.compile(r"[0-9a-f-]{1,36}")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


_KEY = hashlib.sha256(b"talentmatch cursor: no secret configured").digest()


def set_cursor_secret(secret: str) -> None:
    """Sign cursors with a key derived from ``secret`` (the app sets it from its settings at start)."""
    global _KEY
    _KEY = hmac.new(secret.encode(), b"talentmatch cursor v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _sign(payload: str) -> str:
    return _b64(hmac.new(_KEY, payload.encode("ascii"), hashlib.sha256).digest()[:16])


def encode_cursor(created_at: datetime, id_: str) -> str:
    """``<payload>.<signature>``: base64url JSON ``[created_at, id]`` and a truncated HMAC-SHA256."""
    payload = _b64(json.dumps([created_at.astimezone(UTC).isoformat(), id_]).encode())
    return f"{payload}.{_sign(payload)}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names; 422 for anything this service did not issue (or cannot use)."""
    invalid = Unprocessable("The cursor is not valid; use the next_cursor of a previous page.")
    payload, _, signature = cursor.partition(".")
    try:
        if not hmac.compare_digest(_sign(payload), signature):
            raise invalid
        created, id_ = json.loads(_unb64(payload))
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not isinstance(id_, str) or not _ID.fullmatch(id_):
            raise invalid
        return when.astimezone(UTC), id_
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError) as exc:
        raise invalid from exc


def paginate(stmt: Select[Any], entity: Any, limit: int, cursor: str | None) -> Select[Any]:
    """Apply keyset ordering and the cursor; fetch one extra row to know whether a next page exists."""
    if cursor:
        created, id_ = decode_cursor(cursor)
        stmt = stmt.where(
            or_(entity.created_at < created, and_(entity.created_at == created, entity.id < id_))
        )
    return stmt.order_by(entity.created_at.desc(), entity.id.desc()).limit(limit + 1)


def page_of(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        return rows, encode_cursor(last.created_at, last.id)
    return rows, None


def encode_id_cursor(id_: str) -> str:
    """A cursor for lists ordered by a text id alone (taxonomy skills, occupations): the last id seen,
    base64url. Not signed: it selects only rows after an id, which any caller may ask for."""
    return base64.urlsafe_b64encode(id_.encode()).decode().rstrip("=")


def decode_id_cursor(cursor: str) -> str:
    try:
        padded = (cursor + "=" * (-len(cursor) % 4)).encode()
        value = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Unprocessable("The cursor is not valid.") from exc
    if not value:
        raise Unprocessable("The cursor is not valid.")
    return value
