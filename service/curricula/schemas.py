from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from service.schemas import CourseIn, LongText, Name, ReadModel, StrictModel

Courses = Annotated[list[CourseIn], Field(max_length=100)]
Code = Annotated[str, StringConstraints(max_length=64)]


class ProgramCreate(StrictModel):
    name: Name
    code: Code | None = None
    description: LongText | None = None
    courses: Courses = []


class ProgramUpdate(StrictModel):
    name: Name | None = None
    code: Code | None = None
    description: LongText | None = None
    courses: Courses | None = None


class CourseRead(ReadModel):
    id: str
    code: str | None
    title: str
    description: str | None
    learning_outcomes: list[str]
    skills: list[str]
    skill_ids: list[str | None]
    hours: int | None


class ProgramRead(ReadModel):
    id: str
    organization_id: str
    name: str
    code: str | None
    description: str | None
    courses: list[CourseRead]
    version: int
    created_at: datetime
    updated_at: datetime
