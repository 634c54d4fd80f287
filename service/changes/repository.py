"""SQL for the named change counters (the ``state_counter`` table)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.orm import StateCounter


def bump(session: Session, name: str) -> int:
    """Increment counter ``name`` in the current transaction and return its new value."""
    stmt = (
        update(StateCounter)
        .where(StateCounter.name == name)
        .values(value=StateCounter.value + 1)
        .returning(StateCounter.value)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:
        session.add(StateCounter(name=name, value=1))
        session.flush()
        return 1
    return int(value)


def current(session: Session, name: str) -> int:
    value = session.scalar(select(StateCounter.value).where(StateCounter.name == name))
    return int(value or 0)
