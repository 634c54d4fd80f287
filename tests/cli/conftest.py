"""CLI tests run ``talentmatch`` in process against the test database, with the fake encoder."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from service.cli import app as cli_app
from service.db import make_engine

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(database_url: str) -> Invoke:
    runner = CliRunner()
    env = {
        "TALENTMATCH_DATABASE_URL": database_url,
        "TALENTMATCH_ENCODER_BACKEND": "fake",
        "COLUMNS": "200",
        "TALENTMATCH_JSON_LOGS": "false",
    }

    def run(*args: str) -> Result:
        return runner.invoke(cli_app, list(args), env=env)

    return run


@pytest.fixture
def count(database_url: str) -> Callable[[type], int]:
    def rows(model: type) -> int:
        engine = make_engine(database_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(model)).scalar_one())
        finally:
            engine.dispose()

    return rows
