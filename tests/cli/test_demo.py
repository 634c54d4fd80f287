"""``talentmatch demo``: a consortium in the local database, keys printed, usable through the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from rich.cells import cell_len
from sqlalchemy import select
from typer.testing import CliRunner

from service.cli import app as cli_app
from service.db import make_engine
from service.demo.builder import ORGS
from service.orm import Demand, Graduate, Organization, Program, TrainingOrder
from tests.cli.conftest import Invoke

ORDER_STATES = ["accepted", "cancelled", "delivered", "in_training", "proposed", "rejected"]


def test_demo_builds_a_consortium_and_prints_its_keys(
    invoke: Invoke, database_url: str, client: TestClient
) -> None:
    result = invoke("demo", "--graduates-per-programme", "10")
    assert result.exit_code == 0, result.output
    out = result.output
    for org in ORGS:
        assert org.name in out
    keys = re.findall(r"│ (tm_[A-Za-z0-9_-]{20,}) +│", out)
    assert len(keys) == 6
    assert "Skills inferred from the software company's job ad" in out
    assert "Best graduates for “CNC machining technician”" in out  # a ranked match, with evidence
    assert "Evidence for #1" in out
    assert "Gap report: programme “CNC Technology”" in out
    assert "Across languages: programme “CNC Technology” against “数控车床操作工”" in out
    assert "O*NET 29.2 Database" in out  # attribution

    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(Organization.kind).order_by(Organization.kind)).scalars().all() == [
            "enterprise",
            "enterprise",
            "enterprise",
            "government",
            "school",
            "school",
        ]
        programs = {p.code: p for p in conn.execute(select(Program)).all()}
        assert len(programs) == 5
        assert len(conn.execute(select(Graduate.id)).all()) == 45  # 10 per programme, 5 in Chinese
        zh_graduates = conn.execute(select(Graduate).where(Graduate.external_ref.contains("-ZH"))).all()
        demands = {d.title: d for d in conn.execute(select(Demand)).all()}
        states = sorted(conn.execute(select(TrainingOrder.status)).scalars().all())
    engine.dispose()
    inferred = demands["Junior software developer"].skills
    names = {s["name"] for s in inferred}
    assert {"Python", "Git", "JavaScript", "MySQL", "Docker"} <= names
    assert all(s["inferred"] and s["skill_id"] for s in inferred)
    assert not any(s["inferred"] for s in demands["CNC machining technician"].skills)

    # Bilingual: a demand and a programme in Chinese, graduates with Chinese skills in that programme
    assert "数控车床操作" in {s["name"] for s in demands["数控车床操作工"].skills}
    assert programs["CNC-ZH"].name == "数控技术（订单班）"
    assert len(zh_graduates) == 5
    assert all(g.program_id == programs["CNC-ZH"].id for g in zh_graduates)
    assert "数控车床操作工" in out
    # Training orders in every state, so every chart of the dashboard shows something
    assert states == ORDER_STATES
    assert "Training orders" in out
    for state in ORDER_STATES:
        assert f"│ {state}" in out

    # A printed key works against the API, and sees the demo's open demands.
    r = client.get("/v1/demands", headers={"Authorization": f"Bearer {keys[1]}"})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 4

    # Running it again replaces the demo organisations (old keys stop working); in an 80-column
    # terminal every line of its tables fits.
    again = CliRunner().invoke(
        cli_app,
        ["demo", "--graduates-per-programme", "5"],
        env={
            "TALENTMATCH_DATABASE_URL": database_url,
            "TALENTMATCH_ENCODER_BACKEND": "fake",
            "COLUMNS": "80",
            "TALENTMATCH_JSON_LOGS": "false",
        },
    )
    assert again.exit_code == 0, again.output
    assert max(cell_len(line) for line in again.output.splitlines()) <= 80
    assert "Training orders" in again.output
    assert "replaced 6 earlier demo organisations" in again.output
    assert client.get("/v1/demands", headers={"Authorization": f"Bearer {keys[1]}"}).status_code == 401
