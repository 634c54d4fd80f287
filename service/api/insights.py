"""Consortium insights over HTTP: any member, the government included, may read them.

Only aggregates are returned: no graduate id, reference or profile appears, and graduate counts too
small to be anonymous (1 to ``TALENTMATCH_INSIGHTS_MIN_GROUP`` - 1, in all or without the caller's own
graduates) are suppressed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.api.deps import CurrentOrg, SettingsDep
from service.api.gaps import EncoderDep, FilterText
from service.db import SessionDep
from service.gaps.service import model_name
from service.insights import service
from service.insights.schemas import (
    MemberInsightPage,
    MemberSort,
    SkillInsightPage,
    SkillSort,
)
from service.pagination import CursorQuery, LimitQuery

router = APIRouter(prefix="/v1/insights", tags=["insights"])


def _blank(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None


@router.get(
    "/skills",
    response_model=SkillInsightPage,
    responses={422: {"description": "Invalid query"}, 503: {"description": "The encoder is not loaded"}},
    summary="Per skill: demand from open demands, supply of unplaced graduates, shortage",
)
def skill_insights(
    request: Request,
    session: SessionDep,
    org: CurrentOrg,
    settings: SettingsDep,
    encoder: EncoderDep,
    region: Annotated[FilterText, Query(max_length=200, description="Open demands of this region.")] = None,
    industry: Annotated[
        FilterText,
        Query(
            max_length=200,
            description="Open demands of this industry "
            "(a GB/T 4754 section by any name: 制造业 = Manufacturing).",
        ),
    ] = None,
    sort: Annotated[SkillSort, Query(description="Largest first.")] = SkillSort.shortage,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> SkillInsightPage:
    """Demanded skills of the open demands in scope, paraphrases grouped into one line: demands,
    headcount and weight (headcount x importance), graduates of the consortium not yet placed who hold
    the skill (calibrated coverage at the MET threshold), and the shortage (headcount - graduates)."""
    min_group = settings.insights_min_group
    rows = service.skill_rows(
        session,
        encoder,
        region=_blank(region),
        industry=_blank(industry),
        min_group=min_group,
        viewer=org.id,
        app_state=request.app.state,
    )
    items, next_cursor = service.page(service.sort_skills(rows, sort, min_group), limit, cursor)
    return SkillInsightPage(
        items=items, next_cursor=next_cursor, min_group=min_group, model=model_name(encoder)
    )


@router.get(
    "/members",
    response_model=MemberInsightPage,
    responses={422: {"description": "Invalid query"}},
    summary="Per organisation: demands, training orders, graduates placed, fulfilment rate",
)
def member_insights(
    session: SessionDep,
    _org: CurrentOrg,
    sort: Annotated[
        MemberSort, Query(description="name: A to Z; the others: largest first.")
    ] = MemberSort.name,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> MemberInsightPage:
    """Each member's contribution: demands posted and open headcount, training orders placed or
    received, accepted, delivered, cancelled and rejected, graduates placed, and the fulfilment rate
    (graduates delivered / headcount ordered, over its orders)."""
    rows = service.sort_members(service.member_rows(session), sort)
    items, next_cursor = service.page(rows, limit, cursor)
    return MemberInsightPage(items=items, next_cursor=next_cursor)
