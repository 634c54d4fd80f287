"""Organisations and their API keys (stored only as hashes, shown once)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db import is_writer
from service.errors import NotFound
from service.orgs import repository as repo
from service.orgs.keys import hash_key
from service.orgs.schemas import OrganizationCreate
from service.orm import ApiKey, Organization, utcnow

KEY_PREFIX = "tm_"
# "Last used" is written at most this often per key, so reading calls do not each write.
LAST_USED_EVERY = timedelta(minutes=5)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def issue_key(session: Session, org: Organization) -> tuple[ApiKey, str]:
    key = new_key()
    row = ApiKey(organization_id=org.id, key_hash=hash_key(key), prefix=key[:10])
    repo.add(session, row)
    return row, key


def create(session: Session, data: OrganizationCreate) -> tuple[Organization, str]:
    org = Organization(name=data.name, kind=data.kind.value, region=data.region, industry=data.industry)
    repo.add(session, org)
    _, key = issue_key(session, org)
    return org, key


def get_or_404(session: Session, organization_id: str) -> Organization:
    org = repo.get(session, organization_id)
    if org is None:
        raise NotFound(f"No organisation {organization_id}.")
    return org


def rotate(session: Session, organization_id: str, *, revoke_existing: bool) -> tuple[ApiKey, str]:
    org = get_or_404(session, organization_id)
    if revoke_existing:
        now = utcnow()
        for old in repo.keys_of(session, org.id):
            if old.revoked_at is None:
                old.revoked_at = now
    return issue_key(session, org)


def revoke(session: Session, organization_id: str, key_id: str) -> ApiKey:
    key = repo.get_key(session, organization_id, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id} for organisation {organization_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.flush()
    return key


def note_use(app_state: Any, session: Session, key_hash: str) -> None:
    """Record that a key signed a request (for the keys page's "last used"), at most every
    ``LAST_USED_EVERY``. In the request's own session when it writes, else in a short write of its own."""
    row = session.execute(select(ApiKey.id, ApiKey.last_used_at).where(ApiKey.key_hash == key_hash)).first()
    if row is None:
        return
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_EVERY:
        return
    stmt = update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now)
    if is_writer(session):
        session.execute(stmt)
        return
    makers = getattr(app_state, "write_sessions", None)
    if makers is None:
        return
    with makers() as writer, writer.begin():
        writer.execute(stmt)
