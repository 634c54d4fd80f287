"""CSV downloads of the pages' tables: UTF-8 with a byte-order mark, formula-looking text defused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response


def csv_pct(value: float | None) -> str:
    """A share in a CSV: a percentage with one decimal."""
    return "" if value is None else f"{float(value) * 100:.1f}%"


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese text correctly."""
    body = ("\ufeff" + csv_text(rows)).encode("utf-8")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
