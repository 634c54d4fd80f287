from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from service.api.deps import IfMatchHeader, MemberNotGovernment, SchoolOrg
from service.curricula import repository as repo
from service.curricula import service
from service.curricula.schemas import ProgramCreate, ProgramRead, ProgramUpdate
from service.db import SessionDep
from service.kit.versions import check_if_match, etag_for
from service.orm import Program
from service.pagination import CursorQuery, LimitQuery, Page, page_of

router = APIRouter(prefix="/v1/programs", tags=["programs"])


def readable_program(program_id: str, session: SessionDep, _org: MemberNotGovernment) -> Program:
    return service.get_readable(session, program_id)


def owned_program(program_id: str, session: SessionDep, org: SchoolOrg) -> Program:
    return service.get_owned(session, org, program_id)


ReadableProgram = Annotated[Program, Depends(readable_program)]
OwnedProgram = Annotated[Program, Depends(owned_program)]


def _read(response: Response, program: Program) -> ProgramRead:
    response.headers["ETag"] = etag_for(program.version)
    return ProgramRead.model_validate(service.program_view(program))


@router.post("", status_code=201, response_model=ProgramRead, summary="Post a programme (curriculum)")
def create_program(
    body: ProgramCreate, session: SessionDep, org: SchoolOrg, response: Response
) -> ProgramRead:
    return _read(response, service.create(session, org, body))


@router.get("", response_model=Page[ProgramRead], summary="All programmes of the consortium")
def list_programs(
    session: SessionDep,
    _org: MemberNotGovernment,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    organization_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ProgramRead]:
    rows = repo.list_programs(session, limit=limit, cursor=cursor, owner_id=organization_id)
    items, next_cursor = page_of(rows, limit)
    return Page[ProgramRead](
        items=[ProgramRead.model_validate(service.program_view(p)) for p in items], next_cursor=next_cursor
    )


@router.get("/{program_id}", response_model=ProgramRead, summary="One programme")
def get_program(program: ReadableProgram, response: Response) -> ProgramRead:
    return _read(response, program)


@router.patch("/{program_id}", response_model=ProgramRead, summary="Change a programme (If-Match honoured)")
def update_program(
    body: ProgramUpdate,
    program: OwnedProgram,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProgramRead:
    check_if_match(if_match, program.version)
    return _read(response, service.update(session, program, body))


@router.delete("/{program_id}", status_code=204, summary="Delete a programme")
def delete_program(program: OwnedProgram, session: SessionDep, if_match: IfMatchHeader = None) -> Response:
    check_if_match(if_match, program.version)
    service.delete(session, program)
    return Response(status_code=204)
