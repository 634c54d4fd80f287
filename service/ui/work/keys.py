"""API key page: the organisation's keys, a new key shown once, revocation."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.db import SessionDep
from service.orgs import repository as orgs_repo
from service.orgs import service as orgs_service
from service.ui.pages import PageContext, PageRoute, SignedIn
from service.ui.work.common import (
    Token,
    org_of,
)

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)


def _render_keys(
    ctx: PageContext, session: SessionDep, *, new_key: str | None = None, status_code: int = 200
) -> Response:
    org = org_of(ctx)
    keys = orgs_repo.keys_of(session, org.id)
    return ctx.render(
        "keys.html",
        status_code=status_code,
        page_title=ctx.t("keys_title"),
        keys=keys,
        new_key=new_key,
    )


@router.get("/keys")
def keys_page(ctx: SignedIn, session: SessionDep) -> Response:
    return _render_keys(ctx, session)


@router.post("/keys")
def issue_key(ctx: SignedIn, session: SessionDep, csrf_token: Token = "") -> Response:
    """A new key, shown on this answer only (it is stored as a hash); the page is not a redirect so
    that the key is never kept anywhere else."""
    ctx.check_csrf(csrf_token)
    _row, key = orgs_service.issue_key(session, org_of(ctx))
    return _render_keys(ctx, session, new_key=key, status_code=201)


@router.post("/keys/{key_id}/revoke")
def revoke_key(key_id: str, ctx: SignedIn, session: SessionDep, csrf_token: Token = "") -> Response:
    ctx.check_csrf(csrf_token)
    orgs_service.revoke(session, org_of(ctx).id, key_id)
    return ctx.redirect("/ui/keys")
