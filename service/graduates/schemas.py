from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from service.schemas import NOT_BLANK, ReadModel, SkillClaim, SkillClaimRead, StrictModel

ExternalRef = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)
]
Certificate = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)
]
GraduateSkills = Annotated[list[SkillClaim], Field(max_length=200)]
Certificates = Annotated[list[Certificate], Field(max_length=50)]
Year = Annotated[int, Field(ge=1950, le=2100)]


class GraduateCreate(StrictModel):
    external_ref: ExternalRef
    program_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    graduation_year: Year | None = None
    skills: GraduateSkills = []
    certificates: Certificates = []


class GraduateUpdate(StrictModel):
    program_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    graduation_year: Year | None = None
    skills: GraduateSkills | None = None
    certificates: Certificates | None = None


class GraduateRead(ReadModel):
    id: str
    organization_id: str
    external_ref: str
    program_id: str | None
    graduation_year: int | None
    skills: list[SkillClaimRead]
    certificates: list[str]
    placed: bool
    version: int
    created_at: datetime
    updated_at: datetime


class GraduateBulk(StrictModel):
    graduates: Annotated[list[GraduateCreate], Field(min_length=1, max_length=1000)]


class BulkItem(ReadModel):
    external_ref: str
    id: str


class BulkResult(ReadModel):
    created: int
    updated: int
    items: list[BulkItem]


class GraduateExport(ReadModel):
    """Everything held about one graduate (GDPR Art. 15/20, PIPL Art. 45)."""

    graduate: GraduateRead
    matches: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    exported_at: datetime
