from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.schemas import ReadModel, StrictModel

NormalizeText = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
ExtractText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class NormalizeRequest(StrictModel):
    texts: Annotated[list[NormalizeText], Field(min_length=1, max_length=100)]
    top_k: Annotated[int, Field(ge=1, le=20)] = 5
    min_score: Score = 0.0


class SkillCandidate(BaseModel):
    skill_id: str
    label: str = Field(description="The skill's preferred label.")
    score: float = Field(description="Calibrated confidence in [0, 1]; 1.0 for an exact label match.")
    matched_label: str = Field(description="The label (preferred, alternative or hidden) that matched best.")
    source: str


class NormalizeResult(BaseModel):
    text: str
    candidates: list[SkillCandidate]


class NormalizeResponse(BaseModel):
    results: list[NormalizeResult]
    taxonomy_version: str | None


class ExtractRequest(StrictModel):
    text: ExtractText
    min_score: Score = 0.5
    max_skills: Annotated[int, Field(ge=1, le=100)] = 50


class ExtractedSkill(BaseModel):
    skill_id: str | None = Field(
        description="The taxonomy skill; null for a Chinese skill phrase no taxonomy label matches, "
        "which is given as written."
    )
    label: str
    score: float = Field(description="Confidence in [0, 1]: 1.0 when a label appears verbatim.")
    evidence: str = Field(description="The sentence of the text that mentions the skill.")
    matched_label: str
    source: str | None = Field(description="The taxonomy (esco, onet, ...); null for a phrase as written.")


class ExtractResponse(BaseModel):
    skills: list[ExtractedSkill]
    taxonomy_version: str | None


class SkillHit(BaseModel):
    skill_id: str
    label: str
    source: str
    score: float | None = None
    matched_label: str | None = None
    match: Literal["exact", "prefix", "semantic", "list"]
    skill_type: str | None = None
    broader: str | None = None


class SkillPage(BaseModel):
    items: list[SkillHit]
    next_cursor: str | None


class TaxonomyVersionRead(ReadModel):
    source: str
    version: str
    skills: int
    labels: int
    imported_at: datetime


class TaxonomyVersions(BaseModel):
    current: str | None
    imports: list[TaxonomyVersionRead]
