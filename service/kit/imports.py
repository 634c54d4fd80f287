"""What every versioned import (skills, occupations) shares: comparing the parsed records with the stored
ones by content hash (:func:`diff_by_hash`), and what it reports when it ends (:class:`ImportCounts`:
rows created, updated, left unchanged and removed, phrases embedded, whether the version was recorded,
and how long it took)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(kw_only=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    version_recorded: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def count(self, diff: HashDiff) -> None:
        self.created, self.updated = len(diff.new_rows), len(diff.changed_rows)
        self.removed, self.unchanged = len(diff.removed), diff.unchanged

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


@dataclass
class HashDiff:
    """What a re-import must write: rows to insert, rows to update (with their ``id``), the child rows
    (labels, relations) of both, the ids whose old child rows go, and the ids the file no longer has."""

    new_rows: list[dict[str, Any]] = field(default_factory=list)
    changed_rows: list[dict[str, Any]] = field(default_factory=list)
    child_rows: list[dict[str, Any]] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def writes(self) -> int:
        return len(self.new_rows) + len(self.changed_rows) + len(self.removed)


def diff_by_hash(
    records: Iterable[R],
    existing: Mapping[str, tuple[str, str]],
    *,
    key: Callable[[R], str],
    row: Callable[[R], dict[str, Any]],
    children: Callable[[R], list[dict[str, Any]]],
) -> HashDiff:
    """Compare parsed records with the stored ones (``existing``: id -> (row id, content hash)); a record
    whose ``row(...)["content_hash"]`` is unchanged is left alone."""
    diff = HashDiff()
    seen: set[str] = set()
    for record in records:
        rid = key(record)
        seen.add(rid)
        values = row(record)
        known = existing.get(rid)
        if known is None:
            diff.new_rows.append(values)
            diff.child_rows.extend(children(record))
        elif known[1] != values["content_hash"]:
            diff.changed_rows.append({**values, "id": known[0]})
            diff.touched.append(rid)
            diff.child_rows.extend(children(record))
        else:
            diff.unchanged += 1
    diff.removed = sorted(set(existing) - seen)
    return diff
