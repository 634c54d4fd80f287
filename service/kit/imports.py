"""What every versioned import (skills, occupations) reports when it ends: rows created, updated, left
unchanged and removed, phrases embedded, whether the version was recorded, and how long it took."""

from __future__ import annotations

from dataclasses import dataclass, field


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
