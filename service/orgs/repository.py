"""SQL for organisations and API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from service.orm import ApiKey, Organization, WebSession


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


def key_last_used(session: Session, key_hash: str) -> Row[str, datetime | None] | None:
    """The key's ``(id, last_used_at)``, or None for an unknown hash."""
    return session.execute(select(ApiKey.id, ApiKey.last_used_at).where(ApiKey.key_hash == key_hash)).first()


def mark_key_used(session: Session, key_id: str, at: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))


def by_name(session: Session, name: str) -> list[Organization]:
    """Every organisation called exactly ``name`` (names are not unique)."""
    return list(session.scalars(select(Organization).where(Organization.name == name)))


def get_web_session(session: Session, session_id: str) -> WebSession | None:
    """A signed-in page session (the web pages' sign-in, made with one of the organisation's keys)."""
    return session.get(WebSession, session_id)
