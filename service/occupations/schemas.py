from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.schemas import StrictModel

Title = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
TaxonomyName = Literal["csco", "esco"]


class OccupationNormalizeRequest(StrictModel):
    texts: Annotated[list[Title], Field(min_length=1, max_length=100)]
    top_k: Annotated[int, Field(ge=1, le=20)] = 5
    taxonomy: TaxonomyName | None = None


class OccupationCandidate(BaseModel):
    occupation_id: str = Field(description="The stable id: an ESCO concept URI or a CSCO code.")
    code: str | None = Field(
        description="The classification code, e.g. 6-18-01-01 (CSCO) or 2654.1.7 (ESCO)."
    )
    label: str
    taxonomy: str
    score: float = Field(
        description="Fused title similarity in [0, 1]; 1.0 for an exact name (0.99 to 0.999 for an alias "
        "another occupation has as its label or shares)."
    )
    matched_label: str = Field(description="The occupation's name (label or alias) closest to the title.")


class OccupationNormalizeResult(BaseModel):
    text: str
    occupations: list[OccupationCandidate]


class OccupationNormalizeResponse(BaseModel):
    results: list[OccupationNormalizeResult]


class OccupationHit(BaseModel):
    occupation_id: str
    code: str | None
    label: str
    taxonomy: str
    score: float | None = None
    matched_label: str | None = None
    level: int | None = None


class OccupationPage(BaseModel):
    items: list[OccupationHit]
    next_cursor: str | None


class OccupationSkillRead(BaseModel):
    skill_id: str
    label: str | None = Field(description="The skill's preferred label when the skills taxonomy is imported.")
    relation: Literal["essential", "optional"]
    skill_type: str | None


class OccupationRead(BaseModel):
    occupation_id: str
    taxonomy: str
    code: str | None
    label: str
    alt_labels: list[str]
    definition: str | None
    level: int | None = Field(description="CSCO: 1 (major group) to 4 (detailed occupation); ESCO: null.")
    broader: str | None = Field(description="The enclosing group's code (CSCO) or ISCO unit group (ESCO).")
    tasks: list[str]
    essential_skills: list[OccupationSkillRead]
    optional_skills: list[OccupationSkillRead]
    taxonomy_version: str
