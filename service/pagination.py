"""Opaque keyset cursors: newest first, ordered by (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_

from service.errors import Unprocessable

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=100, description="Page size (1-100).")]
CursorQuery = Annotated[str | None, Query(max_length=500, description="Opaque cursor from `next_cursor`.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, id_: str) -> str:
    raw = json.dumps([created_at.isoformat(), id_]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, id_ = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created), str(id_)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Unprocessable("The cursor is not valid.") from exc


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
