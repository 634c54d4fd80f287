"""``talentmatch import graduates``, ``reembed`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from service.cli.base import (
    Bars,
    Local,
    app,
    console,
    encoder_guard,
    fail,
    import_app,
    print_summary,
    progress,
)
from service.settings import Settings


def _school(session: Any, ref: str) -> Any:
    from service.orgs import repository as orgs_repo

    org = orgs_repo.get(session, ref)
    if org is None:
        found = orgs_repo.by_name(session, ref)
        if len(found) > 1:
            fail(f"{len(found)} organisations are called {ref!r}; pass the id instead")
        org = found[0] if found else None
    if org is None:
        fail(f"no organisation {ref!r} (give its id or exact name; see `talentmatch org create`)")
    if org.kind != "school":
        article = "an" if org.kind[:1] in "aeiou" else "a"
        fail(f"{org.name} is {article} {org.kind}; graduates are imported for a school")
    return org


@import_app.command("graduates")
@encoder_guard
def import_graduates(
    file: Path = typer.Argument(..., help="CSV (documented header) or JSON lines (.jsonl) export."),
    school: str = typer.Option(..., "--school", help="The school: organisation id or exact name."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows and skip the bad ones (default: import nothing)."
    ),
    fmt: str = typer.Option("auto", "--format", help="auto (by file extension) | csv | jsonl"),
    encoding: str = typer.Option("utf-8", "--encoding", help="File encoding, e.g. gb18030 for a GBK export."),
) -> None:
    """Import graduate profiles: validate every row, then upsert by external_ref (re-runnable).

    CSV header: external_ref,program_id,graduation_year,skills,certificates (only external_ref is
    required); skills as "name:level; name"; certificates ";"-separated; program_id is the programme's
    id or code.
    """
    from rich.table import Table

    from service.curricula import service as curricula_service
    from service.imports.graduates import (
        GraduateFileError,
        import_rows,
        read_graduates,
        resolve_programs,
    )

    try:
        parsed = read_graduates(file, fmt=fmt, encoding=encoding)
    except GraduateFileError as exc:
        fail(f"{exc}; nothing was imported")
    local = Local(with_encoder=False)
    try:
        with local.read() as session:
            org = _school(session, school)
            programs = curricula_service.program_refs(session, org.id)
            session.expunge(org)
        resolve_programs(parsed, programs)
        if parsed.problems:
            bad = sorted(parsed.problems, key=lambda p: p.line)
            table = Table("line", "column", "problem", title=f"{len(parsed.bad_lines)} bad row(s) in {file}")
            for problem in bad[:50]:
                table.add_row(str(problem.line), problem.column or "", problem.message)
            console.print(table)
            if len(bad) > 50:
                console.print(f"... and {len(bad) - 50} more problem(s)")
            if not skip_invalid:
                fail(
                    f"{len(parsed.bad_lines)} of {parsed.records} row(s) are not valid; nothing was imported "
                    "(fix them, or pass --skip-invalid to import the valid rows)"
                )
            console.print(f"[yellow]skipping {len(parsed.bad_lines)} bad row(s)[/yellow]")
        rows = [row for line, row in parsed.rows if line not in parsed.bad_lines]
        local.load_encoder(multilingual=True)
        with progress() as bars:
            summary = import_rows(local.write, local.encoder, org, rows, progress=Bars(bars))
    finally:
        local.close()
    summary.skipped = len(parsed.bad_lines)
    print_summary(
        f"graduates imported for {org.name}",
        (
            ("rows in the file", f"{parsed.records:,}"),
            ("skipped (invalid)", f"{summary.skipped:,}"),
            ("created", f"{summary.created:,}"),
            ("updated", f"{summary.updated:,}"),
            ("unchanged", f"{summary.unchanged:,}"),
            ("distinct phrases", f"{summary.phrases:,}"),
            ("phrases embedded now", f"{summary.embedded:,} (cache misses only)"),
            ("time", f"{summary.seconds:.1f} s"),
        ),
    )


@app.command()
@encoder_guard
def reembed() -> None:
    """Embed every stored phrase (taxonomy labels, skills, outcomes) for the configured encoder."""
    from service.taxonomy.reembed import reembed as reembed_phrases

    local = Local()
    try:
        with progress() as bars:
            summary = reembed_phrases(local.write, local.encoder, progress=Bars(bars))
    finally:
        local.close()
    console.print(
        f"{summary.phrases:,} phrases; {summary.embedded:,} embedded now for {summary.model} "
        f"({summary.phrases - summary.embedded:,} were cached) in {summary.seconds:.1f} s; "
        "running API processes reload the taxonomy on their next request",
        highlight=False,
    )


@app.command()
@encoder_guard
def demo(
    graduates_per_programme: int = typer.Option(
        75, min=1, max=250, help="Graduates per English programme (4); half as many in the Chinese one."
    ),
) -> None:
    """Build a bilingual demo consortium (O*NET data, Chinese and English) with keys, a match, a gap
    report and training orders in every state."""
    from service.demo.builder import DemoError, build
    from service.demo.render import render
    from service.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    try:
        with console.status("building the demo consortium") as status:
            result = build(
                settings, per_program=graduates_per_programme, progress=lambda m: status.update(m + " ...")
            )
    except DemoError as exc:
        fail(str(exc))
    render(console, result)
