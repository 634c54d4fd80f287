"""Shapes of the matching endpoints (contract v1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.schemas import SameSkill, SkillClaim, SkillRequirement, StrictModel

TopK = Annotated[int, Field(ge=1, le=100)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class EvidenceStatus(StrEnum):
    met = "met"
    partial = "partial"
    missing = "missing"


class SkillEvidence(BaseModel):
    demand_skill: str
    matched: str | None
    similarity: float
    status: EvidenceStatus
    coverage: float | None = Field(default=None, description="Calibrated probability the skill is covered.")
    weight: float | None = Field(default=None, description="This skill's share of the score.")
    same_skill: SameSkill | None = Field(
        default=None,
        description=(
            "Set when the matched text is another label (preferred, alternative or hidden) of the "
            "imported taxonomy skill the demanded skill is a label of: that skill's id and preferred "
            "label. Such evidence counts as the same skill (similarity 1.0)."
        ),
    )


class MatchRequest(StrictModel):
    top_k: TopK = 10
    min_score: Score | None = None


class GraduateMatch(BaseModel):
    """A ranked graduate, pseudonymous: id, school, skills, score and evidence (never external_ref)."""

    graduate_id: str
    school_id: str
    score: float
    skills: list[SkillEvidence]
    missing_required: list[str]
    graduate_skills: list[str] = Field(default_factory=list, description="The graduate's skill phrases.")


class MatchRunRead(BaseModel):
    demand_id: str
    model: str
    model_version: str
    taxonomy_version: str | None
    created_at: datetime
    top_k: int
    min_score: float | None
    matches: list[GraduateMatch]


class ProgramMatch(BaseModel):
    program_id: str
    school_id: str
    name: str
    score: float
    skills: list[SkillEvidence]
    missing_required: list[str]


class ProgramMatches(BaseModel):
    demand_id: str
    model: str
    items: list[ProgramMatch]


class DemandMatch(BaseModel):
    demand_id: str
    organization_id: str
    title: str
    score: float
    skills: list[SkillEvidence]
    missing_required: list[str]


class DemandMatches(BaseModel):
    graduate_id: str
    model: str
    items: list[DemandMatch]


class StatelessDemand(StrictModel):
    skills: Annotated[list[SkillRequirement], Field(min_length=1, max_length=50)]


class Candidate(StrictModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    skills: Annotated[list[SkillClaim], Field(max_length=200)] = []


class StatelessMatchRequest(StrictModel):
    demand: StatelessDemand
    candidates: Annotated[list[Candidate], Field(max_length=1000)]
    top_k: TopK = 10
    min_score: Score | None = None


class CandidateMatch(BaseModel):
    id: str
    score: float
    skills: list[SkillEvidence]
    missing_required: list[str]


class StatelessMatchResponse(BaseModel):
    model: str
    scored: int = Field(
        description="candidates scored in full; a list of more than 200 (or 4 x top_k) candidates is first "
        "ranked with the encoder's static vectors and only that many of its best are scored in full"
    )
    matches: list[CandidateMatch]
