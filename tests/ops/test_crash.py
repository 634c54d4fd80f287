"""Crash safety, short version of ``python -m bench.crash`` (the full run is ≥ 20 rounds per database).

The server is killed with SIGKILL at random moments during bulk imports, demand writes and order
transitions, restarted, and checked: acknowledged writes stored, no batch half-stored, SQLite
integrity, re-sending the interrupted requests duplicates nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import crash
from bench.server import create_pg_database, drop_pg_database
from tests.conftest import PG_URL

ROUNDS = 3


@pytest.mark.slow
def test_killing_the_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    if PG_URL:
        from sqlalchemy.engine import make_url

        admin = make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)
        name, url = create_pg_database(admin)
    else:
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    lines: list[str] = []
    try:
        summary = crash.run(url, ROUNDS, workdir=tmp_path, seed=7, max_delay=1.5, log=lines.append)
    finally:
        if PG_URL:
            drop_pg_database(admin, name)
    assert summary["errors"] == [], "\n".join(lines)
    assert summary["rounds"] == ROUNDS
    assert summary["failed_rounds"] == 0
    # The rounds did interrupt work, and most of it had been acknowledged before.
    assert summary["acked"] > 0
    assert summary["unanswered"] > 0
    assert summary["graduates"] >= crash.BATCH
