"""``talentmatch taxonomy import esco | onet | csco`` and ``taxonomy versions``: skills and occupations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from service.cli.base import (
    Bars,
    Local,
    console,
    encoder_guard,
    print_summary,
    progress,
    report_file_error,
    taxonomy_app,
    taxonomy_import_app,
)
from service.settings import Settings


def _run_taxonomy_import(source: str, folder: Path, version: str | None) -> None:
    from service.taxonomy.files import TaxonomyFileError
    from service.taxonomy.importers import parse_esco, parse_onet
    from service.taxonomy.importing import import_taxonomy

    parse = parse_esco if source == "esco" else parse_onet
    with console.status(f"reading {folder}"):
        try:
            parsed = parse(folder, version=version)
        except TaxonomyFileError as exc:
            report_file_error(exc, f"{folder} is not a valid {source.upper()} export")
    console.print(
        f"{source.upper()} {parsed.version}: {len(parsed.records):,} skills, {parsed.label_count:,} labels "
        f"read from {', '.join(str(f) for f in parsed.files)}",
        highlight=False,
    )
    local = Local()
    try:
        with progress() as bars:
            summary = import_taxonomy(local.write, local.encoder, parsed, progress=Bars(bars))
    finally:
        local.close()
    print_summary(
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
    from service.occupations import importing as occupation_importing
    from service.taxonomy.files import TaxonomyFileError

    with console.status(f"reading {where}"):
        try:
            parsed = parse()
        except TaxonomyFileError as exc:
            report_file_error(exc, f"{where} is not a valid classification file")
    name = parsed.taxonomy.upper()
    console.print(
        f"{name} occupations {parsed.version}: {len(parsed.records):,} occupations, {parsed.label_count:,} "
        f"names, {parsed.relation_count:,} skill relations read from "
        + ", ".join(str(f) for f in parsed.files),
        highlight=False,
    )
    local = Local()
    encoder = _occupation_encoder(local.settings, local.encoder)
    encoders = [encoder] if encoder is local.encoder else [encoder, local.encoder]
    try:
        with progress() as bars:
            summary = occupation_importing.import_occupations(
                local.write, encoders, parsed, progress=Bars(bars)
            )
    finally:
        local.close()
    print_summary(
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
@encoder_guard
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
@encoder_guard
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
@encoder_guard
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

    local = Local(with_encoder=False)
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
