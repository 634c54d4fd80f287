"""Apply Alembic migrations programmatically (CLI ``talentmatch migrate``, tests, container start)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from service.db import normalise_url
from service.paths import runtime_file


def alembic_config(url: str) -> Config:
    cfg = Config(str(runtime_file("alembic.ini")))
    cfg.set_main_option("script_location", str(runtime_file("migrations")))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the ORM and the migrations differ."""
    command.check(alembic_config(url))
