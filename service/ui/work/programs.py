"""Programme pages: a school posts and edits its programmes and adds courses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.curricula import service as curricula_service
from service.curricula.schemas import ProgramCreate, ProgramUpdate
from service.db import SessionDep
from service.orm import Program
from service.schemas import CourseIn
from service.ui import forms
from service.ui.pages import PageContext, PageRoute, SignedIn
from service.ui.work.common import (
    Lines,
    Text,
    Token,
    school,
    stale_version,
)

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)


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
    school(ctx)
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
    org = school(ctx)
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
    program = curricula_service.get_owned(session, school(ctx), program_id)
    return ctx.render("program.html", page_title=program.name, p=program)


@router.get("/programs/{program_id}/edit")
def edit_program_form(program_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    program = curricula_service.get_owned(session, school(ctx), program_id)
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
    program = curricula_service.get_owned(session, school(ctx), program_id)
    values = {"name": name, "code": code, "description": description, "version": version}
    errors = forms.FormErrors()
    if stale_version(version, program.version):
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
    program = curricula_service.get_owned(session, school(ctx), program_id)
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
    program = curricula_service.get_owned(session, school(ctx), program_id)
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
    if stale_version(version, program.version):
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
