"""Shapes of the curriculum gap report (contract v1, with a few added fields)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from service.schemas import CourseIn, SameSkill, SkillRequirement, StrictModel


class GapStatus(StrEnum):
    covered = "covered"
    partial = "partial"
    gap = "gap"


class ScopeKind(StrEnum):
    demand = "demand"
    filter = "filter"
    school = "school"  # no filter given: the open demands of the school's own region (and industry)
    request = "request"


class GapEvidence(BaseModel):
    course_id: str | None = Field(description="The course's id (null in the stateless call).")
    course_index: int = Field(description="Position of the course in the curriculum (0-based).")
    course_title: str
    text: str = Field(description="The course title, learning outcome or tagged skill that evidences it.")
    kind: str = Field(description='"title", "outcome" or "skill".')
    matched: str = Field(description="The part of ``text`` that matched (an outcome is scored by parts).")
    same_skill: SameSkill | None = Field(
        default=None,
        description=(
            "Set when ``matched`` is another label of the imported taxonomy skill the demanded skill is "
            "a label of: that skill's id and preferred label (the two count as one skill)."
        ),
    )


class NearestCourse(BaseModel):
    course_id: str | None
    course_index: int
    course_title: str
    closest_text: str = Field(description="The item of that course that comes closest to the skill.")
    matched: str = Field(description="The part of ``closest_text`` that came closest.")
    similarity: float = Field(description="Combined similarity of that item to the skill (0..1).")


class GapSkill(BaseModel):
    skill: str = Field(description="The demanded skill (the most demanded wording of its line).")
    aliases: list[str] = Field(description="Other wordings of the same skill folded into this line.")
    weight: float = Field(description="Headcount x importance summed over the demands in scope.")
    headcount: int = Field(description="Headcount of the demands asking for it (each counted once).")
    importance: int = Field(description="The highest importance any of those demands gives it.")
    required: bool
    demand_ids: list[str]
    coverage: float = Field(description="Best calibrated evidence in the curriculum (0..1).")
    similarity: float = Field(description="Fused similarity of that best item (before calibration).")
    status: GapStatus
    evidence: GapEvidence | None = Field(description="What covers it; null for a gap.")
    nearest_course: NearestCourse | None = Field(
        description="For a gap: the course whose items come closest, the natural place to add it."
    )


class GapScope(BaseModel):
    kind: ScopeKind = Field(
        description='"demand": one demand; "filter": the open demands passing the region/industry given; '
        '"school": no filter was given, so the open demands of the school\'s own region (and its industry '
        'when the school has one; every region when the school has none); "request": the stateless call.'
    )
    demand_id: str | None = None
    region: str | None = Field(
        default=None, description="The region the demands in scope are in (null: any)."
    )
    industry: str | None = Field(
        default=None, description="The industry of the demands in scope (null: any)."
    )
    demands: int = Field(description="Demands in scope.")
    headcount: int = Field(description="Headcount summed over the demands in scope.")


class GapSummary(BaseModel):
    covered: int
    partial: int
    gap: int


class GapReport(BaseModel):
    program_id: str | None
    scope: GapScope
    coverage: float = Field(description="Weight-averaged coverage of the demanded skills (0..1).")
    summary: GapSummary
    model: str = Field(description="Encoder (name and version) that produced the report.")
    skills: list[GapSkill] = Field(description="Worst weighted gaps first: weight x (1 - coverage).")


class CurriculumIn(StrictModel):
    courses: Annotated[list[CourseIn], Field(min_length=1, max_length=100)]


class GapDemandIn(StrictModel):
    skills: Annotated[list[SkillRequirement], Field(min_length=1, max_length=50)]
    headcount: Annotated[int, Field(ge=1, le=100_000)] = 1


class GapAnalysisRequest(StrictModel):
    curriculum: CurriculumIn
    demand: GapDemandIn
