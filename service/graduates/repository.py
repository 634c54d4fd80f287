"""SQL for graduate profiles (always scoped to the owning school)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.orm import Graduate, GraduateTombstone, MatchResult, MatchRun, OrderDelivery, TrainingOrder
from service.pagination import paginate


def get_owned(session: Session, graduate_id: str, organization_id: str) -> Graduate | None:
    graduate = session.get(Graduate, graduate_id)
    if graduate is None or graduate.organization_id != organization_id:
        return None
    return graduate


def by_refs(session: Session, organization_id: str, refs: list[str]) -> dict[str, Graduate]:
    found: dict[str, Graduate] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        stmt = select(Graduate).where(
            Graduate.organization_id == organization_id, Graduate.external_ref.in_(chunk)
        )
        found.update({g.external_ref: g for g in session.scalars(stmt)})
    return found


def list_owned(
    session: Session,
    *,
    organization_id: str,
    limit: int,
    cursor: str | None,
    program_id: str | None = None,
    graduation_year: int | None = None,
) -> list[Graduate]:
    stmt = select(Graduate).where(Graduate.organization_id == organization_id)
    if program_id:
        stmt = stmt.where(Graduate.program_id == program_id)
    if graduation_year:
        stmt = stmt.where(Graduate.graduation_year == graduation_year)
    return list(session.scalars(paginate(stmt, Graduate, limit, cursor)))


def add_all(session: Session, graduates: list[Graduate]) -> None:
    session.add_all(graduates)
    session.flush()


def delete(session: Session, graduate: Graduate, change_seq: int) -> None:
    session.add(GraduateTombstone(graduate_id=graduate.id, change_seq=change_seq))
    session.delete(graduate)
    session.flush()


def match_results_for(session: Session, graduate_id: str) -> list[tuple[MatchResult, MatchRun]]:
    stmt = (
        select(MatchResult, MatchRun)
        .join(MatchRun, MatchRun.id == MatchResult.run_id)
        .where(MatchResult.graduate_id == graduate_id)
        .order_by(MatchRun.created_at)
    )
    return [(r, run) for r, run in session.execute(stmt)]


def deliveries_for(session: Session, graduate_id: str) -> list[tuple[OrderDelivery, TrainingOrder]]:
    stmt = (
        select(OrderDelivery, TrainingOrder)
        .join(TrainingOrder, TrainingOrder.id == OrderDelivery.order_id)
        .where(OrderDelivery.graduate_id == graduate_id)
    )
    return [(d, o) for d, o in session.execute(stmt)]
