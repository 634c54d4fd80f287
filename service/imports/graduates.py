"""Bulk import of graduate profiles from a student-system export (``talentmatch import graduates``).

Two formats:

- **CSV** (UTF-8; a BOM is fine), header row with these columns (only ``external_ref`` is required;
  any other column is an error, so a misspelt header is caught rather than ignored)::

      external_ref,program_id,graduation_year,skills,certificates
      S-2026-0001,MECH-01,2026,"CNC machining:4; read engineering drawings:3; AutoCAD",CNC operator level 4

  ``skills`` is a ``;``-separated list of ``name`` or ``name:level`` (level 1-5); ``certificates`` a
  ``;``-separated list; ``program_id`` is the programme's id or its code (of the importing school).
- **JSON lines**: one object per line in the shape of ``POST /v1/graduates``
  (``{"external_ref", "program_id"?, "graduation_year"?, "skills": [{"name", "level"?}], "certificates"?}``).

Every row is validated before anything is written; problems name the line (and column). Nothing is
stored when any row is bad, unless the caller skips the bad rows. Rows are then upserted by
``external_ref`` in transactions of ``BATCH`` rows; a row equal to what is stored is left alone, so a
re-import changes nothing and embeds nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from service.embeddings import cache as phrase_cache
from service.embeddings.encoder import Encoder, companion
from service.graduates import repository as graduates_repo
from service.graduates import service as graduates_service
from service.graduates.schemas import GraduateCreate
from service.kit.progress import NullProgress, Progress
from service.orgs import repository as orgs_repo
from service.orm import Graduate, Organization
from service.taxonomy.canonical import canonical_ids

CSV_COLUMNS = ("external_ref", "program_id", "graduation_year", "skills", "certificates")
BATCH = 1000
_LIST_SPLIT = re.compile(r"[;；\n]")


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class GraduateFileError(Exception):
    """The file as a whole cannot be read (encoding, header); names file, line and column."""

    def __init__(self, path: Path, line: int, column: int | str | None, message: str) -> None:
        self.path, self.line, self.column = path, line, column
        where = f"{path}: line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {message}")


@dataclass
class GraduateRows:
    path: Path
    format: str
    rows: list[tuple[int, GraduateCreate]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    records: int = 0

    @property
    def bad_lines(self) -> set[int]:
        return {p.line for p in self.problems}


def _decode(path: Path, encoding: str) -> str:
    if not path.is_file():
        raise GraduateFileError(path, 0, None, "file not found")
    raw = path.read_bytes()
    try:
        return raw.decode(
            "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        )
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise GraduateFileError(
            path,
            line,
            column,
            f"not valid {encoding} (byte 0x{raw[exc.start]:02x}); pass --encoding gb18030 for a GBK export",
        ) from exc
    except LookupError as exc:
        raise GraduateFileError(path, 0, None, f"unknown encoding {encoding!r}") from exc


def parse_skills(value: str) -> list[dict[str, Any]]:
    """``"CNC machining:4; AutoCAD"`` -> ``[{"name": "CNC machining", "level": 4}, {"name": "AutoCAD"}]``.
    A trailing ``:<digits>`` is the level; any other colon belongs to the name."""
    out: list[dict[str, Any]] = []
    for item in _LIST_SPLIT.split(value or ""):
        item = item.strip()
        if not item:
            continue
        name, sep, level = item.rpartition(":")
        if not sep:
            name, sep, level = item.rpartition("：")
        if sep and level.strip().lstrip("-").isdigit() and name.strip():
            out.append({"name": name.strip(), "level": int(level.strip())})
        else:
            out.append({"name": item})
    return out


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in _LIST_SPLIT.split(value or "") if v.strip()]


def _problems_from(exc: ValidationError, line: int, data: dict[str, Any]) -> list[RowProblem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        column = loc[0] if loc else None
        msg = str(err.get("msg", "invalid"))
        if column == "skills" and len(loc) >= 2 and loc[1].isdigit():
            skills = data.get("skills") or []
            index = int(loc[1])
            if index < len(skills) and isinstance(skills[index], dict):
                name = skills[index].get("name", "")
                what = f"level of {name!r}" if "level" in loc else f"skill {index + 1} {name!r}"
                msg = f"{what}: {msg}"
        elif len(loc) > 1:
            msg = f"{'.'.join(loc[1:])}: {msg}"
        out.append(RowProblem(line, column, msg))
    return out


def _validate(parsed: GraduateRows, line: int, data: dict[str, Any], seen: dict[str, int]) -> None:
    try:
        row = GraduateCreate.model_validate(data)
    except ValidationError as exc:
        parsed.problems.extend(_problems_from(exc, line, data))
        return
    if row.external_ref in seen:
        parsed.problems.append(
            RowProblem(
                line, "external_ref", f"duplicate of line {seen[row.external_ref]} ({row.external_ref})"
            )
        )
        return
    seen[row.external_ref] = line
    parsed.rows.append((line, row))


def read_graduates(path: Path, *, fmt: str = "auto", encoding: str = "utf-8") -> GraduateRows:
    """Read and validate every row (no database access). File-level problems raise
    :class:`GraduateFileError`; row problems are collected in ``problems``."""
    text = _decode(path, encoding)
    if fmt == "auto":
        fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"
    if fmt not in ("csv", "jsonl"):
        raise GraduateFileError(path, 0, None, f"unknown format {fmt!r} (csv or jsonl)")
    parsed = GraduateRows(path, fmt)
    seen: dict[str, int] = {}
    data: dict[str, Any]
    if fmt == "jsonl":
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            parsed.records += 1
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                parsed.problems.append(RowProblem(number, f"{exc.colno}", f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(data, dict):
                parsed.problems.append(RowProblem(number, None, "each line must be a JSON object"))
                continue
            if isinstance(data.get("skills"), list):
                data["skills"] = [
                    parse_skills(s)[0] if isinstance(s, str) and s.strip() else s for s in data["skills"]
                ]
            _validate(parsed, number, data, seen)
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration as exc:
        raise GraduateFileError(path, 1, None, "the file is empty") from exc
    except csv.Error as exc:
        raise GraduateFileError(path, 1, None, f"malformed CSV header ({exc})") from exc
    if "external_ref" not in header:
        hint = " (the file looks tab-separated)" if len(header) == 1 and "\t" in header[0] else ""
        raise GraduateFileError(
            path, 1, None, f"missing column external_ref{hint}; expected columns: {', '.join(CSV_COLUMNS)}"
        )
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        column = header.index(unknown[0]) + 1
        raise GraduateFileError(
            path, 1, column, f"unknown column(s) {', '.join(unknown)}; expected: {', '.join(CSV_COLUMNS)}"
        )
    end_line = 1
    while True:
        start = end_line + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(RowProblem(start, None, f"malformed CSV ({exc})"))
            break
        end_line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        parsed.records += 1
        if len(values) != len(header):
            parsed.problems.append(
                RowProblem(start, None, f"the row has {len(values)} field(s), the header has {len(header)}")
            )
            continue
        cells = dict(zip(header, values, strict=True))
        data = {"external_ref": cells["external_ref"]}
        if cells.get("program_id", "").strip():
            data["program_id"] = cells["program_id"].strip()
        year = cells.get("graduation_year", "").strip()
        if year:
            if not year.isdigit():
                parsed.problems.append(RowProblem(start, "graduation_year", f"{year!r} is not a year"))
                continue
            data["graduation_year"] = int(year)
        data["skills"] = parse_skills(cells.get("skills", ""))
        data["certificates"] = _split_list(cells.get("certificates", ""))
        _validate(parsed, start, data, seen)
    return parsed


def resolve_programs(parsed: GraduateRows, programs: dict[str, str]) -> None:
    """Replace each row's ``program_id`` (an id or a code of this school's programmes, ``programs``
    maps both to the id) by the id; unknown ones become problems and their rows are dropped."""
    kept: list[tuple[int, GraduateCreate]] = []
    for line, row in parsed.rows:
        if row.program_id is not None:
            resolved = programs.get(row.program_id)
            if resolved is None:
                parsed.problems.append(
                    RowProblem(line, "program_id", f"{row.program_id!r} is not a programme of this school")
                )
                continue
            row = row.model_copy(update={"program_id": resolved})
        kept.append((line, row))
    parsed.rows = kept


@dataclass
class GraduateImportSummary:
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    phrases: int = 0
    embedded: int = 0
    seconds: float = 0.0


def _same(graduate: Graduate, row: GraduateCreate) -> bool:
    stored = [(s.get("name"), s.get("level")) for s in graduate.skills or []]
    incoming = [(s.name, s.level) for s in row.skills]
    return (
        stored == incoming
        and list(graduate.certificates or []) == list(row.certificates)
        and graduate.program_id == row.program_id
        and graduate.graduation_year == row.graduation_year
    )


def import_rows(
    sessions: sessionmaker[Session],
    encoder: Encoder,
    org: Organization,
    rows: list[GraduateCreate],
    *,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> GraduateImportSummary:
    """Embed the rows' phrases (cache misses only), then upsert by external_ref, ``batch`` rows per
    transaction, leaving rows equal to the stored profile untouched."""
    progress = progress or NullProgress()
    began = time.perf_counter()
    summary = GraduateImportSummary(rows=len(rows))
    names = [s.name for r in rows for s in r.skills]
    phrases = names + [c for r in rows for c in r.certificates]
    summary.phrases = len(phrase_cache.distinct_norms(phrases))

    def on_missing(count: int) -> None:
        progress.start("embedding phrases", count)

    summary.embedded = phrase_cache.ensure_cached(
        sessions, encoder, phrases, on_missing=on_missing, progress=progress.advance
    )
    second = companion(encoder)
    if second is not None:  # the multilingual channel's vectors, so that the API never embeds them
        phrase_cache.ensure_cached(sessions, second, phrases)
    with sessions() as session:
        canonical_ids(session, list(dict.fromkeys(names)))  # one batch; later rows hit the memo
    progress.start("storing graduates", len(rows))
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        with sessions() as session, session.begin():
            existing = graduates_repo.by_refs(session, org.id, [r.external_ref for r in chunk])
            changed = [
                r for r in chunk if r.external_ref not in existing or not _same(existing[r.external_ref], r)
            ]
            summary.unchanged += len(chunk) - len(changed)
            if changed:
                owner = orgs_repo.get(session, org.id)
                assert owner is not None
                created, updated, _ = graduates_service.bulk_upsert(session, owner, changed)
                summary.created += created
                summary.updated += updated
        progress.advance(len(chunk))
    summary.seconds = time.perf_counter() - began
    return summary
