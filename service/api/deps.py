"""Request dependencies: who is calling, and what they may do.

The organisation always comes from the API key, never from a field in the request. The rules live in
their domains (:mod:`service.orgs.kinds`, :mod:`service.orgs.keys`, :mod:`service.kit.versions`); this
module only adapts them to FastAPI.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.db import SessionDep
from service.embeddings.encoder import Encoder
from service.errors import Forbidden, Unauthorized
from service.orgs import repository as orgs_repo
from service.orgs import service as orgs_service
from service.orgs.keys import hash_key
from service.orgs.kinds import DEMAND_OWNER_KINDS, OrgKind
from service.orm import Organization
from service.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An organisation's API key (or the admin key).")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def loaded_encoder(request: Request) -> Encoder | None:
    """The process's encoder, or None while it is not loaded (callers that can do without it)."""
    encoder: Encoder | None = getattr(request.app.state, "encoder", None)
    return encoder


LoadedEncoder = Annotated[Encoder | None, Depends(loaded_encoder)]


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers={"WWW-Authenticate": "Bearer"})


def current_org(request: Request, session: SessionDep, credentials: BearerDep) -> Organization:
    if credentials is None or not credentials.credentials:
        raise _unauthorized("An API key is required: Authorization: Bearer <key>.")

    key_hash = hash_key(credentials.credentials)
    org = orgs_repo.org_for_key_hash(session, key_hash)
    if org is None:
        raise _unauthorized("The API key is not valid or has been revoked.")
    request.state.organization_id = org.id
    writes = getattr(request.app.state, "write_sessions", None)
    orgs_service.note_use(session, key_hash, write_sessions=writes)
    return org


CurrentOrg = Annotated[Organization, Depends(current_org)]


def require_kind(*kinds: OrgKind) -> Callable[[Organization], Organization]:
    allowed = frozenset(kinds)

    def _check(org: CurrentOrg) -> Organization:
        if org.kind not in allowed:
            names = ", ".join(sorted(k.value for k in allowed))
            kind = org.kind.replace("_", " ")
            article = "an" if kind[:1] in "aeiou" else "a"
            raise Forbidden(f"This call is for {names} organisations; the caller is {article} {kind}.")
        return org

    return _check


DemandOwnerOrg = Annotated[Organization, Depends(require_kind(*DEMAND_OWNER_KINDS))]
SchoolOrg = Annotated[Organization, Depends(require_kind(OrgKind.school))]
MemberNotGovernment = Annotated[
    Organization, Depends(require_kind(OrgKind.enterprise, OrgKind.school, OrgKind.research_institute))
]


def require_admin(settings: SettingsDep, credentials: BearerDep) -> None:
    if settings.admin_key is None:
        raise Forbidden("Admin calls are disabled: set TALENTMATCH_ADMIN_KEY to enable them.")
    if credentials is None or not credentials.credentials:
        raise _unauthorized("The admin key is required: Authorization: Bearer <admin key>.")
    if not hmac.compare_digest(credentials.credentials.encode(), settings.admin_key.encode()):
        raise Forbidden("This call needs the admin key.")


AdminDep = Annotated[None, Depends(require_admin)]


IfMatchHeader = Annotated[str | None, Header(alias="If-Match", max_length=200)]
