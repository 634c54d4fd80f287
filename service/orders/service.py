"""Training orders (订单班): an enterprise orders trained graduates from a school.

Lifecycle (DESIGN.md) and who may act::

    proposed --accept(school)--> accepted --start(school)--> in_training --deliver(school)--> delivered
    proposed --reject(school)--> rejected
    proposed | accepted | in_training --cancel(either party)--> cancelled

Anything else is 409 with the actions the caller may take. Every change is a compare-and-set on the
order's version (``If-Match``: missing 428, stale 412) and appends one history row; the history is
never rewritten. The first history row records the creation (action ``create``, from null to proposed).

Validation of a new order (422, nothing stored): ``school_id`` must name a school, ``program_id`` a
programme of that school, ``demand_id`` one of the caller's own demands (unknown and foreign demands
get the same 422, so ids reveal nothing), headcount 1..``max_order_headcount``, end not before start.

Delivery (``deliver`` with ``graduate_ids``, 422 naming the offenders, nothing stored): each id a
graduate of the order's school, no duplicates, at most the ordered headcount, none already delivered
by another order. Delivered graduates are marked ``placed`` (their version and the graduate change
counter move on, so every process's matcher sees it) and shown to both parties pseudonymously.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import changes
from service.curricula import repository as programs_repo
from service.db import is_writer
from service.demands import repository as demands_repo
from service.embeddings.encoder import Encoder
from service.errors import InvalidTransition, NotFound, PreconditionFailed, Unprocessable
from service.gaps.service import program_gaps
from service.kit.versions import check_if_match
from service.orders import repository as repo
from service.orders.schemas import (
    DeliveredGraduate,
    HistoryEntry,
    OrderAction,
    OrderCreate,
    OrderRead,
    OrderRole,
    OrderStatus,
    TransitionCreate,
)
from service.orgs import repository as orgs_repo
from service.orgs.kinds import OrgKind
from service.orm import (
    Demand,
    Graduate,
    OrderDelivery,
    OrderTransition,
    Organization,
    Program,
    TrainingOrder,
    utcnow,
)
from service.settings import Settings

S, A = OrderStatus, OrderAction
TRANSITIONS: dict[tuple[OrderStatus, OrderAction], OrderStatus] = {
    (S.proposed, A.accept): S.accepted,
    (S.proposed, A.reject): S.rejected,
    (S.accepted, A.start): S.in_training,
    (S.in_training, A.deliver): S.delivered,
    (S.proposed, A.cancel): S.cancelled,
    (S.accepted, A.cancel): S.cancelled,
    (S.in_training, A.cancel): S.cancelled,
}
ACTORS: dict[OrderAction, frozenset[OrderRole]] = {
    A.accept: frozenset({OrderRole.received}),
    A.reject: frozenset({OrderRole.received}),
    A.start: frozenset({OrderRole.received}),
    A.deliver: frozenset({OrderRole.received}),
    A.cancel: frozenset({OrderRole.placed, OrderRole.received}),
}


def role_of(order: TrainingOrder, organization_id: str) -> OrderRole | None:
    if organization_id == order.enterprise_id:
        return OrderRole.placed
    if organization_id == order.school_id:
        return OrderRole.received
    return None


def allowed_actions(status: str, role: OrderRole | None) -> list[OrderAction]:
    """The actions ``role`` may take on an order in ``status`` (in lifecycle order)."""
    if role is None:
        return []
    return [a for a in OrderAction if (OrderStatus(status), a) in TRANSITIONS and role in ACTORS[a]]


def _error(loc: str | list[Any], msg: str) -> dict[str, Any]:
    path = [loc] if isinstance(loc, str) else loc
    return {"loc": ["body", *(str(x) for x in path)], "msg": msg, "type": "value_error"}


def _unprocessable(errors: list[dict[str, Any]], detail: str | None = None, **extra: Any) -> Unprocessable:
    fields = ", ".join(dict.fromkeys(str(e["loc"][1]) for e in errors))
    detail = detail or f"Not valid: {fields}"
    return Unprocessable(f"{detail}; nothing was stored.", extra={"errors": errors, **extra})


# -- creation --------------------------------------------------------------------------------------


def create(
    session: Session, org: Organization, data: OrderCreate, *, settings: Settings, encoder: Encoder | None
) -> TrainingOrder:
    errors: list[dict[str, Any]] = []
    school = orgs_repo.get(session, data.school_id)
    if school is None or school.kind != OrgKind.school:
        errors.append(_error("school_id", "no such school"))
    program: Program | None = None
    if data.program_id is not None:
        # an id, or the school's own code for the programme
        named = programs_repo.find_owned(session, data.program_id, data.school_id)
        if len(named) == 1:
            program = named[0]
        elif named:
            errors.append(_error("program_id", f"the code names {len(named)} programmes; use the id"))
        else:
            errors.append(_error("program_id", "not a programme (id or code) of that school"))
    demand: Demand | None = None
    if data.demand_id is not None:
        demand = demands_repo.get_owned(session, data.demand_id, org.id)
        if demand is None:
            errors.append(_error("demand_id", "not one of your demands"))
    if data.headcount > settings.max_order_headcount:
        errors.append(_error("headcount", f"at most {settings.max_order_headcount}"))
    if data.start_date and data.end_date and data.end_date < data.start_date:
        errors.append(_error("end_date", "before start_date"))
    if errors:
        raise _unprocessable(errors)

    additions = data.curriculum_additions
    if additions is None:
        additions = gap_additions(session, encoder, demand, program) if demand is not None and program else []
    order = TrainingOrder(
        enterprise_id=org.id,
        school_id=data.school_id,
        program_id=program.id if program is not None else None,
        demand_id=data.demand_id,
        headcount=data.headcount,
        start_date=data.start_date,
        end_date=data.end_date,
        curriculum_additions=list(dict.fromkeys(additions)),
        notes=data.notes,
        status=S.proposed.value,
        version=1,
    )
    first = OrderTransition(
        seq=1,
        actor_organization_id=org.id,
        action="create",
        from_status=None,
        to_status=S.proposed.value,
        reason=None,
    )
    repo.add(session, order, first)
    return order


def gap_additions(session: Session, encoder: Encoder | None, demand: Demand, program: Program) -> list[str]:
    """The demanded skills the programme does not teach: the gap analysis' lines with status gap or
    partial (``service.gaps.service.program_gaps``), worst weighted gap first.

    Without a loaded encoder (the process is not ready): the demanded skills whose name does not
    literally occur (case-insensitive) in any course title, learning outcome or tagged skill of the
    programme, most important first.
    """
    if encoder is not None:
        report = program_gaps(session, encoder, program, [demand], group=False)
        return [line["skill"] for line in report["skills"] if line["status"] in ("gap", "partial")]
    return _literal_gaps(demand, program)


def _literal_gaps(demand: Demand, program: Program) -> list[str]:
    texts: list[str] = []
    for course in program.courses:
        texts.append(course.title)
        texts.extend(course.learning_outcomes or [])
        texts.extend(s["name"] for s in course.skills or [])
    haystack = "\n".join(texts).casefold()
    skills = sorted(demand.skills or [], key=lambda s: -int(s.get("importance", 3)))
    return [s["name"] for s in skills if s["name"].strip().casefold() not in haystack]


# -- reading ---------------------------------------------------------------------------------------


def get_for_party(session: Session, org: Organization, order_id: str) -> TrainingOrder:
    order = repo.get_for_party(session, order_id, org.id, lock=is_writer(session))
    if order is None:
        raise NotFound(f"No training order {order_id}.")
    return order


def views(session: Session, orders: list[TrainingOrder], org: Organization) -> list[OrderRead]:
    """Orders as the caller sees them; delivered graduates are pseudonymous (no external_ref)."""
    ids = [d.graduate_id for o in orders for d in o.deliveries]
    graduates = repo.graduates_by_ids(session, ids) if ids else {}
    return [_view(o, org, graduates) for o in orders]


def view(session: Session, order: TrainingOrder, org: Organization) -> OrderRead:
    return views(session, [order], org)[0]


def _view(order: TrainingOrder, org: Organization, graduates: dict[str, Graduate]) -> OrderRead:
    history = [
        HistoryEntry(
            seq=h.seq,
            action=h.action,
            actor=h.actor_organization_id,
            actor_role=role_of(order, h.actor_organization_id) or OrderRole.placed,
            from_status=OrderStatus(h.from_status) if h.from_status else None,
            to_status=OrderStatus(h.to_status),
            reason=h.reason,
            time=h.created_at,
        )
        for h in order.history
    ]
    deliveries = [
        DeliveredGraduate.model_validate(
            {
                "graduate_id": d.graduate_id,
                "school_id": graduates[d.graduate_id].organization_id,
                "skills": graduates[d.graduate_id].skills or [],
                "delivered_at": d.delivered_at,
            }
        )
        for d in sorted(order.deliveries, key=lambda d: (d.delivered_at, d.graduate_id))
        if d.graduate_id in graduates
    ]
    return OrderRead.model_validate(
        {
            "id": order.id,
            "enterprise_id": order.enterprise_id,
            "school_id": order.school_id,
            "program_id": order.program_id,
            "demand_id": order.demand_id,
            "headcount": order.headcount,
            "start_date": order.start_date,
            "end_date": order.end_date,
            "curriculum_additions": list(order.curriculum_additions or []),
            "notes": order.notes,
            "status": order.status,
            "version": order.version,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "history": history,
            "deliveries": deliveries,
            "allowed_actions": allowed_actions(order.status, role_of(order, org.id)),
        }
    )


# -- transitions -----------------------------------------------------------------------------------


def transition(
    session: Session, org: Organization, order: TrainingOrder, data: TransitionCreate, if_match: str | None
) -> TrainingOrder:
    check_if_match(if_match, order.version, required=True)
    action = data.action
    if action is A.deliver and not data.graduate_ids:
        raise _unprocessable([_error("graduate_ids", "deliver names the graduates placed")])
    if action is not A.deliver and data.graduate_ids is not None:
        raise _unprocessable([_error("graduate_ids", "only the deliver action takes graduate_ids")])

    role = role_of(order, org.id)
    status = OrderStatus(order.status)
    allowed = allowed_actions(status, role)
    if action not in allowed:
        names = ", ".join(a.value for a in allowed) or "none"
        raise InvalidTransition(
            f"'{action.value}' is not allowed on a {status.value} order for this caller; allowed: {names}.",
            extra={"order_status": status.value, "allowed_actions": [a.value for a in allowed]},
        )
    graduates = _check_delivery(session, order, data.graduate_ids) if action is A.deliver else []

    now = utcnow()
    target = TRANSITIONS[(status, action)]
    if not repo.set_status_if_version(
        session, order.id, expected_version=order.version, status=target.value, now=now
    ):
        raise _stale()
    repo.append_history(
        session,
        OrderTransition(
            order_id=order.id,
            seq=max((h.seq for h in order.history), default=0) + 1,
            actor_organization_id=org.id,
            action=action.value,
            from_status=status.value,
            to_status=target.value,
            reason=data.reason,
            created_at=now,
        ),
    )
    if graduates:
        _place(session, order, graduates, now)
    session.expire(order)
    return order


def _stale() -> PreconditionFailed:
    return PreconditionFailed("The order has changed since that ETag; fetch it again.")


def _check_delivery(session: Session, order: TrainingOrder, graduate_ids: list[str] | None) -> list[Graduate]:
    ids = list(graduate_ids or [])
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, gid in enumerate(ids):
        if gid in seen:
            errors.append(_error(["graduate_ids", i], f"duplicate of item {seen[gid]}"))
        seen.setdefault(gid, i)
    unique = list(seen)
    if len(unique) > order.headcount:
        errors.append(_error("graduate_ids", f"{len(unique)} graduates; the order is for {order.headcount}"))
    found = repo.graduates_by_ids(session, unique)
    offenders = [gid for gid in unique if gid not in found or found[gid].organization_id != order.school_id]
    for gid in offenders:
        errors.append(_error(["graduate_ids", seen[gid]], f"{gid} is not a graduate of this school"))
    elsewhere = repo.delivered_elsewhere(session, [g for g in unique if g not in offenders], order.id)
    errors.extend(_delivered_errors(elsewhere, seen))
    if offenders:
        detail = f"Not graduates of this school: {', '.join(offenders)}"
        raise _unprocessable(errors, detail, offenders=offenders)
    if errors:
        raise _unprocessable(errors)
    return [found[gid] for gid in unique]


def _delivered_errors(elsewhere: dict[str, str], seen: dict[str, int]) -> list[dict[str, Any]]:
    return [
        _error(["graduate_ids", seen[gid]], f"{gid} was already delivered by order {elsewhere[gid]}")
        for gid in sorted(elsewhere)
    ]


def _place(session: Session, order: TrainingOrder, graduates: list[Graduate], now: Any) -> None:
    """Record the delivery and mark the graduates placed (matchers reload them via the change counter).

    The check in ``_check_delivery`` reads before writing; two orders delivering one graduate at the
    same moment both pass it, and the schema's unique constraint stops the second.
    """
    rows = [OrderDelivery(order_id=order.id, graduate_id=g.id, delivered_at=now) for g in graduates]
    if not repo.add_deliveries(session, rows):
        ids = [g.id for g in graduates]
        elsewhere = repo.delivered_elsewhere(session, ids, order.id)
        raise _unprocessable(
            _delivered_errors(elsewhere, {gid: i for i, gid in enumerate(ids)}),
            "A graduate was delivered by another order meanwhile",
        )
    seq = changes.bump(session, changes.GRADUATE)
    for g in graduates:
        g.placed = True
        g.version += 1
        g.change_seq = seq
        g.updated_at = now
    session.flush()
