"""Shapes of the consortium insights (aggregates only: no graduate is identifiable in any of them)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class SkillSort(StrEnum):
    shortage = "shortage"
    weight = "weight"
    headcount = "headcount"


class SkillInsight(BaseModel):
    skill: str = Field(description="The group's label: its most demanded wording.")
    aliases: list[str] = Field(description="Other wordings of the same skill merged into this line.")
    demands: int = Field(description="Open demands in scope that ask for the skill.")
    demanded_headcount: int = Field(description="Headcount of those demands (each demand counted once).")
    weight: float = Field(description="Headcount x importance summed over those demands.")
    graduates: int | None = Field(
        description=(
            "Graduates of the consortium, not yet placed, who hold the skill; null (suppressed) when "
            "the count, or the count without the caller's own graduates, is between 1 and the minimum "
            "group size minus 1."
        )
    )
    graduates_suppressed: bool
    shortage: int | None = Field(
        description=(
            "demanded_headcount - graduates (negative: more graduates hold it than are demanded); "
            "null when the graduate count is suppressed."
        )
    )


class SkillInsightPage(BaseModel):
    items: list[SkillInsight]
    next_cursor: str | None
    min_group: int = Field(
        description=(
            "Graduate counts below this (and above 0), in all or without the caller's own graduates, "
            "are suppressed."
        )
    )
    model: str = Field(description="Encoder (name and version) that grouped and matched the skills.")


class MemberSort(StrEnum):
    name = "name"
    fulfilment_rate = "fulfilment_rate"
    demands_posted = "demands_posted"
    graduates_placed = "graduates_placed"


class MemberInsight(BaseModel):
    organization_id: str
    name: str
    kind: str
    region: str | None
    industry: str | None
    demands_posted: int = Field(description="Demands the organisation has posted (any status).")
    open_demands: int
    open_headcount: int = Field(description="Headcount of its open demands.")
    orders_placed: int = Field(description="Training orders it placed (as the enterprise).")
    orders_received: int = Field(description="Training orders addressed to it (as the school).")
    orders_accepted: int = Field(description="Its orders (either side) that the school accepted.")
    orders_delivered: int
    orders_cancelled: int
    orders_rejected: int
    ordered_headcount: int = Field(description="Headcount summed over its orders (either side).")
    delivered_headcount: int = Field(description="Graduates delivered on those orders.")
    graduates_placed: int = Field(
        description=(
            "Schools: their graduates marked placed. Enterprises and institutes: graduates delivered to "
            "them through training orders."
        )
    )
    fulfilment_rate: float | None = Field(
        description="delivered_headcount / ordered_headcount; null when nothing was ordered."
    )


class MemberInsightPage(BaseModel):
    items: list[MemberInsight]
    next_cursor: str | None
