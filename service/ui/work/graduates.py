"""Graduate import page: a school uploads a CSV or JSON lines export; every row is checked, then the
valid rows are stored on confirmation (the CLI's reader and importer)."""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from service.curricula import service as curricula_service
from service.db import SessionDep, read_only
from service.imports.graduates import GraduateFileError, import_rows, read_graduates, resolve_programs
from service.orm import Organization
from service.ui.pages import PageRoute, SignedIn, required_encoder
from service.ui.work.common import (
    Text,
    Token,
    school,
)

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)


def _read_upload(session: SessionDep, org: Organization, filename: str, content: bytes) -> Any:
    """Every row validated (the CLI's reader), programmes resolved; nothing stored."""
    suffix = Path(filename or "upload.csv").suffix.lower()
    suffix = suffix if suffix in (".csv", ".jsonl", ".ndjson", ".json") else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"graduates{suffix}"
        path.write_bytes(content)
        parsed = read_graduates(path)
    resolve_programs(parsed, curricula_service.program_refs(session, org.id))
    return parsed


@router.get("/graduates/import")
def import_form(ctx: SignedIn) -> Response:
    school(ctx)
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
    ctx.check_csrf(csrf_token)
    org = school(ctx)
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
        summary = import_rows(
            request.app.state.write_sessions, required_encoder(request.app.state), org, valid
        )
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
