from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from service.api.deps import DemandOwnerOrg, IfMatchHeader, MemberNotGovernment
from service.api.idempotency import IdempotencyDep, Outcome
from service.db import SessionDep
from service.demands import repository as repo
from service.demands import service
from service.demands.schemas import DemandCreate, DemandRead, DemandStatus, DemandUpdate
from service.kit.versions import check_if_match, etag_for
from service.orm import Demand
from service.pagination import CursorQuery, LimitQuery, Page, page_of

router = APIRouter(prefix="/v1/demands", tags=["demands"])


def visible_demand(demand_id: str, session: SessionDep, org: MemberNotGovernment) -> Demand:
    return service.get_visible(session, org, demand_id)


def owned_demand(demand_id: str, session: SessionDep, org: DemandOwnerOrg) -> Demand:
    return service.get_owned(session, org, demand_id)


VisibleDemand = Annotated[Demand, Depends(visible_demand)]
OwnedDemand = Annotated[Demand, Depends(owned_demand)]


def _read(response: Response, demand: Demand) -> DemandRead:
    response.headers["ETag"] = etag_for(demand.version)
    return DemandRead.model_validate(demand)


@router.post(
    "", status_code=201, response_model=DemandRead, summary="Post a talent demand (Idempotency-Key honoured)"
)
def create_demand(
    body: DemandCreate, session: SessionDep, org: DemandOwnerOrg, idempotency: IdempotencyDep
) -> Response:
    def work() -> Outcome:
        demand = service.create(session, org, body)
        return Outcome(
            201, DemandRead.model_validate(demand), {"ETag": etag_for(demand.version)}, [demand.id]
        )

    return idempotency.run(body.model_dump(mode="json", exclude_unset=True), work)


@router.get("", response_model=Page[DemandRead], summary="Open demands, and the caller's own")
def list_demands(
    session: SessionDep,
    org: MemberNotGovernment,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    status: Annotated[DemandStatus | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=200)] = None,
    industry: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Any name of a GB/T 4754 section (制造业 = Manufacturing), or the text.",
        ),
    ] = None,
    organization_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[DemandRead]:
    rows = repo.list_visible(
        session,
        organization_id=org.id,
        limit=limit,
        cursor=cursor,
        status=status.value if status else None,
        region=region,
        industry=industry,
        owner_id=organization_id,
    )
    items, next_cursor = page_of(rows, limit)
    return Page[DemandRead](items=[DemandRead.model_validate(d) for d in items], next_cursor=next_cursor)


@router.get("/{demand_id}", response_model=DemandRead, summary="One demand")
def get_demand(demand: VisibleDemand, response: Response) -> DemandRead:
    return _read(response, demand)


@router.patch("/{demand_id}", response_model=DemandRead, summary="Change a demand (If-Match honoured)")
def update_demand(
    body: DemandUpdate,
    demand: OwnedDemand,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> DemandRead:
    check_if_match(if_match, demand.version)
    return _read(response, service.update(session, demand, body))


@router.delete("/{demand_id}", status_code=204, summary="Delete a demand")
def delete_demand(demand: OwnedDemand, session: SessionDep, if_match: IfMatchHeader = None) -> Response:
    check_if_match(if_match, demand.version)
    service.delete(session, demand)
    return Response(status_code=204)
