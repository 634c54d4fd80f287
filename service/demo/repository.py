"""SQL of the demo builder: finding and removing a previous run's organisations."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.orm import Graduate, Organization


def org_ids_named_ending(session: Session, suffix: str) -> list[str]:
    return list(session.scalars(select(Organization.id).where(Organization.name.endswith(suffix))))


def graduates_of(session: Session, organization_ids: list[str]) -> list[Graduate]:
    return list(session.scalars(select(Graduate).where(Graduate.organization_id.in_(organization_ids))))


def delete_orgs(session: Session, organization_ids: list[str]) -> None:
    """Delete the organisations; what they own goes with them (the schema's cascades)."""
    session.execute(delete(Organization).where(Organization.id.in_(organization_ids)))
