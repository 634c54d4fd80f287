"""SQL for organisations and API keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.orm import ApiKey, Organization


def org_for_key_hash(session: Session, key_hash: str) -> Organization | None:
    stmt = (
        select(Organization)
        .join(ApiKey, ApiKey.organization_id == Organization.id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    return session.scalars(stmt).first()


def get(session: Session, organization_id: str) -> Organization | None:
    return session.get(Organization, organization_id)


def list_orgs(session: Session, *, kind: str | None = None) -> list[Organization]:
    stmt = select(Organization).order_by(Organization.name, Organization.id)
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    return list(session.scalars(stmt))


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def keys_of(session: Session, organization_id: str) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.created_at)
    return list(session.scalars(stmt))


def get_key(session: Session, organization_id: str, key_id: str) -> ApiKey | None:
    key = session.get(ApiKey, key_id)
    if key is None or key.organization_id != organization_id:
        return None
    return key
