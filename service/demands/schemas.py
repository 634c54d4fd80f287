from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from service.schemas import (
    INDUSTRY_CODE,
    REGION_CODE,
    REGION_NAME,
    LongText,
    Name,
    ReadModel,
    ShortText,
    SkillRequirement,
    SkillRequirementRead,
    StrictModel,
)

Headcount = Annotated[int, Field(ge=1, le=100_000)]
OccupationId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    Field(description="An imported occupation: an ESCO concept URI, a CSCO code (6-18-01-01)."),
]
DemandSkills = Annotated[list[SkillRequirement], Field(min_length=1, max_length=50)]


class DemandStatus(StrEnum):
    open = "open"
    closed = "closed"


class DemandCreate(StrictModel):
    title: Name
    description: LongText | None = None
    region: ShortText | None = None
    industry: ShortText | None = None
    headcount: Headcount
    deadline: date | None = None
    # Without skills they are proposed (marked inferred): the occupation's (``occupation_id``), else
    # those a description names, else those of the occupation the title names.
    skills: DemandSkills | None = None
    occupation_id: OccupationId | None = None


class DemandUpdate(StrictModel):
    title: Name | None = None
    description: LongText | None = None
    region: ShortText | None = None
    industry: ShortText | None = None
    headcount: Headcount | None = None
    deadline: date | None = None
    skills: DemandSkills | None = None
    status: DemandStatus | None = None


class DemandRead(ReadModel):
    id: str
    organization_id: str
    title: str
    description: str | None
    region: str | None
    region_code: str | None = REGION_CODE
    region_name: str | None = REGION_NAME
    industry: str | None
    industry_code: str | None = INDUSTRY_CODE
    headcount: int
    deadline: date | None
    status: DemandStatus
    skills: list[SkillRequirementRead]
    occupation_id: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
