from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from service.api.deps import DemandOwnerOrg, IfMatchHeader, LoadedEncoder, MemberNotGovernment, SettingsDep
from service.api.idempotency import IdempotencyDep, Outcome
from service.db import SessionDep
from service.kit.versions import etag_for
from service.orders import repository as repo
from service.orders import service
from service.orders.schemas import OrderCreate, OrderRead, OrderRole, OrderStatus, TransitionCreate
from service.orm import TrainingOrder
from service.pagination import CursorQuery, LimitQuery, Page, page_of

router = APIRouter(prefix="/v1/training-orders", tags=["training orders"])


def party_order(order_id: str, session: SessionDep, org: MemberNotGovernment) -> TrainingOrder:
    return service.get_for_party(session, org, order_id)


PartyOrder = Annotated[TrainingOrder, Depends(party_order)]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


@router.post(
    "",
    status_code=201,
    response_model=OrderRead,
    summary="Place a training order with a school (Idempotency-Key honoured)",
    responses={
        409: _problem("A request with this Idempotency-Key is still running"),
        422: _problem("Not valid (school, programme, demand, headcount, dates) or key reused"),
    },
)
def create_order(
    body: OrderCreate,
    session: SessionDep,
    org: DemandOwnerOrg,
    settings: SettingsDep,
    encoder: LoadedEncoder,
    idempotency: IdempotencyDep,
) -> Response:
    """A new order, `proposed`, addressed to a school.

    `school_id` must name a school and `program_id` one of its programmes; `demand_id` must be one of
    the caller's own demands (an unknown or another organisation's demand is the same 422, so ids reveal
    nothing). Headcount 1 to the configured cap (`TALENTMATCH_MAX_ORDER_HEADCOUNT`). With `demand_id`
    and `program_id` and no `curriculum_additions`, the additions are the gap analysis' gap and partial
    skills (an explicit `[]` means none). Send an `Idempotency-Key` to make retries safe.
    """

    def work() -> Outcome:
        order = service.create(session, org, body, settings=settings, encoder=encoder)
        return Outcome(
            status=201,
            body=service.view(session, order, org),
            headers={"ETag": etag_for(order.version), "Location": f"{router.prefix}/{order.id}"},
            resource_ids=[order.id],
        )

    return idempotency.run(body.model_dump(mode="json", exclude_unset=True), work)


@router.get("", response_model=Page[OrderRead], summary="Orders the caller placed or received")
def list_orders(
    session: SessionDep,
    org: MemberNotGovernment,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    status: Annotated[OrderStatus | None, Query()] = None,
    role: Annotated[
        OrderRole | None, Query(description="placed: orders the caller placed; received: addressed to it")
    ] = None,
) -> Page[OrderRead]:
    rows = repo.list_for_party(
        session,
        organization_id=org.id,
        limit=limit,
        cursor=cursor,
        status=status.value if status else None,
        role=role.value if role else None,
    )
    items, next_cursor = page_of(rows, limit)
    return Page[OrderRead](items=service.views(session, items, org), next_cursor=next_cursor)


@router.get("/{order_id}", response_model=OrderRead, summary="One order, with its history and deliveries")
def get_order(
    order: PartyOrder, session: SessionDep, org: MemberNotGovernment, response: Response
) -> OrderRead:
    response.headers["ETag"] = etag_for(order.version)
    return service.view(session, order, org)


@router.post(
    "/{order_id}/transitions",
    response_model=OrderRead,
    summary="Move an order through its lifecycle (If-Match required)",
    responses={
        409: _problem("Action not allowed now for this caller; `allowed_actions` names those that are"),
        412: _problem("If-Match is stale"),
        422: _problem("Not valid (e.g. graduate_ids not of this school, above the headcount)"),
        428: _problem("If-Match missing"),
    },
)
def transition_order(
    body: TransitionCreate,
    order: PartyOrder,
    session: SessionDep,
    org: MemberNotGovernment,
    response: Response,
    if_match: IfMatchHeader = None,
) -> OrderRead:
    """`accept`, `reject`, `start`, `deliver` (the school) and `cancel` (either party), per the lifecycle
    `proposed → accepted | rejected`, `accepted → in_training → delivered`, `cancelled` from any
    non-final state. Anything else is 409 with `allowed_actions`. `If-Match` is required (428 without,
    412 when stale). `deliver` names the `graduate_ids` placed: graduates of this school, at most the
    headcount, no duplicates, none delivered by another order (else 422 naming the offenders).
    """
    order = service.transition(session, org, order, body, if_match)
    response.headers["ETag"] = etag_for(order.version)
    return service.view(session, order, org)
