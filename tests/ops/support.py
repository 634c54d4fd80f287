"""Helpers for the operations tests: a full text dump of the database, direct seeding."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import inspect, text

from service.db import make_engine
from service.orm import MatchResult, MatchRun


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def dump_database(url: str) -> dict[str, str]:
    """Every row of every table (all columns, as text), per table: what erasure must leave clean."""
    engine = make_engine(url)
    out: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT * FROM "{name}"'))
                out[name] = "\n".join("\t".join(_as_text(v) for v in row) for row in rows)
    finally:
        engine.dispose()
    return out


def tables_mentioning(dump: dict[str, str], needle: str) -> list[str]:
    needle = needle.lower()
    return sorted(name for name, body in dump.items() if needle in body.lower())


def seed_match(
    app: FastAPI, *, demand_id: str, organization_id: str, graduate_id: str, school_id: str, phrase: str
) -> str:
    """A persisted match result naming the graduate, as the matcher stores one (evidence included)."""
    with app.state.write_sessions() as session, session.begin():
        run = MatchRun(
            demand_id=demand_id,
            organization_id=organization_id,
            model="fake",
            model_version="1",
            taxonomy_version=None,
            top_k=10,
            min_score=None,
        )
        run.results = [
            MatchResult(
                rank=1,
                graduate_id=graduate_id,
                school_id=school_id,
                score=0.9,
                skills=[{"demand_skill": "CNC machining", "matched": phrase, "similarity": 0.9}],
                missing_required=[],
            )
        ]
        session.add(run)
        session.flush()
        return run.id
