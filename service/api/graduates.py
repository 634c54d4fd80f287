from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from service.api.deps import IfMatchHeader, SchoolOrg
from service.api.idempotency import IdempotencyDep, Outcome
from service.db import SessionDep
from service.graduates import repository as repo
from service.graduates import service
from service.graduates.schemas import (
    BulkItem,
    BulkResult,
    GraduateBulk,
    GraduateCreate,
    GraduateExport,
    GraduateRead,
    GraduateUpdate,
)
from service.kit.versions import check_if_match, etag_for
from service.matching.engine import sync_after_erasure
from service.orm import Graduate
from service.pagination import CursorQuery, LimitQuery, Page, page_of

router = APIRouter(prefix="/v1/graduates", tags=["graduates"])


def owned_graduate(graduate_id: str, session: SessionDep, org: SchoolOrg) -> Graduate:
    return service.get_owned(session, org, graduate_id)


OwnedGraduate = Annotated[Graduate, Depends(owned_graduate)]


def _read(response: Response, graduate: Graduate) -> GraduateRead:
    response.headers["ETag"] = etag_for(graduate.version)
    return GraduateRead.model_validate(graduate)


@router.post("", status_code=201, response_model=GraduateRead, summary="Add a graduate profile")
def create_graduate(
    body: GraduateCreate, session: SessionDep, org: SchoolOrg, response: Response
) -> GraduateRead:
    return _read(response, service.create(session, org, body))


@router.post(
    "/bulk",
    response_model=BulkResult,
    summary="Upsert up to 1,000 profiles by external_ref (Idempotency-Key honoured)",
)
def bulk_graduates(
    body: GraduateBulk, session: SessionDep, org: SchoolOrg, idempotency: IdempotencyDep
) -> Response:
    def work() -> Outcome:
        created, updated, rows = service.bulk_upsert(session, org, body.graduates)
        items = [BulkItem(external_ref=g.external_ref, id=g.id) for g in rows]
        result = BulkResult(created=created, updated=updated, items=items)
        return Outcome(200, result, resource_ids=[g.id for g in rows])

    return idempotency.run(body.model_dump(mode="json", exclude_unset=True), work)


@router.get("", response_model=Page[GraduateRead], summary="The school's own graduates")
def list_graduates(
    session: SessionDep,
    org: SchoolOrg,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    program_id: Annotated[str | None, Query(max_length=64)] = None,
    graduation_year: Annotated[int | None, Query(ge=1950, le=2100)] = None,
) -> Page[GraduateRead]:
    rows = repo.list_owned(
        session,
        organization_id=org.id,
        limit=limit,
        cursor=cursor,
        program_id=program_id,
        graduation_year=graduation_year,
    )
    items, next_cursor = page_of(rows, limit)
    return Page[GraduateRead](items=[GraduateRead.model_validate(g) for g in items], next_cursor=next_cursor)


@router.get("/{graduate_id}", response_model=GraduateRead, summary="One graduate")
def get_graduate(graduate: OwnedGraduate, response: Response) -> GraduateRead:
    return _read(response, graduate)


@router.patch("/{graduate_id}", response_model=GraduateRead, summary="Change a graduate (If-Match honoured)")
def update_graduate(
    body: GraduateUpdate,
    graduate: OwnedGraduate,
    session: SessionDep,
    org: SchoolOrg,
    response: Response,
    if_match: IfMatchHeader = None,
) -> GraduateRead:
    check_if_match(if_match, graduate.version)
    return _read(response, service.update(session, org, graduate, body))


@router.delete("/{graduate_id}", status_code=204, summary="Erase a graduate everywhere")
def delete_graduate(
    graduate: OwnedGraduate, session: SessionDep, request: Request, background: BackgroundTasks
) -> Response:
    service.delete(session, graduate)
    # after the commit: the erased phrases leave the matching engine's memory too
    background.add_task(sync_after_erasure, request.app.state)
    return Response(status_code=204)


@router.get(
    "/{graduate_id}/export", response_model=GraduateExport, summary="Everything held about a graduate"
)
def export_graduate(graduate: OwnedGraduate, session: SessionDep) -> GraduateExport:
    return GraduateExport.model_validate(service.export(session, graduate))
