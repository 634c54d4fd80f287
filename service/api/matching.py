from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.api.demands import OwnedDemand
from service.api.deps import CurrentOrg, SchoolOrg
from service.db import SessionDep, read_only
from service.errors import NotFound
from service.graduates import service as graduates_service
from service.matching import service
from service.matching.engine import MatchingEngine, engine_for
from service.matching.schemas import (
    DemandMatches,
    MatchRequest,
    MatchRunRead,
    ProgramMatches,
    StatelessMatchRequest,
    StatelessMatchResponse,
)
from service.ops.deadline import Deadline, use_deadline
from service.ops.metrics import observe_match, timed
from service.orm import Graduate

router = APIRouter(tags=["matching"])

TopKQuery = Annotated[int, Query(ge=1, le=100, description="How many to return (1-100).")]


def owned_graduate(graduate_id: str, session: SessionDep, org: SchoolOrg) -> Graduate:
    return graduates_service.get_owned(session, org, graduate_id)


OwnedGraduate = Annotated[Graduate, Depends(owned_graduate)]


def matching_engine(request: Request) -> MatchingEngine:
    """The process's matching engine (503 while no encoder is loaded)."""
    return engine_for(request.app.state)


EngineDep = Annotated[MatchingEngine, Depends(matching_engine)]


@contextmanager
def _timed(request: Request) -> Iterator[None]:
    """Time the matching work and give it ``match_timeout_seconds`` (past it: 503, see ops.deadline)."""
    with use_deadline(Deadline(request.app.state.settings.match_timeout_seconds)), timed(observe_match):
        yield


@router.post(
    "/v1/demands/{demand_id}/matches",
    response_model=MatchRunRead,
    summary="Rank the consortium's graduates for a demand and store the result",
)
def create_matches(
    demand: OwnedDemand,
    session: SessionDep,
    request: Request,
    engine: EngineDep,
    body: MatchRequest | None = None,
) -> MatchRunRead:
    body = body or MatchRequest()
    with _timed(request):
        run = service.match_demand(session, engine, demand, top_k=body.top_k, min_score=body.min_score)
    return MatchRunRead.model_validate(service.run_view(session, run))


@router.get(
    "/v1/demands/{demand_id}/matches", response_model=MatchRunRead, summary="The last stored match result"
)
def get_matches(demand: OwnedDemand, session: SessionDep) -> MatchRunRead:
    run = service.last_run(session, demand)
    if run is None:
        raise NotFound(f"No match result stored for demand {demand.id}; POST to create one.")
    return MatchRunRead.model_validate(service.run_view(session, run))


@router.get(
    "/v1/demands/{demand_id}/program-matches",
    response_model=ProgramMatches,
    summary="Programmes ranked by how well their curricula cover a demand",
)
def get_program_matches(
    demand: OwnedDemand, session: SessionDep, request: Request, engine: EngineDep, top_k: TopKQuery = 10
) -> ProgramMatches:
    with _timed(request):
        return ProgramMatches.model_validate(service.program_matches(session, engine, demand, top_k=top_k))


@router.get(
    "/v1/graduates/{graduate_id}/demand-matches",
    response_model=DemandMatches,
    summary="Open demands ranked for one graduate",
)
def get_demand_matches(
    graduate: OwnedGraduate, session: SessionDep, request: Request, engine: EngineDep, top_k: TopKQuery = 10
) -> DemandMatches:
    with _timed(request):
        return DemandMatches.model_validate(service.demand_matches(session, engine, graduate, top_k=top_k))


@router.post(
    "/v1/match",
    response_model=StatelessMatchResponse,
    summary="Stateless: rank up to 1,000 candidates for a demand; nothing is stored",
)
@read_only
def stateless_match(
    body: StatelessMatchRequest, session: SessionDep, request: Request, _org: CurrentOrg, engine: EngineDep
) -> StatelessMatchResponse:
    with _timed(request):
        result = service.match_candidates(
            session,
            engine,
            [s.model_dump() for s in body.demand.skills],
            [c.model_dump() for c in body.candidates],
            top_k=body.top_k,
            min_score=body.min_score,
        )
    return StatelessMatchResponse.model_validate(result)
