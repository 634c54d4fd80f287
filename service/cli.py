"""Command line: ``talentmatch serve | migrate | org create | ...``.

Each command imports the service modules it uses when it runs: the taxonomy and import commands pull
in numpy and the encoder runtime (about 4 s of imports), which ``talentmatch --help``, ``migrate`` and
``org create`` do not need (0.4 s). No import here is placed to avoid a cycle: nothing imports this
module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from service.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(help="Talent supply-demand matching service.", no_args_is_help=True, rich_markup_mode=None)
org_app = typer.Typer(help="Member organisations.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(org_app, name="org")
console = Console()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run the HTTP service."""
    import uvicorn

    # proxy_headers=False: forwarded addresses are believed only from TALENTMATCH_TRUSTED_PROXIES
    # (service/ops/proxies.py), never from whoever connects over loopback.
    uvicorn.run(
        "service.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations (creates the SQLite file if needed)."""
    from service.db import make_engine
    from service.migrate import upgrade

    url = Settings().database_url
    make_engine(url).dispose()  # creates the SQLite folder
    upgrade(url)
    console.print(f"[green]database at head[/green]: {_safe_url(url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    from service.db import normalise_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


@org_app.command("create")
def org_create(
    kind: str = typer.Option(..., help="enterprise | school | government | research_institute"),
    name: str = typer.Option(..., help="Organisation name."),
    region: str | None = typer.Option(None),
    industry: str | None = typer.Option(None),
) -> None:
    """Create an organisation and print its API key (shown once)."""
    from pydantic import ValidationError

    from service.db import make_engine, make_sessionmakers
    from service.orgs import service as orgs_service
    from service.orgs.schemas import OrganizationCreate

    try:
        data = OrganizationCreate.model_validate(
            {"kind": kind, "name": name, "region": region, "industry": industry}
        )
    except ValidationError as exc:
        console.print(f"[red]invalid organisation:[/red] {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from exc
    engine = make_engine(Settings().database_url)
    _, write = make_sessionmakers(engine)
    with write() as session, session.begin():
        org, key = orgs_service.create(session, data)
        org_id = org.id
    engine.dispose()
    console.print(f"organisation [bold]{name}[/bold] ({kind}) id={org_id}")
    console.print(f"API key (shown once): [bold]{key}[/bold]")


# -- local runs: database, encoder, taxonomy runtime, progress bars ----------------------------

taxonomy_app = typer.Typer(help="Skills taxonomy (ESCO, O*NET).", no_args_is_help=True, rich_markup_mode=None)
taxonomy_import_app = typer.Typer(
    help="Import a taxonomy export (re-runnable).", no_args_is_help=True, rich_markup_mode=None
)
taxonomy_app.add_typer(taxonomy_import_app, name="import")
app.add_typer(taxonomy_app, name="taxonomy")
import_app = typer.Typer(help="Bulk imports from files.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(import_app, name="import")


class _Local:
    """A local run's database sessions, encoder and taxonomy runtime (closed by ``close``)."""

    def __init__(self, *, with_encoder: bool = True) -> None:
        from service.db import make_engine, make_sessionmakers
        from service.taxonomy.index import TaxonomyRuntime, attach

        self.settings = Settings()
        self.engine = make_engine(self.settings.database_url)
        self.read, self.write = make_sessionmakers(self.engine)
        self.encoder: Any = None
        if with_encoder:
            self.load_encoder()
        self.runtime = TaxonomyRuntime(lambda: self.encoder)
        attach([self.read, self.write], self.runtime)

    def load_encoder(self, *, multilingual: bool = False) -> None:
        """Load the configured encoder (the one place the command line does); ``multilingual``: with
        the multilingual channel attached as its companion (TALENTMATCH_MULTILINGUAL)."""
        from service.embeddings.loader import attach_multilingual, load_encoder

        s = self.settings
        with console.status(f"loading the encoder ({s.encoder_backend}, device {s.encoder_device})"):
            self.encoder = load_encoder(
                s.encoder_backend, s.encoder_path, s.encoder_device, s.encoder_runtime
            )
            if multilingual:
                attach_multilingual(self.encoder, s.multilingual, s.encoder_backend)

    def close(self) -> None:
        self.engine.dispose()


class _Bars:
    """Adapts rich progress bars to the services' ``Progress`` protocol (one bar per phase)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, phase: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[self.task].total)
        self.task = self.progress.add_task(phase, total=max(total, 0))

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


def _progress() -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _print_summary(title: str, rows: tuple[tuple[str, str], ...]) -> None:
    """A command's closing summary: one "what: how many" line a row."""
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def _fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _encoder_guard(func: Any) -> Any:
    """Print an unavailable encoder as advice, not a traceback (exit code 3)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from service.embeddings.encoder import EncoderUnavailable

        try:
            return func(*args, **kwargs)
        except EncoderUnavailable as exc:
            _fail(exc.detail, 3)

    return wrapper


def _run_taxonomy_import(source: str, folder: Path, version: str | None) -> None:

    from service.taxonomy.importers import TaxonomyFileError, parse_esco, parse_onet
    from service.taxonomy.importing import import_taxonomy

    parse = parse_esco if source == "esco" else parse_onet
    with console.status(f"reading {folder}"):
        try:
            parsed = parse(folder, version=version)
        except TaxonomyFileError as exc:
            console.print(
                f"[red]error:[/red] {folder} is not a valid {source.upper()} export; nothing was imported"
            )
            for problem in exc.problems:
                console.print(f"  {problem}", highlight=False, markup=False)
            if exc.total > len(exc.problems):
                console.print(f"  ... and {exc.total - len(exc.problems)} more problem(s)")
            raise typer.Exit(1) from exc
    console.print(
        f"{source.upper()} {parsed.version}: {len(parsed.records):,} skills, {parsed.label_count:,} labels "
        f"read from {', '.join(str(f) for f in parsed.files)}",
        highlight=False,
    )
    local = _Local()
    try:
        with _progress() as bars:
            summary = import_taxonomy(local.write, local.encoder, parsed, progress=_Bars(bars))
    finally:
        local.close()
    _print_summary(
        f"taxonomy import: {source} {summary.version}",
        (
            ("skills in the export", f"{summary.skills:,}"),
            ("labels", f"{summary.labels:,}"),
            ("created", f"{summary.created:,}"),
            ("updated (content changed)", f"{summary.updated:,}"),
            ("unchanged", f"{summary.unchanged:,}"),
            ("removed (no longer in the export)", f"{summary.removed:,}"),
            ("labels embedded now", f"{summary.embedded:,} ({local.encoder.name}, cache misses only)"),
            ("version recorded", "yes" if summary.version_recorded else "no (already at this version)"),
            ("time", f"{summary.seconds:.1f} s (embedding {summary.timings.get('embed', 0):.1f} s)"),
        ),
    )
    if source == "esco" and folder.is_dir():
        from service.occupations.importers import has_esco_occupations, parse_esco_occupations

        if has_esco_occupations(folder):
            _run_occupation_import(lambda: parse_esco_occupations(folder, version=parsed.version), folder)


def _occupation_encoder(settings: Settings, fallback: Any) -> Any:
    """The encoder job titles are matched with: the multilingual one (the fake one in tests)."""
    if settings.encoder_backend == "fake":
        return fallback
    from service.embeddings.multilingual import load_multilingual

    return load_multilingual()


def _run_occupation_import(parse: Any, where: Path) -> None:

    from service.occupations import service as occupation_service
    from service.taxonomy.importers import TaxonomyFileError

    with console.status(f"reading {where}"):
        try:
            parsed = parse()
        except TaxonomyFileError as exc:
            console.print(
                f"[red]error:[/red] {where} is not a valid classification file; nothing was imported"
            )
            for problem in exc.problems:
                console.print(f"  {problem}", highlight=False, markup=False)
            if exc.total > len(exc.problems):
                console.print(f"  ... and {exc.total - len(exc.problems)} more problem(s)")
            raise typer.Exit(1) from exc
    name = parsed.taxonomy.upper()
    console.print(
        f"{name} occupations {parsed.version}: {len(parsed.records):,} occupations, {parsed.label_count:,} "
        f"names, {parsed.relation_count:,} skill relations read from "
        + ", ".join(str(f) for f in parsed.files),
        highlight=False,
    )
    local = _Local()
    encoder = _occupation_encoder(local.settings, local.encoder)
    encoders = [encoder] if encoder is local.encoder else [encoder, local.encoder]
    try:
        with _progress() as bars:
            summary = occupation_service.import_occupations(
                local.write, encoders, parsed, progress=_Bars(bars)
            )
    finally:
        local.close()
    _print_summary(
        f"occupations import: {parsed.taxonomy} {summary.version}",
        (
            ("occupations in the file", f"{summary.occupations:,}"),
            ("names", f"{summary.labels:,}"),
            ("skill relations", f"{summary.relations:,}"),
            ("created", f"{summary.created:,}"),
            ("updated (content changed)", f"{summary.updated:,}"),
            ("unchanged", f"{summary.unchanged:,}"),
            ("removed (no longer in the file)", f"{summary.removed:,}"),
            (
                "names embedded now",
                f"{summary.embedded:,} ({', '.join(e.name for e in encoders)}, cache misses only)",
            ),
            ("version recorded", "yes" if summary.version_recorded else "no (already at this version)"),
            ("time", f"{summary.seconds:.1f} s (embedding {summary.timings.get('embed', 0):.1f} s)"),
        ),
    )


@taxonomy_import_app.command("csco")
@_encoder_guard
def taxonomy_import_csco(
    file: Path = typer.Argument(
        ..., help="The CSCO classification CSV (level,code,name,definition,tasks,alias)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="Version to record (default: the year in the file name, e.g. csco22 -> 2022)."
    ),
) -> None:
    """Import China's occupational classification (CSCO 2022): occupations, aliases, definitions, tasks."""
    from service.occupations.importers import parse_csco

    _run_occupation_import(lambda: parse_csco(file, version=version), file)


@taxonomy_import_app.command("esco")
@_encoder_guard
def taxonomy_import_esco(
    folder: Path = typer.Argument(..., help="The ESCO CSV export folder (with skills_en.csv), or the file."),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Version to record (default: vX.Y.Z from the folder name, else a content hash).",
    ),
) -> None:
    """Import the official ESCO skills CSV export (preferred, alternative and hidden labels), and its
    occupations (occupations_en.csv, occupationSkillRelations.csv) when the folder has them."""
    _run_taxonomy_import("esco", folder, version)


@taxonomy_import_app.command("onet")
@_encoder_guard
def taxonomy_import_onet(
    folder: Path = typer.Argument(
        ..., help="An O*NET database folder (text format, 'Technology Skills.txt')."
    ),
    version: str | None = typer.Option(
        None, "--version", help="Version to record (default: from 'Read Me.txt')."
    ),
) -> None:
    """Import O*NET technology skills (Example as skill, Commodity Title as its broader group)."""
    _run_taxonomy_import("onet", folder, version)


@taxonomy_app.command("versions")
def taxonomy_versions() -> None:
    """List taxonomy imports and the version in force."""
    from rich.table import Table

    from service.taxonomy import service as taxonomy_service

    local = _Local(with_encoder=False)
    try:
        with local.read() as session:
            current = taxonomy_service.current_version(session)
            rows = taxonomy_service.versions(session)
            table = Table("source", "version", "skills", "labels", "imported at")
            for v in rows:
                table.add_row(
                    v.source, v.version, f"{v.skills:,}", f"{v.labels:,}", v.imported_at.isoformat()
                )
    finally:
        local.close()
    console.print(table)
    console.print(f"in force: [bold]{current or 'none (no taxonomy imported)'}[/bold]")


def _school(session: Any, ref: str) -> Any:
    from service.orgs import repository as orgs_repo

    org = orgs_repo.get(session, ref)
    if org is None:
        found = orgs_repo.by_name(session, ref)
        if len(found) > 1:
            _fail(f"{len(found)} organisations are called {ref!r}; pass the id instead")
        org = found[0] if found else None
    if org is None:
        _fail(f"no organisation {ref!r} (give its id or exact name; see `talentmatch org create`)")
    if org.kind != "school":
        article = "an" if org.kind[:1] in "aeiou" else "a"
        _fail(f"{org.name} is {article} {org.kind}; graduates are imported for a school")
    return org


@import_app.command("graduates")
@_encoder_guard
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
        _fail(f"{exc}; nothing was imported")
    local = _Local(with_encoder=False)
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
                _fail(
                    f"{len(parsed.bad_lines)} of {parsed.records} row(s) are not valid; nothing was imported "
                    "(fix them, or pass --skip-invalid to import the valid rows)"
                )
            console.print(f"[yellow]skipping {len(parsed.bad_lines)} bad row(s)[/yellow]")
        rows = [row for line, row in parsed.rows if line not in parsed.bad_lines]
        local.load_encoder(multilingual=True)
        with _progress() as bars:
            summary = import_rows(local.write, local.encoder, org, rows, progress=_Bars(bars))
    finally:
        local.close()
    summary.skipped = len(parsed.bad_lines)
    _print_summary(
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
@_encoder_guard
def reembed() -> None:
    """Embed every stored phrase (taxonomy labels, skills, outcomes) for the configured encoder."""
    from service.taxonomy.reembed import reembed as reembed_phrases

    local = _Local()
    try:
        with _progress() as bars:
            summary = reembed_phrases(local.write, local.encoder, progress=_Bars(bars))
    finally:
        local.close()
    console.print(
        f"{summary.phrases:,} phrases; {summary.embedded:,} embedded now for {summary.model} "
        f"({summary.phrases - summary.embedded:,} were cached) in {summary.seconds:.1f} s; "
        "running API processes reload the taxonomy on their next request",
        highlight=False,
    )


@app.command()
@_encoder_guard
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
        _fail(str(exc))
    render(console, result)


def main() -> None:  # pragma: no cover
    app()
