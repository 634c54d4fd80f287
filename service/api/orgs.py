from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AdminDep, CurrentOrg
from service.db import SessionDep
from service.orgs import repository as repo
from service.orgs import service
from service.orgs.kinds import OrgKind
from service.orgs.schemas import (
    ApiKeyCreated,
    ApiKeyRead,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationRead,
)
from service.pagination import Page

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])


@router.post(
    "", status_code=201, response_model=OrganizationCreated, summary="Create an organisation (admin)"
)
def create_organization(body: OrganizationCreate, session: SessionDep, _: AdminDep) -> OrganizationCreated:
    org, key = service.create(session, body)
    return OrganizationCreated.model_validate(
        {**OrganizationRead.model_validate(org).model_dump(), "api_key": key}
    )


@router.get("/me", response_model=OrganizationRead, summary="The caller's organisation")
def get_me(org: CurrentOrg) -> OrganizationRead:
    return OrganizationRead.model_validate(org)


@router.get("", response_model=Page[OrganizationRead], summary="Directory of member organisations")
def list_organizations(
    session: SessionDep, _org: CurrentOrg, kind: Annotated[OrgKind | None, Query()] = None
) -> Page[OrganizationRead]:
    """Public directory information (name, kind, region, industry) so members can find each other."""
    rows = repo.list_orgs(session, kind=kind.value if kind else None)
    return Page[OrganizationRead](items=[OrganizationRead.model_validate(r) for r in rows], next_cursor=None)


@router.get("/{organization_id}/api-keys", response_model=list[ApiKeyRead], summary="List keys (admin)")
def list_keys(organization_id: str, session: SessionDep, _: AdminDep) -> list[ApiKeyRead]:
    service.get_or_404(session, organization_id)
    return [ApiKeyRead.model_validate(k) for k in repo.keys_of(session, organization_id)]


@router.post(
    "/{organization_id}/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Issue a new key; the others keep working unless revoke_existing=true (admin)",
)
def rotate_key(
    organization_id: str,
    session: SessionDep,
    _: AdminDep,
    revoke_existing: Annotated[
        bool, Query(description="Also revoke every other key of the organisation (a rotation).")
    ] = False,
) -> ApiKeyCreated:
    """Issue a key. Nothing is revoked unless asked, so a second key never breaks a running
    integration; the answer lists the keys that work now."""
    row, key = service.rotate(session, organization_id, revoke_existing=revoke_existing)
    active = [
        ApiKeyRead.model_validate(k) for k in repo.keys_of(session, organization_id) if k.revoked_at is None
    ]
    return ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(row).model_dump(), "api_key": key, "active_keys": active}
    )


@router.delete(
    "/{organization_id}/api-keys/{key_id}", response_model=ApiKeyRead, summary="Revoke a key (admin)"
)
def revoke_key(organization_id: str, key_id: str, session: SessionDep, _: AdminDep) -> ApiKeyRead:
    return ApiKeyRead.model_validate(service.revoke(session, organization_id, key_id))
