"""Training order pages: placed by demand owners, moved through their lifecycle by both parties."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from service.api.deps import loaded_encoder
from service.curricula import repository as programs_repo
from service.curricula import service as curricula_service
from service.db import SessionDep
from service.demands import repository as demands_repo
from service.demands import service as demands_service
from service.errors import DomainError, PreconditionFailed
from service.graduates import repository as graduates_repo
from service.orders import repository as orders_repo
from service.orders import service as orders_service
from service.orders.schemas import OrderAction, OrderCreate, TransitionCreate
from service.orgs import repository as orgs_repo
from service.orgs.kinds import OrgKind
from service.orm import Organization
from service.ui import forms
from service.ui.pages import PageContext, PageRoute, SignedIn
from service.ui.views.matches import pseudonym
from service.ui.work.common import (
    LIST_LIMIT,
    Lines,
    QueryId,
    Text,
    Token,
    demand_owner,
    member,
    org_of,
)

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)

DELIVERY_CHOICES = 500


def _order_choices(session: SessionDep, org: Organization) -> dict[str, Any]:
    schools = orgs_repo.list_orgs(session, kind=OrgKind.school.value)
    names = {s.id: s.name for s in schools}
    programs = sorted(
        programs_repo.all_programs(session), key=lambda p: (names.get(p.organization_id, ""), p.name)
    )
    demands = demands_repo.list_visible(
        session, organization_id=org.id, limit=LIST_LIMIT, cursor=None, owner_id=org.id
    )
    return {
        "schools": schools,
        "programs": [p for p in programs if p.organization_id in names][: LIST_LIMIT * 5],
        "school_names": names,
        "demand_choices": demands[:LIST_LIMIT],
    }


def _render_order_form(
    ctx: PageContext,
    session: SessionDep,
    values: dict[str, Any],
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return ctx.render(
        "order_form.html",
        status_code=status_code,
        page_title=ctx.t("new_order"),
        v=values,
        errors=errors or forms.FormErrors(),
        **_order_choices(session, org_of(ctx)),
    )


@router.get("/training-orders/new")
def new_order_form(
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    demand_id: QueryId = None,
    program_id: QueryId = None,
) -> Response:
    org = demand_owner(ctx)
    values: dict[str, Any] = {"headcount": "1"}
    demand = demands_service.get_owned(session, org, demand_id) if demand_id else None
    program = curricula_service.get_readable(session, program_id) if program_id else None
    if demand is not None:
        values.update(demand_id=demand.id, headcount=str(demand.headcount))
    if program is not None:
        values.update(program_id=program.id, school_id=program.organization_id)
    if demand is not None and program is not None:
        additions = orders_service.gap_additions(session, loaded_encoder(request), demand, program)
        values["curriculum_additions"] = "\n".join(additions)
    return _render_order_form(ctx, session, values)


@router.post("/training-orders/new")
def create_order(
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    school_id: Text = "",
    program_id: Text = "",
    demand_id: Text = "",
    headcount: Text = "",
    start_date: Text = "",
    end_date: Text = "",
    curriculum_additions: Text = "",
    notes: Text = "",
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    org = demand_owner(ctx)
    values = {
        "school_id": school_id,
        "program_id": program_id,
        "demand_id": demand_id,
        "headcount": headcount,
        "start_date": start_date,
        "end_date": end_date,
        "curriculum_additions": curriculum_additions,
        "notes": notes,
    }
    errors = forms.FormErrors()
    if not school_id.strip() and program_id.strip():
        program = programs_repo.get(session, program_id.strip())
        if program is not None:
            school_id = program.organization_id
    data = {
        "school_id": school_id,
        "program_id": forms.blank_to_none(program_id),
        "demand_id": forms.blank_to_none(demand_id),
        "headcount": forms.parse_int(errors, "headcount", headcount, required=True),
        "start_date": forms.blank_to_none(start_date),
        "end_date": forms.blank_to_none(end_date),
        "curriculum_additions": forms.lines(curriculum_additions),
        "notes": forms.blank_to_none(notes),
    }
    try:
        body = forms.build(OrderCreate, data, errors)
        order = orders_service.create(
            session, org, body, settings=request.app.state.settings, encoder=loaded_encoder(request)
        )
    except forms.FormInvalid as exc:
        return _render_order_form(ctx, session, values, exc.errors, status_code=422)
    except DomainError as exc:
        if exc.status != 422:
            raise
        forms.add_validation_errors(errors, list(exc.extra.get("errors") or []))
        if not errors:
            errors.add("", exc.detail)
        return _render_order_form(ctx, session, values, errors, status_code=422)
    return ctx.redirect(f"/ui/training-orders/{order.id}")


@router.get("/training-orders")
def order_list(ctx: SignedIn, session: SessionDep) -> Response:
    org = member(ctx)
    orders = orders_repo.list_for_party(session, organization_id=org.id, limit=LIST_LIMIT, cursor=None)
    views = orders_service.views(session, orders[:LIST_LIMIT], org)
    names = {o.id: o.name for o in orgs_repo.list_orgs(session)}
    return ctx.render("orders.html", page_title=ctx.t("orders_title"), orders=views, names=names)


def _render_order(
    ctx: PageContext,
    session: SessionDep,
    order_id: str,
    *,
    problem: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    org = member(ctx)
    order = orders_service.get_for_party(session, org, order_id)
    view = orders_service.view(session, order, org)
    names = {o.id: o.name for o in orgs_repo.list_orgs(session)}
    program = programs_repo.get(session, order.program_id) if order.program_id else None
    demand = demands_repo.get_owned(session, order.demand_id, org.id) if order.demand_id else None
    candidates: list[dict[str, Any]] = []
    if OrderAction.deliver in view.allowed_actions:
        delivered_here = {d.graduate_id for d in view.deliveries}
        for g in graduates_repo.list_owned(
            session, organization_id=org.id, limit=DELIVERY_CHOICES, cursor=None, program_id=None
        )[:DELIVERY_CHOICES]:
            if not g.placed or g.id in delivered_here:
                candidates.append(
                    {
                        "id": g.id,
                        "label": pseudonym(g.id),
                        "ref": g.external_ref,
                        "skills": ", ".join(s["name"] for s in g.skills or []),
                        "in_program": g.program_id is not None and g.program_id == order.program_id,
                    }
                )
        candidates.sort(key=lambda c: (not c["in_program"], c["ref"]))
    return ctx.render(
        "order.html",
        status_code=status_code,
        page_title=ctx.t("order_title"),
        o=view,
        names=names,
        program=program,
        demand=demand,
        candidates=candidates,
        problem=problem,
        problems=problems or [],
        pseudonym=pseudonym,
    )


@router.get("/training-orders/{order_id}")
def order_page(order_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    return _render_order(ctx, session, order_id)


@router.post("/training-orders/{order_id}/transitions")
def move_order(
    order_id: str,
    ctx: SignedIn,
    session: SessionDep,
    action: Annotated[str, Form(max_length=20)] = "",
    version: Text = "",
    reason: Text = "",
    graduate_ids: Lines = [],  # noqa: B006
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    org = member(ctx)
    order = orders_service.get_for_party(session, org, order_id)
    if action not in {a.value for a in OrderAction}:
        return _render_order(ctx, session, order_id, problem=ctx.t("unknown_action"), status_code=422)
    try:
        body = TransitionCreate(
            action=OrderAction(action),
            reason=forms.blank_to_none(reason),
            graduate_ids=[g for g in graduate_ids if g.strip()] or None,
        )
    except ValueError as exc:
        return _render_order(ctx, session, order_id, problem=str(exc), status_code=422)
    try:
        # The page's version is the If-Match: a page read before someone else's change is refused.
        orders_service.transition(session, org, order, body, f'"{version.strip() or "0"}"')
    except PreconditionFailed:
        session.rollback()
        return _render_order(ctx, session, order_id, problem=ctx.t("changed_meanwhile"), status_code=409)
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        session.rollback()
        problem = ctx.t("changed_meanwhile") if exc.status == 409 else exc.detail
        listed = [str(e.get("msg", "")) for e in exc.extra.get("errors") or []]
        return _render_order(ctx, session, order_id, problem=problem, problems=listed, status_code=exc.status)
    return ctx.redirect(f"/ui/training-orders/{order.id}")
