"""Pages that do the work: post and edit demands and programmes, place and move training orders,
import graduates, manage the organisation's API keys.

Each form posts the JSON API's field names; what it posts becomes the API's own request body
(``service.ui.forms``) and goes through the same domain service as the API, with the same role rules:
demands are posted by enterprises and research institutes, programmes and graduates by schools,
orders placed by demand owners and moved by their two parties. Anything an organisation may not see
is the 404 page. A successful post answers 303 to the object's page; a form with problems is shown
again (422) with each problem beside its field.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from service.curricula import repository as programs_repo
from service.curricula import service as curricula_service
from service.curricula.schemas import ProgramCreate, ProgramUpdate
from service.db import SessionDep, read_only
from service.demands import repository as demands_repo
from service.demands import service as demands_service
from service.demands.schemas import DemandCreate, DemandUpdate
from service.deps import loaded_encoder
from service.errors import DomainError, NotFound, PreconditionFailed, ServiceUnavailable
from service.graduates import repository as graduates_repo
from service.orders import repository as orders_repo
from service.orders import service as orders_service
from service.orders.schemas import OrderAction, OrderCreate, TransitionCreate
from service.orgs import repository as orgs_repo
from service.orgs import service as orgs_service
from service.orgs.kinds import DEMAND_OWNER_KINDS, OrgKind
from service.orm import Demand, Organization, Program
from service.schemas import CourseIn
from service.ui import forms
from service.ui.pages import PageContext, PageRoute, SignedIn
from service.ui.views import pseudonym

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=20_000)]
Lines = Annotated[list[str], Form()]
QueryId = Annotated[str | None, Query(max_length=64)]

LIST_LIMIT = 200
COVERING_PROGRAMS = 10
PROGRAMS_SCANNED = 50
DELIVERY_CHOICES = 500
SUGGESTIONS = 15


def _encoder(request: Request) -> Any:
    encoder = getattr(request.app.state, "encoder", None)
    if encoder is None:
        raise ServiceUnavailable("The encoder is not loaded.")
    return encoder


def _org(ctx: PageContext) -> Organization:
    assert ctx.org is not None
    return ctx.org


def _demand_owner(ctx: PageContext) -> Organization:
    org = _org(ctx)
    if org.kind not in DEMAND_OWNER_KINDS:
        raise NotFound("Demands are posted by enterprises and research institutes.")
    return org


def _school(ctx: PageContext) -> Organization:
    org = _org(ctx)
    if org.kind != OrgKind.school:
        raise NotFound("Programmes and graduates are posted by schools.")
    return org


def _member(ctx: PageContext) -> Organization:
    org = _org(ctx)
    if org.kind == OrgKind.government:
        raise NotFound("This page is for the consortium's members.")
    return org


def _stale_version(version: str, current: int) -> bool:
    return bool(version.strip()) and version.strip() != str(current)


# -- demands ---------------------------------------------------------------------------------------


def _skill_names_in_use(session: SessionDep) -> list[str]:
    """Skill names for the form's autocomplete list: those of open demands and programmes."""
    names: dict[str, None] = {}
    for d in demands_repo.open_demands(session)[:LIST_LIMIT]:
        for s in d.skills or []:
            names.setdefault(str(s["name"]), None)
    for p in programs_repo.all_programs(session)[:LIST_LIMIT]:
        for c in p.courses:
            for s in c.skills or []:
                names.setdefault(str(s["name"]), None)
    return sorted(names, key=str.casefold)[:1000]


def _taxonomy_labels(session: SessionDep, names: list[str]) -> list[str]:
    """Taxonomy labels near the skills already written (the autocomplete's second source)."""
    from service.taxonomy import service as taxonomy_service

    out: list[str] = []
    for name in names[:10]:
        try:
            hits = taxonomy_service.search(session, name, limit=5)
        except DomainError:
            return out
        out.extend(c.label for c, _how in hits)
    return out


def _demand_values(demand: Demand | None) -> dict[str, Any]:
    if demand is None:
        return {"headcount": "1", "skills": ""}
    return {
        "title": demand.title,
        "description": demand.description or "",
        "region": demand.region or "",
        "industry": demand.industry or "",
        "headcount": str(demand.headcount),
        "deadline": demand.deadline.isoformat() if demand.deadline else "",
        "skills": "\n".join(forms.skill_line(s) for s in demand.skills or []),
        "status": demand.status,
        "version": str(demand.version),
    }


