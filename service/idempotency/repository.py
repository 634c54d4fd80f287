"""SQL for stored idempotent answers (the ``idempotency_key`` table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import func

from service.orm import IdempotencyKey


def get(session: Session, organization_id: str, key: str) -> IdempotencyKey | None:
    stmt = select(IdempotencyKey).where(
        IdempotencyKey.organization_id == organization_id, IdempotencyKey.key == key
    )
    return session.scalars(stmt).first()


def purge_older_than(session: Session, organization_id: str, cutoff: datetime) -> None:
    """Forget the organisation's keys created before ``cutoff``."""
    session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.organization_id == organization_id, IdempotencyKey.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )


def try_lock(session: Session, organization_id: str, key: str) -> bool:
    """PostgreSQL: ``pg_try_advisory_xact_lock`` on the pair, held until the transaction ends (False:
    another transaction holds it). Other databases serialise writers already: always True."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtext(f"{organization_id}:{key}"))))
    )


def add_claim(session: Session, row: IdempotencyKey) -> None:
    """Insert the claim in a savepoint; raises ``IntegrityError`` when the key is already claimed."""
    with session.begin_nested():
        session.add(row)


def forget_resources(session: Session, organization_id: str, resource_ids: list[str]) -> int:
    """Delete the organisation's stored answers that mention any of ``resource_ids`` (erasure).

    Returns how many were deleted. Scans only the organisation's live keys (bounded by the TTL).
    """
    wanted = set(resource_ids)
    if not wanted:
        return 0
    rows = session.scalars(select(IdempotencyKey).where(IdempotencyKey.organization_id == organization_id))
    doomed = [r.id for r in rows if wanted.intersection(r.resource_ids or [])]
    if doomed:
        session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.id.in_(doomed))
            .execution_options(synchronize_session=False)
        )
    return len(doomed)
