"""Curriculum gap analysis over HTTP.

Who may call: ``GET /v1/programs/{program_id}/gaps`` reads a stored programme and stored demands, so
it follows their read rules: enterprises, schools and research institutes (any programme; a demand that
is open or their own); the government reads no individual programme or demand (403, as for
``GET /v1/programs/{id}``) and sees aggregates through ``/v1/insights``. ``POST /v1/gap-analysis``
reads nothing stored, so any organisation may call it. No graduate is involved in either.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator

from service.api.curricula import ReadableProgram
from service.api.deps import CurrentOrg, MemberNotGovernment
from service.db import SessionDep, read_only
from service.embeddings.encoder import Encoder
from service.errors import ServiceUnavailable
from service.gaps import service
from service.gaps.schemas import GapAnalysisRequest, GapReport
from service.ops.metrics import observe_gap, timed

router = APIRouter(prefix="/v1", tags=["gaps"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller's kind may not read stored programmes (government)"},
    404: {"description": "No such programme or demand, or the caller may not read it"},
    422: {"description": "Both demand_id and a region/industry scope; invalid body"},
    503: {"description": "The encoder is not loaded"},
}


def get_encoder(request: Request) -> Encoder:
    encoder: Encoder | None = request.app.state.encoder
    if encoder is None:
        raise ServiceUnavailable("The encoder is not loaded.")
    return encoder


EncoderDep = Annotated[Encoder, Depends(get_encoder)]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("Text must not contain the NUL character (U+0000)")
    return value


def _blank(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None


# A region / industry filter: at most 200 characters, no NUL (what the OpenAPI document says).
FilterText = Annotated[str | None, AfterValidator(_no_nul)]


@router.get(
    "/programs/{program_id}/gaps",
    response_model=GapReport,
    responses=PROBLEMS,
    summary="Gap report of a programme against one demand or the open demands of a region/industry "
    "(default: the school's own region)",
)
def program_gaps(
    program: ReadableProgram,
    session: SessionDep,
    org: MemberNotGovernment,
    encoder: EncoderDep,
    demand_id: Annotated[FilterText, Query(max_length=64, description="One demand as the scope.")] = None,
    region: Annotated[FilterText, Query(max_length=200, description="Open demands of this region.")] = None,
    industry: Annotated[
        FilterText,
        Query(
            max_length=200,
            description="Open demands of this industry "
            "(a GB/T 4754 section by any name: 制造业 = Manufacturing).",
        ),
    ] = None,
) -> dict[str, Any]:
    """For every demanded skill: weight (headcount x importance summed over the demands in scope),
    coverage by the curriculum's course titles, learning outcomes and tagged skills, status and
    evidence; for a gap, the nearest course. Worst weighted gaps first. Scope: ``demand_id``, or
    ``region`` and/or ``industry`` (paraphrased skills are then grouped), not both; with neither, the
    open demands of the school's own region (and its industry when set), stated in ``scope``."""
    with timed(observe_gap):
        return service.stored_report(
            session,
            encoder,
            org,
            program,
            demand_id=_blank(demand_id),
            region=_blank(region),
            industry=_blank(industry),
        )


@router.post(
    "/gap-analysis",
    response_model=GapReport,
    responses={422: PROBLEMS[422], 503: PROBLEMS[503]},
    summary="Stateless gap analysis of a curriculum against a demand's skills",
)
@read_only
def gap_analysis(
    body: GapAnalysisRequest, session: SessionDep, _org: CurrentOrg, encoder: EncoderDep
) -> dict[str, Any]:
    """The same report for a curriculum and a demand given in the request (nothing is stored;
    ``course_id`` is null and ``course_index`` names the course). Weight = headcount (default 1) x
    importance. A curriculum with no courses is 422."""
    with timed(observe_gap):
        return service.stateless_report(session, encoder, body)
