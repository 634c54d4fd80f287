"""SQL for matching: graduates to index, stored match runs, demands and programmes to rank."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.orm import Demand, Graduate, GraduateTombstone, MatchResult, MatchRun, Program, TaxonomyVersion


def graduates_changed_since(session: Session, seq: int) -> Iterator[tuple[str, str, list[Any], bool]]:
    """(id, school id, skills, placed) of graduates written after change counter value ``seq``."""
    stmt = (
        select(Graduate.id, Graduate.organization_id, Graduate.skills, Graduate.placed)
        .where(Graduate.change_seq > seq)
        .execution_options(yield_per=5000)
    )
    for row in session.execute(stmt):
        yield row[0], row[1], list(row[2] or []), bool(row[3])


def tombstones_since(session: Session, seq: int) -> list[str]:
    stmt = select(GraduateTombstone.graduate_id).where(GraduateTombstone.change_seq > seq)
    return list(session.scalars(stmt))


def graduate_skill_lists(session: Session, ids: list[str], *, hold: bool = False) -> dict[str, list[Any]]:
    """The skill lists of the graduates of ``ids`` that exist. ``hold``: keep them from being erased
    until the transaction ends (PostgreSQL ``FOR KEY SHARE``, what a foreign key to them needs; SQLite's
    writer already holds the only write lock)."""
    out: dict[str, list[Any]] = {}
    for start in range(0, len(ids), 500):
        stmt = select(Graduate.id, Graduate.skills).where(Graduate.id.in_(ids[start : start + 500]))
        if hold:
            stmt = stmt.with_for_update(read=True, key_share=True)
        out.update({gid: list(skills or []) for gid, skills in session.execute(stmt)})
    return out


def latest_taxonomy_version(session: Session) -> str | None:
    stmt = select(TaxonomyVersion.source, TaxonomyVersion.version).order_by(
        TaxonomyVersion.imported_at.desc()
    )
    row = session.execute(stmt.limit(1)).first()
    return f"{row[0]}:{row[1]}" if row else None


def replace_run(session: Session, run: MatchRun) -> None:
    """Store ``run`` as the demand's result, dropping older ones (only the last is served)."""
    session.execute(delete(MatchRun).where(MatchRun.demand_id == run.demand_id))
    session.add(run)
    session.flush()


def last_run(session: Session, demand_id: str) -> MatchRun | None:
    stmt = select(MatchRun).where(MatchRun.demand_id == demand_id).order_by(MatchRun.created_at.desc())
    return session.scalars(stmt.limit(1)).first()


def results_with_graduates(session: Session, run_id: str) -> list[tuple[MatchResult, list[Any]]]:
    stmt = (
        select(MatchResult, Graduate.skills)
        .join(Graduate, Graduate.id == MatchResult.graduate_id)
        .where(MatchResult.run_id == run_id)
        .order_by(MatchResult.rank)
    )
    return [(r, list(skills or [])) for r, skills in session.execute(stmt)]


def open_demands(session: Session) -> list[Demand]:
    stmt = select(Demand).where(Demand.status == "open").order_by(Demand.created_at, Demand.id)
    return list(session.scalars(stmt))


def all_programs(session: Session) -> list[Program]:
    return list(session.scalars(select(Program).order_by(Program.created_at, Program.id)))
