"""SQL for consortium insights: aggregates over demands, graduates and training orders.

Every query here returns counts or sums, or the bare skill lists needed to aggregate them; no function
returns a graduate's id or reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.orm import Demand, Graduate, OrderDelivery, OrderTransition, Organization, TrainingOrder


def organizations(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.name, Organization.id)))


def demand_counts(session: Session) -> dict[str, tuple[int, int, int]]:
    """Per organisation: (demands posted, open demands, open headcount)."""
    is_open = Demand.status == "open"
    stmt = select(
        Demand.organization_id,
        func.count(Demand.id),
        func.coalesce(func.sum(case((is_open, 1), else_=0)), 0),
        func.coalesce(func.sum(case((is_open, Demand.headcount), else_=0)), 0),
    ).group_by(Demand.organization_id)
    return {org: (int(n), int(n_open), int(hc)) for org, n, n_open, hc in session.execute(stmt)}


def orders(session: Session) -> list[tuple[str, str, str, int, str]]:
    """Every training order as (id, enterprise id, school id, headcount, status)."""
    stmt = select(
        TrainingOrder.id,
        TrainingOrder.enterprise_id,
        TrainingOrder.school_id,
        TrainingOrder.headcount,
        TrainingOrder.status,
    )
    return [(i, e, s, int(h), st) for i, e, s, h, st in session.execute(stmt)]


def accepted_order_ids(session: Session) -> set[str]:
    """Orders that a school accepted at some point (whatever their status now)."""
    stmt = select(OrderTransition.order_id).where(OrderTransition.action == "accept").distinct()
    return set(session.scalars(stmt))


def delivered_counts(session: Session) -> dict[str, int]:
    """Per order: how many graduates were delivered."""
    stmt = select(OrderDelivery.order_id, func.count()).group_by(OrderDelivery.order_id)
    return {order_id: int(n) for order_id, n in session.execute(stmt)}


def placed_counts(session: Session) -> dict[str, int]:
    """Per school: how many of its graduates are placed."""
    stmt = (
        select(Graduate.organization_id, func.count(Graduate.id))
        .where(Graduate.placed.is_(True))
        .group_by(Graduate.organization_id)
    )
    return {org: int(n) for org, n in session.execute(stmt)}


def unplaced_graduate_skills(session: Session, batch: int = 5_000) -> Iterator[tuple[str, list[Any]]]:
    """(school id, skill list) of each graduate not yet placed, nothing else: the school is needed to
    keep a member's own graduates out of the count its small-group suppression is judged on."""
    stmt = (
        select(Graduate.organization_id, Graduate.skills)
        .where(Graduate.placed.is_(False))
        .execution_options(yield_per=batch)
    )
    for school_id, skills in session.execute(stmt):
        yield school_id, list(skills or [])
