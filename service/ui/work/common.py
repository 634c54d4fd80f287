"""What the work pages share: the role checks (anything a role may not see is the 404 page), the
form field types, the version check of an edit form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query

from service.errors import NotFound
from service.orgs.kinds import DEMAND_OWNER_KINDS, OrgKind
from service.orm import Organization
from service.ui.pages import PageContext

Token = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=20_000)]
Lines = Annotated[list[str], Form()]
QueryId = Annotated[str | None, Query(max_length=64)]

LIST_LIMIT = 200


def org_of(ctx: PageContext) -> Organization:
    assert ctx.org is not None
    return ctx.org


def demand_owner(ctx: PageContext) -> Organization:
    org = org_of(ctx)
    if org.kind not in DEMAND_OWNER_KINDS:
        raise NotFound("Demands are posted by enterprises and research institutes.")
    return org


def school(ctx: PageContext) -> Organization:
    org = org_of(ctx)
    if org.kind != OrgKind.school:
        raise NotFound("Programmes and graduates are posted by schools.")
    return org


def member(ctx: PageContext) -> Organization:
    org = org_of(ctx)
    if org.kind == OrgKind.government:
        raise NotFound("This page is for the consortium's members.")
    return org


def stale_version(version: str, current: int) -> bool:
    """An edit form posted from a page older than the object's current version."""
    return bool(version.strip()) and version.strip() != str(current)
