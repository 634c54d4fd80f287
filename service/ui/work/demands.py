"""Demand pages: post, edit and list demands; a demand's page with its last match run and the
programmes that best cover it (enterprises and research institutes post; members read open demands)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from service.api.deps import loaded_encoder
from service.curricula import repository as programs_repo
from service.db import SessionDep
from service.demands import repository as demands_repo
from service.demands import service as demands_service
from service.demands.schemas import DemandCreate, DemandUpdate
from service.errors import DomainError
from service.gaps import service as gaps_service
from service.matching import service as matching_service
from service.occupations import service as occupations_service
from service.orgs import repository as orgs_repo
from service.orgs.kinds import DEMAND_OWNER_KINDS, OrgKind
from service.orm import Demand, Organization, Program
from service.taxonomy import service as taxonomy_service
from service.ui import forms
from service.ui.pages import PageContext, PageRoute, SignedIn
from service.ui.work.common import (
    LIST_LIMIT,
    Lines,
    Text,
    Token,
    demand_owner,
    member,
    stale_version,
)

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)

COVERING_PROGRAMS = 10
PROGRAMS_SCANNED = 50
SUGGESTIONS = 15


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
    """Skills for the demand, added as lines: those of the occupation its title names (the API's
    demand from a title: ESCO essential skills or CSCO tasks, when occupations are imported), then
    those its title and description ask for (the API's ``/v1/skills/extract``)."""
    title = (values.get("title") or "").strip()
    text = "\n".join(v for v in (title, values.get("description")) if v)
    labels: list[str] = []
    try:
        occupation = occupations_service.occupation_from_title(session, title) if title else None
        if occupation is not None:
            labels += [row["name"] for row in occupations_service.proposed_skills(session, occupation)]
    except DomainError:
        pass
    try:
        found = taxonomy_service.extract(session, text, max_skills=SUGGESTIONS) if text.strip() else []
    except DomainError:
        found = []
    labels += [e.label for e in found]
    present = {line.split("|")[0].strip().casefold() for line in forms.lines(values.get("skills"))}
    new: list[str] = []
    for label in labels:
        if label.casefold() not in present:
            present.add(label.casefold())
            new.append(label)
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


def _form_values(
    title: str, description: str, region: str, industry: str, headcount: str, deadline: str, skills: list[str]
) -> dict[str, Any]:
    """The posted fields as the form shows them again."""
    return {
        "title": title,
        "description": description,
        "region": region,
        "industry": industry,
        "headcount": headcount,
        "deadline": deadline,
        "skills": "\n".join(skills),
    }


def _post_demand(
    ctx: PageContext,
    session: SessionDep,
    org: Organization,
    demand: Demand | None,
    values: dict[str, Any],
    skills: list[str],
    *,
    suggest: bool,
) -> Response:
    """A posted demand form (``demand`` None: a new demand): with "suggest", the form again with the
    skills the text asks for added; an edit of an older version, 409; problems, 422; else stored."""
    if suggest:
        values["skills"], added = _suggest(session, values)
        return _render_demand_form(
            ctx, session, demand=demand, values=values, notice=ctx.t("skills_suggested", n=added)
        )
    if demand is not None and stale_version(values["version"], demand.version):
        errors = forms.FormErrors()
        errors.add("", ctx.t("changed_meanwhile"))
        return _render_demand_form(ctx, session, demand=demand, values=values, errors=errors, status_code=409)
    body, errors = _demand_body(values, skills, update=demand is not None)
    if body is None:
        return _render_demand_form(ctx, session, demand=demand, values=values, errors=errors, status_code=422)
    if demand is None:
        demand = demands_service.create(session, org, body)
    else:
        demands_service.update(session, demand, body)
    return ctx.redirect(f"/ui/demands/{demand.id}")


@router.get("/demands/new")
def new_demand_form(ctx: SignedIn, session: SessionDep) -> Response:
    demand_owner(ctx)
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
    org = demand_owner(ctx)
    values = _form_values(title, description, region, industry, headcount, deadline, skills)
    return _post_demand(ctx, session, org, None, values, skills, suggest=bool(suggest))


@router.get("/demands/{demand_id}/edit")
def edit_demand_form(demand_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    demand = demands_service.get_owned(session, demand_owner(ctx), demand_id)
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
    org = demand_owner(ctx)
    demand = demands_service.get_owned(session, org, demand_id)
    values = _form_values(title, description, region, industry, headcount, deadline, skills)
    values.update(status=status, version=version)
    return _post_demand(ctx, session, org, demand, values, skills, suggest=bool(suggest))


@router.get("/demands")
def demand_list(ctx: SignedIn, session: SessionDep) -> Response:
    org = member(ctx)
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
    encoder = loaded_encoder(request)
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
    org = member(ctx)
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
