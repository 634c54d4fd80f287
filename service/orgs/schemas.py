from __future__ import annotations

from datetime import datetime

from service.orgs.kinds import OrgKind
from service.schemas import INDUSTRY_CODE, REGION_CODE, REGION_NAME, Name, ReadModel, ShortText, StrictModel


class OrganizationCreate(StrictModel):
    name: Name
    kind: OrgKind
    region: ShortText | None = None
    industry: ShortText | None = None


class OrganizationRead(ReadModel):
    id: str
    name: str
    kind: OrgKind
    region: str | None
    region_code: str | None = REGION_CODE
    region_name: str | None = REGION_NAME
    industry: str | None
    industry_code: str | None = INDUSTRY_CODE
    created_at: datetime


class OrganizationCreated(OrganizationRead):
    api_key: str


class ApiKeyRead(ReadModel):
    id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    api_key: str
    # Every key of the organisation that works after this call, the new one included.
    active_keys: list[ApiKeyRead] = []
