"""Organisations and their API keys (stored only as hashes, shown once)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

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


def note_use(session: Session, key_hash: str, *, write_sessions: sessionmaker[Session] | None) -> None:
    """Record that a key signed a request (for the keys page's "last used"), at most every
    ``LAST_USED_EVERY``. In the request's own session when it writes, else in a short write of its own
    (``write_sessions``; none: not recorded)."""
    row = repo.key_last_used(session, key_hash)
    if row is None:
        return
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_EVERY:
        return
    if is_writer(session):
        repo.mark_key_used(session, row.id, now)
        return
    if write_sessions is None:
        return
    with write_sessions() as writer, writer.begin():
        repo.mark_key_used(writer, row.id, now)
