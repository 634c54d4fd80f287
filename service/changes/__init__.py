"""Change counters that let every API process keep its in-memory state in step with the database.

A writer bumps a named counter inside its own transaction (``bump``); a reader compares the counter
(``current``) with the value it last saw and reloads only what changed (rows whose ``change_seq`` is
newer). The statements are in ``repository.py``.
"""

from __future__ import annotations

from service.changes.repository import bump, current

__all__ = ["DEMAND", "GRADUATE", "OCCUPATION", "PROGRAM", "TAXONOMY", "bump", "current"]

GRADUATE = "graduate"
DEMAND = "demand"
PROGRAM = "program"
TAXONOMY = "taxonomy"
OCCUPATION = "occupation"
