"""SQL for programmes and their courses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.orm import Program
from service.pagination import paginate


def get(session: Session, program_id: str) -> Program | None:
    return session.get(Program, program_id)


def get_owned(
    session: Session, program_id: str, organization_id: str, *, lock: bool = False
) -> Program | None:
    """``lock``: hold the row until the transaction ends (PostgreSQL ``FOR UPDATE``), so concurrent
    writers of one object take turns instead of the later one failing on a stale version."""
    program = session.get(Program, program_id, with_for_update=True if lock else None)
    if program is None or program.organization_id != organization_id:
        return None
    return program


def find_owned(session: Session, ref: str, organization_id: str) -> list[Program]:
    """The organisation's programmes that ``ref`` names: the one with that id, else those with that
    code (a code is the school's own label, so several programmes may share one)."""
    program = get_owned(session, ref, organization_id)
    if program is not None:
        return [program]
    stmt = (
        select(Program)
        .where(Program.organization_id == organization_id, Program.code == ref)
        .order_by(Program.created_at, Program.id)
    )
    return list(session.scalars(stmt))


def list_programs(
    session: Session, *, limit: int, cursor: str | None, owner_id: str | None = None
) -> list[Program]:
    stmt = select(Program)
    if owner_id:
        stmt = stmt.where(Program.organization_id == owner_id)
    return list(session.scalars(paginate(stmt, Program, limit, cursor)))


def all_programs(session: Session) -> list[Program]:
    return list(session.scalars(select(Program).order_by(Program.created_at, Program.id)))


def add(session: Session, program: Program) -> None:
    session.add(program)
    session.flush()


def delete(session: Session, program: Program) -> None:
    session.delete(program)
    session.flush()
