"""What every command shares: the Typer apps, the console, a local run's database and encoder, progress
bars, summaries and failures.

Commands import the service modules they use when they run: the taxonomy and import commands pull in
numpy and the encoder runtime (about 4 s of imports), which ``talentmatch --help``, ``migrate`` and
``org create`` do not need (0.4 s).
"""

from __future__ import annotations

import os
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

taxonomy_app = typer.Typer(help="Skills taxonomy (ESCO, O*NET).", no_args_is_help=True, rich_markup_mode=None)
taxonomy_import_app = typer.Typer(
    help="Import a taxonomy export (re-runnable).", no_args_is_help=True, rich_markup_mode=None
)
taxonomy_app.add_typer(taxonomy_import_app, name="import")
app.add_typer(taxonomy_app, name="taxonomy")
import_app = typer.Typer(help="Bulk imports from files.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(import_app, name="import")


class Local:
    """A local run's database sessions, encoder and taxonomy runtime (closed by ``close``)."""

    def __init__(self, *, with_encoder: bool = True) -> None:
        from service.db import make_engine, make_sessionmakers
        from service.taxonomy.runtime import TaxonomyRuntime, attach

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


class Bars:
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


def progress() -> Any:
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


def print_summary(title: str, rows: tuple[tuple[str, str], ...]) -> None:
    """A command's closing summary: one "what: how many" line a row."""
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def encoder_guard(func: Any) -> Any:
    """Print an unavailable encoder as advice, not a traceback (exit code 3)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from service.embeddings.encoder import EncoderUnavailable

        try:
            return func(*args, **kwargs)
        except EncoderUnavailable as exc:
            fail(exc.detail, 3)

    return wrapper


def report_file_error(exc: Any, what: str) -> NoReturn:
    """A file that failed validation: what it is not, then its problems (the first ones), exit 1."""
    console.print(f"[red]error:[/red] {what}; nothing was imported")
    for problem in exc.problems:
        console.print(f"  {problem}", highlight=False, markup=False)
    if exc.total > len(exc.problems):
        console.print(f"  ... and {exc.total - len(exc.problems)} more problem(s)")
    raise typer.Exit(1) from exc
