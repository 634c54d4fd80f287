"""SQL for training orders, their append-only history and deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.orm import Graduate, OrderDelivery, OrderTransition, TrainingOrder
from service.pagination import paginate


def get_for_party(
    session: Session, order_id: str, organization_id: str, *, lock: bool = False
) -> TrainingOrder | None:
    """An order the caller is party to (placed it, or the school it is addressed to); ``lock``: as
    :func:`service.curricula.repository.get_owned`."""
    order = session.get(TrainingOrder, order_id, with_for_update=True if lock else None)
    if order is None or organization_id not in (order.enterprise_id, order.school_id):
        return None
    return order


def list_for_party(
    session: Session,
    *,
    organization_id: str,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    role: str | None = None,
) -> list[TrainingOrder]:
    if role == "placed":
        stmt = select(TrainingOrder).where(TrainingOrder.enterprise_id == organization_id)
    elif role == "received":
        stmt = select(TrainingOrder).where(TrainingOrder.school_id == organization_id)
    else:
        stmt = select(TrainingOrder).where(
            or_(TrainingOrder.enterprise_id == organization_id, TrainingOrder.school_id == organization_id)
        )
    if status:
        stmt = stmt.where(TrainingOrder.status == status)
    return list(session.scalars(paginate(stmt, TrainingOrder, limit, cursor)))


def add(session: Session, order: TrainingOrder, first: OrderTransition) -> None:
    session.add(order)
    session.flush()
    first.order_id = order.id
    session.add(first)
    session.flush()


def set_status_if_version(
    session: Session, order_id: str, *, expected_version: int, status: str, now: datetime
) -> bool:
    """Compare-and-set: move the order to ``status`` only if it is still at ``expected_version``.

    One statement, so concurrent writers with the same version cannot both succeed (on PostgreSQL the
    loser re-reads the row after the winner commits and matches nothing; on SQLite writers are serial).
    """
    result = session.execute(
        update(TrainingOrder)
        .where(TrainingOrder.id == order_id, TrainingOrder.version == expected_version)
        .values(status=status, version=TrainingOrder.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def append_history(session: Session, entry: OrderTransition) -> None:
    session.add(entry)
    session.flush()


def add_deliveries(session: Session, deliveries: list[OrderDelivery]) -> bool:
    """Insert the deliveries; False (and nothing inserted) if one of the graduates was delivered by
    another order meanwhile (the unique constraint on ``graduate_id``)."""
    try:
        with session.begin_nested():
            session.add_all(deliveries)
            session.flush()
    except IntegrityError:
        return False
    return True


def graduates_by_ids(session: Session, ids: list[str]) -> dict[str, Graduate]:
    found: dict[str, Graduate] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update({g.id: g for g in session.scalars(select(Graduate).where(Graduate.id.in_(chunk)))})
    return found


def delivered_elsewhere(session: Session, graduate_ids: list[str], order_id: str) -> dict[str, str]:
    """Those of ``graduate_ids`` already delivered by another order, each with that order's id."""
    out: dict[str, str] = {}
    for start in range(0, len(graduate_ids), 500):
        chunk = graduate_ids[start : start + 500]
        stmt = select(OrderDelivery.graduate_id, OrderDelivery.order_id).where(
            OrderDelivery.graduate_id.in_(chunk), OrderDelivery.order_id != order_id
        )
        out.update({gid: oid for gid, oid in session.execute(stmt)})
    return out
