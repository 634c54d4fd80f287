"""``talentmatch serve``, ``migrate`` and ``org create``."""

from __future__ import annotations

import typer

from service.cli.base import app, console, org_app
from service.settings import Settings


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
    console.print(f"[green]database at head[/green]: {safe_url(url)}")


def safe_url(url: str) -> str:
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
