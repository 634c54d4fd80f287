"""Programmes (curricula): courses with learning outcomes and tagged skills, posted by schools."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import changes
from service.curricula import repository as repo
from service.curricula.schemas import ProgramCreate, ProgramUpdate
from service.db import is_writer
from service.errors import NotFound
from service.orm import Course, Organization, Program
from service.schemas import CourseIn
from service.taxonomy.canonical import canonical_ids


def _courses(session: Session, courses: list[CourseIn]) -> list[Course]:
    out = []
    for position, c in enumerate(courses):
        ids = canonical_ids(session, list(c.skills))
        out.append(
            Course(
                position=position,
                code=c.code,
                title=c.title,
                description=c.description,
                learning_outcomes=list(c.learning_outcomes),
                skills=[{"name": name, "skill_id": ids[i]} for i, name in enumerate(c.skills)],
                hours=c.hours,
            )
        )
    return out


def course_view(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "description": course.description,
        "learning_outcomes": list(course.learning_outcomes or []),
        "skills": [s["name"] for s in course.skills or []],
        "skill_ids": [s.get("skill_id") for s in course.skills or []],
        "hours": course.hours,
    }


def program_view(program: Program) -> dict[str, Any]:
    return {
        "id": program.id,
        "organization_id": program.organization_id,
        "name": program.name,
        "code": program.code,
        "description": program.description,
        "courses": [course_view(c) for c in program.courses],
        "version": program.version,
        "created_at": program.created_at,
        "updated_at": program.updated_at,
    }


def create(session: Session, org: Organization, data: ProgramCreate) -> Program:
    program = Program(
        organization_id=org.id, name=data.name, code=data.code, description=data.description, version=1
    )
    program.courses = _courses(session, data.courses)
    repo.add(session, program)
    changes.bump(session, changes.PROGRAM)
    return program


def program_refs(session: Session, organization_id: str) -> dict[str, str]:
    """A school's programmes by id and by code, each to the id (how graduate imports name them)."""
    refs: dict[str, str] = {}
    for program in repo.all_programs(session):
        if program.organization_id == organization_id:
            refs[program.id] = program.id
            if program.code:
                refs.setdefault(program.code, program.id)
    return refs


def get_readable(session: Session, program_id: str) -> Program:
    program = repo.get(session, program_id)
    if program is None:
        raise NotFound(f"No programme {program_id}.")
    return program


def get_owned(session: Session, org: Organization, program_id: str) -> Program:
    program = repo.get_owned(session, program_id, org.id, lock=is_writer(session))
    if program is None:
        raise NotFound(f"No programme {program_id}.")
    return program


def update(session: Session, program: Program, data: ProgramUpdate) -> Program:
    fields = data.model_dump(exclude_unset=True)
    if fields.get("name", "") is None:
        fields.pop("name")
    if "courses" in fields:
        fields.pop("courses")
        if data.courses is not None:
            program.courses = _courses(session, data.courses)
    for name, value in fields.items():
        setattr(program, name, value)
    program.version += 1
    session.flush()
    changes.bump(session, changes.PROGRAM)
    return program


def delete(session: Session, program: Program) -> None:
    repo.delete(session, program)
    changes.bump(session, changes.PROGRAM)