def _render_demand_form(
    ctx: PageContext,
    session: SessionDep,
    *,
    demand: Demand | None,
    values: dict[str, Any],
    errors: forms.FormErrors | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    typed = [line.split("|")[0].strip() for line in forms.lines(values.get("skills"))]
    options = list(dict.fromkeys(_skill_names_in_use(session) + _taxonomy_labels(session, typed)))
    return ctx.render(
        "demand_form.html",
        status_code=status_code,
        page_title=ctx.t("edit_demand") if demand else ctx.t("new_demand"),
        demand=demand,
        v=values,
        errors=errors or forms.FormErrors(),
        notice=notice,
        skill_options=options,
    )


def _suggest(session: SessionDep, values: dict[str, Any]) -> tuple[str, int]:
    """Skills the title and description ask for (the API's ``/v1/skills/extract``), added as lines."""
    from service.taxonomy import service as taxonomy_service

    text = "\n".join(v for v in (values.get("title"), values.get("description")) if v)
    try:
        found = taxonomy_service.extract(session, text, max_skills=SUGGESTIONS) if text.strip() else []
    except DomainError:
        found = []
    present = {line.split("|")[0].strip().casefold() for line in forms.lines(values.get("skills"))}
    new = [e.label for e in found if e.label.casefold() not in present]
    skills = "\n".join([*forms.lines(values.get("skills")), *new])
    return skills, len(new)


def _demand_body(
    values: dict[str, Any], skills_raw: list[str], *, update: bool
) -> tuple[Any, forms.FormErrors]:
    errors = forms.FormErrors()
    skills, positions = forms.parse_skill_lines(errors, skills_raw)
    data: dict[str, Any] = {
        "title": values["title"],
        "description": forms.blank_to_none(values["description"]),
        "region": forms.blank_to_none(values["region"]),
        "industry": forms.blank_to_none(values["industry"]),
        "headcount": forms.parse_int(errors, "headcount", values["headcount"], required=True),
        "deadline": forms.blank_to_none(values["deadline"]),
        "skills": skills or None,
    }
    if update:
        if not skills:
            errors.add("skills", "a demand needs at least one skill")
        if values.get("status") in ("open", "closed"):
            data["status"] = values["status"]
    model = DemandUpdate if update else DemandCreate
    try:
        return forms.build(model, data, errors, positions={"skills": positions}), errors
    except forms.FormInvalid as exc:
        return None, exc.errors


@router.get("/demands/new")
def new_demand_form(ctx: SignedIn, session: SessionDep) -> Response:
    _demand_owner(ctx)
    return _render_demand_form(ctx, session, demand=None, values=_demand_values(None))


@router.post("/demands/new")
def create_demand(
    ctx: SignedIn,
    session: SessionDep,
    title: Text = "",
    description: Text = "",
    region: Text = "",
    industry: Text = "",
    headcount: Text = "",
    deadline: Text = "",
    skills: Lines = [],  # noqa: B006 - FastAPI copies defaults
    suggest: Text = "",
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    org = _demand_owner(ctx)
    values = {
        "title": title,
        "description": description,
        "region": region,
        "industry": industry,
        "headcount": headcount,
        "deadline": deadline,
        "skills": "\n".join(skills),
    }
    if suggest:
        values["skills"], added = _suggest(session, values)
        return _render_demand_form(
            ctx, session, demand=None, values=values, notice=ctx.t("skills_suggested", n=added)
        )
    body, errors = _demand_body(values, skills, update=False)
    if body is None:
        return _render_demand_form(ctx, session, demand=None, values=values, errors=errors, status_code=422)
    demand = demands_service.create(session, org, body)
    return ctx.redirect(f"/ui/demands/{demand.id}")


@router.get("/demands/{demand_id}/edit")
def edit_demand_form(demand_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    demand = demands_service.get_owned(session, _demand_owner(ctx), demand_id)
    return _render_demand_form(ctx, session, demand=demand, values=_demand_values(demand))


@router.post("/demands/{demand_id}/edit")
def update_demand(
    demand_id: str,
    ctx: SignedIn,
    session: SessionDep,
    title: Text = "",
    description: Text = "",
    region: Text = "",
    industry: Text = "",
    headcount: Text = "",
    deadline: Text = "",
    skills: Lines = [],  # noqa: B006
    status: Text = "",
    version: Text = "",
    suggest: Text = "",
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    demand = demands_service.get_owned(session, _demand_owner(ctx), demand_id)
    values = {
        "title": title,
        "description": description,
        "region": region,
        "industry": industry,
        "headcount": headcount,
        "deadline": deadline,
        "skills": "\n".join(skills),
        "status": status,
        "version": version,
    }
    if suggest:
        values["skills"], added = _suggest(session, values)
        return _render_demand_form(
            ctx, session, demand=demand, values=values, notice=ctx.t("skills_suggested", n=added)
        )
    if _stale_version(version, demand.version):
        errors = forms.FormErrors()
        errors.add("", ctx.t("changed_meanwhile"))
        return _render_demand_form(ctx, session, demand=demand, values=values, errors=errors, status_code=409)
    body, errors = _demand_body(values, skills, update=True)
    if body is None:
        return _render_demand_form(ctx, session, demand=demand, values=values, errors=errors, status_code=422)
    demands_service.update(session, demand, body)
    return ctx.redirect(f"/ui/demands/{demand.id}")


@router.get("/demands")
def demand_list(ctx: SignedIn, session: SessionDep) -> Response:
    org = _member(ctx)
    own = org.kind in DEMAND_OWNER_KINDS
    rows = demands_repo.list_visible(
        session,
        organization_id=org.id,
        limit=LIST_LIMIT,
        cursor=None,
        status=None if own else "open",
        owner_id=org.id if own else None,
    )[:LIST_LIMIT]
    owners = {o.id: o.name for o in orgs_repo.list_orgs(session)}
    return ctx.render("demands.html", page_title=ctx.t("demands"), demands=rows, own=own, owners=owners)


def _covering_programs(request: Request, session: SessionDep, demand: Demand) -> list[dict[str, Any]]:
    """The programmes that best cover a demand (the gap analysis' coverage), best first."""
    from service.gaps import service as gaps_service

    encoder = getattr(request.app.state, "encoder", None)
    if encoder is None:
        return []
    schools = {o.id: o.name for o in orgs_repo.list_orgs(session, kind=OrgKind.school.value)}
    rows: list[dict[str, Any]] = []
    for program in programs_repo.all_programs(session)[:PROGRAMS_SCANNED]:
        report = gaps_service.program_gaps(session, encoder, program, [demand])
        rows.append(
            {
                "program": program,
                "school": schools.get(program.organization_id, ""),
                "coverage": float(report["coverage"]),
                "gaps": int(report["summary"]["gap"]),
                "partial": int(report["summary"]["partial"]),
            }
        )
    rows.sort(key=lambda r: (-r["coverage"], r["gaps"], r["program"].name))
    return rows[:COVERING_PROGRAMS]


@router.get("/demands/{demand_id}")
def demand_page(demand_id: str, ctx: SignedIn, session: SessionDep, request: Request) -> Response:
    from service.matching import service as matching_service

    org = _member(ctx)
    demand = demands_service.get_visible(session, org, demand_id)
    owner = demand.organization_id == org.id
    run = matching_service.last_run(session, demand) if owner else None
    run_view = matching_service.run_view(session, run) if run is not None else None
    own_programs: list[Program] = []
    if org.kind == OrgKind.school:
        own_programs = programs_repo.list_programs(session, limit=LIST_LIMIT, cursor=None, owner_id=org.id)
    return ctx.render(
        "demand.html",
        page_title=demand.title,
        d=demand,
        owner=owner,
        run=run_view,
        covering=_covering_programs(request, session, demand) if owner else [],
        own_programs=own_programs[:LIST_LIMIT],
        poster=orgs_repo.get(session, demand.organization_id),
    )


# -- programmes and courses ------------------------------------------------------------------------


def _program_values(program: Program | None) -> dict[str, Any]:
    if program is None:
        return {}
    return {
        "name": program.name,
        "code": program.code or "",
        "description": program.description or "",
        "version": str(program.version),
    }


def _render_program_form(
    ctx: PageContext,
    *,
    program: Program | None,
    values: dict[str, Any],
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return ctx.render(
        "program_form.html",
        status_code=status_code,
        page_title=ctx.t("edit_program") if program else ctx.t("new_program"),
        program=program,
        v=values,
        errors=errors or forms.FormErrors(),
    )


@router.get("/programs/new")
def new_program_form(ctx: SignedIn) -> Response:
    _school(ctx)
    return _render_program_form(ctx, program=None, values={})


@router.post("/programs/new")
def create_program(
    ctx: SignedIn,
    session: SessionDep,
    name: Text = "",
    code: Text = "",
    description: Text = "",
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    org = _school(ctx)
    values = {"name": name, "code": code, "description": description}
    data = {
        "name": name,
        "code": forms.blank_to_none(code),
        "description": forms.blank_to_none(description),
    }
    try:
        body = forms.build(ProgramCreate, data, forms.FormErrors())
    except forms.FormInvalid as exc:
        return _render_program_form(ctx, program=None, values=values, errors=exc.errors, status_code=422)
    program = curricula_service.create(session, org, body)
    return ctx.redirect(f"/ui/programs/{program.id}")


@router.get("/programs/{program_id}")
def program_page(program_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    program = curricula_service.get_owned(session, _school(ctx), program_id)
    return ctx.render("program.html", page_title=program.name, p=program)


@router.get("/programs/{program_id}/edit")
def edit_program_form(program_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    program = curricula_service.get_owned(session, _school(ctx), program_id)
    return _render_program_form(ctx, program=program, values=_program_values(program))


@router.post("/programs/{program_id}/edit")
def update_program(
    program_id: str,
    ctx: SignedIn,
    session: SessionDep,
    name: Text = "",
    code: Text = "",
    description: Text = "",
    version: Text = "",
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    program = curricula_service.get_owned(session, _school(ctx), program_id)
    values = {"name": name, "code": code, "description": description, "version": version}
    errors = forms.FormErrors()
    if _stale_version(version, program.version):
        errors.add("", ctx.t("changed_meanwhile"))
        return _render_program_form(ctx, program=program, values=values, errors=errors, status_code=409)
    data = {
        "name": name,
        "code": forms.blank_to_none(code),
        "description": forms.blank_to_none(description),
    }
    try:
        body = forms.build(ProgramUpdate, data, errors)
    except forms.FormInvalid as exc:
        return _render_program_form(ctx, program=program, values=values, errors=exc.errors, status_code=422)
    curricula_service.update(session, program, body)
    return ctx.redirect(f"/ui/programs/{program.id}")


def _render_course_form(
    ctx: PageContext,
    program: Program,
    values: dict[str, Any],
    errors: forms.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return ctx.render(
        "course_form.html",
        status_code=status_code,
        page_title=ctx.t("new_course"),
        program=program,
        v={"version": str(program.version), **values},
        errors=errors or forms.FormErrors(),
    )


@router.get("/programs/{program_id}/courses/new")
def new_course_form(program_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    program = curricula_service.get_owned(session, _school(ctx), program_id)
    return _render_course_form(ctx, program, {})


@router.post("/programs/{program_id}/courses/new")
def add_course(
    program_id: str,
    ctx: SignedIn,
    session: SessionDep,
    title: Text = "",
    code: Text = "",
    hours: Text = "",
    description: Text = "",
    learning_outcomes: Text = "",
    skills: Lines = [],  # noqa: B006
    version: Text = "",
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    program = curricula_service.get_owned(session, _school(ctx), program_id)
    values = {
        "title": title,
        "code": code,
        "hours": hours,
        "description": description,
        "learning_outcomes": learning_outcomes,
        "skills": "\n".join(skills),
        "version": version,
    }
    errors = forms.FormErrors()
    if _stale_version(version, program.version):
        errors.add("", ctx.t("changed_meanwhile"))
        return _render_course_form(ctx, program, values, errors, status_code=409)
    data = {
        "title": title,
        "code": forms.blank_to_none(code),
        "hours": forms.parse_int(errors, "hours", hours),
        "description": forms.blank_to_none(description),
        "learning_outcomes": forms.lines(learning_outcomes),
        "skills": [line for value in skills for line in forms.lines(value)],
    }
    try:
        course = forms.build(CourseIn, data, errors)
    except forms.FormInvalid as exc:
        return _render_course_form(ctx, program, values, exc.errors, status_code=422)
    existing = [CourseIn.model_validate(_course_in(c)) for c in program.courses]
    curricula_service.update(session, program, ProgramUpdate(courses=[*existing, course]))
    return ctx.redirect(f"/ui/programs/{program.id}")


def _course_in(course: Any) -> dict[str, Any]:
    view = curricula_service.course_view(course)
    return {k: view[k] for k in ("code", "title", "description", "learning_outcomes", "skills", "hours")}


# -- training orders -------------------------------------------------------------------------------


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
        **_order_choices(session, _org(ctx)),
    )


@router.get("/training-orders/new")
def new_order_form(
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    demand_id: QueryId = None,
    program_id: QueryId = None,
) -> Response:
    org = _demand_owner(ctx)
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
    org = _demand_owner(ctx)
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
    org = _member(ctx)
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
    org = _member(ctx)
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
    org = _member(ctx)
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


# -- graduates import ------------------------------------------------------------------------------


def _school_programs(session: SessionDep, org: Organization) -> dict[str, str]:
    programs: dict[str, str] = {}
    for program in programs_repo.all_programs(session):
        if program.organization_id == org.id:
            programs[program.id] = program.id
            if program.code:
                programs.setdefault(program.code, program.id)
    return programs


def _read_upload(session: SessionDep, org: Organization, filename: str, content: bytes) -> Any:
    """Every row validated (the CLI's reader), programmes resolved; nothing stored."""
    from service.imports.graduates import read_graduates, resolve_programs

    suffix = Path(filename or "upload.csv").suffix.lower()
    suffix = suffix if suffix in (".csv", ".jsonl", ".ndjson", ".json") else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"graduates{suffix}"
        path.write_bytes(content)
        parsed = read_graduates(path)
    resolve_programs(parsed, _school_programs(session, org))
    return parsed


@router.get("/graduates/import")
def import_form(ctx: SignedIn) -> Response:
    _school(ctx)
    return ctx.render("import.html", page_title=ctx.t("import_graduates"), parsed=None)


@router.post("/graduates/import")
@read_only
def import_graduates(
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    content: Annotated[str, Form()] = "",
    filename: Text = "",
    confirm: Text = "",
    csrf_token: Token = "",
) -> Response:
    """Upload: every row checked and the bad ones listed, nothing stored. Confirm ("store the valid
    rows"): the same file, carried in the page, checked again and its valid rows upserted."""
    from service.imports.graduates import GraduateFileError, import_rows

    ctx.check_csrf(csrf_token)
    org = _school(ctx)
    if file is not None and file.filename:
        raw = file.file.read()
        filename = file.filename
    else:
        try:
            raw = base64.b64decode(content.encode(), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if not raw:
        return ctx.render(
            "import.html",
            status_code=422,
            page_title=ctx.t("import_graduates"),
            parsed=None,
            file_problem=ctx.t("no_file"),
        )
    try:
        parsed = _read_upload(session, org, filename, raw)
    except GraduateFileError as exc:
        where = f"line {exc.line}" + (f", column {exc.column}" if exc.column is not None else "")
        message = str(exc).split(": ", 2)[-1]
        return ctx.render(
            "import.html",
            status_code=422,
            page_title=ctx.t("import_graduates"),
            parsed=None,
            file_problem=f"{where}: {message}",
        )
    valid = [row for line, row in parsed.rows if line not in parsed.bad_lines]
    if confirm and valid:
        summary = import_rows(request.app.state.write_sessions, _encoder(request), org, valid)
        summary.skipped = len(parsed.bad_lines)
        return ctx.render(
            "import.html",
            page_title=ctx.t("import_graduates"),
            parsed=None,
            summary=summary,
            filename=filename,
        )
    return ctx.render(
        "import.html",
        status_code=200 if not parsed.problems else 422,
        page_title=ctx.t("import_graduates"),
        parsed=parsed,
        problems=sorted(parsed.problems, key=lambda p: (p.line, p.column or "")),
        valid=len(valid),
        filename=filename,
        content=base64.b64encode(raw).decode(),
    )


# -- API keys --------------------------------------------------------------------------------------


def _render_keys(
    ctx: PageContext, session: SessionDep, *, new_key: str | None = None, status_code: int = 200
) -> Response:
    org = _org(ctx)
    keys = orgs_repo.keys_of(session, org.id)
    return ctx.render(
        "keys.html",
        status_code=status_code,
        page_title=ctx.t("keys_title"),
        keys=keys,
        new_key=new_key,
    )


@router.get("/keys")
def keys_page(ctx: SignedIn, session: SessionDep) -> Response:
    return _render_keys(ctx, session)


@router.post("/keys")
def issue_key(ctx: SignedIn, session: SessionDep, csrf_token: Token = "") -> Response:
    """A new key, shown on this answer only (it is stored as a hash); the page is not a redirect so
    that the key is never kept anywhere else."""
    ctx.check_csrf(csrf_token)
    _row, key = orgs_service.issue_key(session, _org(ctx))
    return _render_keys(ctx, session, new_key=key, status_code=201)


@router.post("/keys/{key_id}/revoke")
def revoke_key(key_id: str, ctx: SignedIn, session: SessionDep, csrf_token: Token = "") -> Response:
    ctx.check_csrf(csrf_token)
    orgs_service.revoke(session, _org(ctx).id, key_id)
    return ctx.redirect("/ui/keys")
