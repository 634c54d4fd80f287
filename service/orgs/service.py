"""Organisations and their API keys (stored only as hashes, shown once)."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from service.errors import NotFound
from service.orgs import repository as repo
from service.orgs.keys import hash_key
from service.orgs.schemas import OrganizationCreate
from service.orm import ApiKey, Organization, utcnow

KEY_PREFIX = "tm_"


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
