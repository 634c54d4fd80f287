"""Progress of a long run (an import, a re-embedding): the CLI shows bars, the app reports nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, phase: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


class NullProgress:
    def start(self, phase: str, total: int) -> None:
        return None

    def advance(self, n: int) -> None:
        return None
