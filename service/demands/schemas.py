from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from service.schemas import (
    LongText,
    Name,
    ReadModel,
    ShortText,
    SkillRequirement,
    SkillRequirementRead,
    StrictModel,
)

Headcount = Annotated[int, Field(ge=1, le=100_000)]
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
    # Optional when a description is given: the skills are then inferred from it (marked inferred).
    skills: DemandSkills | None = None

    @model_validator(mode="after")
    def _skills_or_description(self) -> DemandCreate:
        if self.skills is None and not (self.description and self.description.strip()):
            raise ValueError("give `skills`, or a `description` to infer them from")
        return self


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
    industry: str | None
    headcount: int
    deadline: date | None
    status: DemandStatus
    skills: list[SkillRequirementRead]
    version: int
    created_at: datetime
    updated_at: datetime
