"""Shapes shared by several domains (contract v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
SkillName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Outcome = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Level = Annotated[int, Field(ge=1, le=5)]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are rejected (422), never silently bound."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SkillRequirement(StrictModel):
    name: SkillName
    importance: Annotated[int, Field(ge=1, le=5)] = 3
    level: Level | None = None
    required: bool = False


class SkillRequirementRead(ReadModel):
    name: str
    importance: int = 3
    level: int | None = None
    required: bool = False
    skill_id: str | None = None
    inferred: bool = False


class SkillClaim(StrictModel):
    name: SkillName
    level: Level | None = None


class SkillClaimRead(ReadModel):
    name: str
    level: int | None = None
    skill_id: str | None = None


class CourseIn(StrictModel):
    code: Annotated[str, StringConstraints(max_length=64)] | None = None
    title: Name
    description: LongText | None = None
    learning_outcomes: Annotated[list[Outcome], Field(max_length=100)] = []
    skills: Annotated[list[SkillName], Field(max_length=100)] = []
    hours: Annotated[int, Field(ge=0, le=100_000)] | None = None


class Timestamps(ReadModel):
    created_at: datetime
    updated_at: datetime
