"""Personal data never reaches the logs: a marker seeded in a graduate's external_ref and skills is
searched for in everything logged while the graduate is created, read, changed, exported, matched,
refused, crashed on and erased (at DEBUG level, JSON and text formats)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.graduates import repository as graduates_repo
from service.ops.logs import RedactionFilter, redact
from service.settings import Settings
from tests.builders import graduate_body, make_demand, make_org


def _exercise(client: TestClient, marker: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    school, other = make_org(client, "school", "A"), make_org(client, "school", "B")
    enterprise = make_org(client, "enterprise")
    ref = f"REF-{marker}"
    body = graduate_body(ref, skills=[{"name": f"{marker} welding", "level": 3}], certificates=[marker])
    seen: list[int] = []

    def call(method: str, url: str, **kw: Any) -> Any:
        r = client.request(method, url, **kw)
        seen.append(r.status_code)
        return r

    created = call("POST", "/v1/graduates", json=body, headers=school.headers)
    gid = created.json()["id"]
    call("POST", "/v1/graduates", json=body, headers=school.headers)  # duplicate: 422
    call("POST", "/v1/graduates", json={**body, "name": marker}, headers=school.headers)  # unknown field
    call("POST", "/v1/graduates", json={**body, "graduation_year": marker}, headers=school.headers)
    call("POST", "/v1/graduates", content=f'{{"external_ref": "{marker}"', headers=school.headers)  # bad JSON
    call(
        "POST",
        "/v1/graduates/bulk",
        json={"graduates": [body, {**body, "program_id": marker}]},
        headers={**school.headers, "Idempotency-Key": f"k-{marker}"},
    )
    call(
        "POST",
        "/v1/graduates/bulk",
        json={"graduates": [body]},
        headers={**school.headers, "Idempotency-Key": "k1"},
    )
    call("GET", f"/v1/graduates/{gid}", headers=school.headers)
    call("GET", f"/v1/graduates/{gid}", headers=other.headers)  # 404
    call("GET", f"/v1/graduates?program_id={marker}", headers=school.headers)
    call("GET", f"/v1/graduates?{marker}=1", headers=school.headers)  # unknown query parameter
    call(
        "PATCH",
        f"/v1/graduates/{gid}",
        json={"skills": [{"name": f"{marker} brazing"}]},
        headers=school.headers,
    )
    call("GET", f"/v1/graduates/{gid}/export", headers=school.headers)
    call("GET", "/v1/graduates", headers={"Authorization": f"Bearer {marker}"})  # bad key: 401
    demand = make_demand(client, enterprise, skills=[{"name": f"{marker} welding"}])
    call("GET", f"/v1/demands/{demand['id']}", headers=enterprise.headers)
    call("POST", f"/v1/demands/{demand['id']}/matches", json={"top_k": 5}, headers=enterprise.headers)
    call(
        "POST",
        "/v1/match",
        json={
            "demand": {"skills": [{"name": marker}]},
            "candidates": [{"id": ref, "skills": [{"name": marker}]}],
        },
        headers=enterprise.headers,
    )
    # A crash inside a write with the personal data bound to the SQL statement: the duplicate check is
    # bypassed, so the database's unique constraint fails with the row's values.
    monkeypatch.setattr(graduates_repo, "by_refs", lambda *a, **k: {})
    crashed = call("POST", "/v1/graduates", json=body, headers=school.headers)
    assert crashed.status_code == 500
    monkeypatch.undo()
    call("DELETE", f"/v1/graduates/{gid}", headers=school.headers)
    return seen


@pytest.mark.parametrize("json_logs", [True, False])
def test_marker_never_appears_in_logs(
    settings: Settings,
    json_logs: bool,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = uuid.uuid4().hex
    caplog.set_level(logging.DEBUG)
    app = create_app(settings.model_copy(update={"json_logs": json_logs, "log_level": "DEBUG"}))
    with TestClient(app) as client:
        statuses = _exercise(client, marker, monkeypatch)
    assert {200, 201, 204, 401, 404, 422, 500} <= set(statuses)
    logged = capsys.readouterr().err
    assert "service.access" in logged and "unhandled error" in logged  # the logs were captured
    assert "IntegrityError" in logged  # the crash was logged, with its traceback...
    assert marker not in logged  # ...but no personal data
    assert marker not in caplog.text


def test_redaction_of_sql_parameters_and_sensitive_keys() -> None:
    text = (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: graduate.external_ref\n"
        "[SQL: INSERT INTO graduate (id, external_ref) VALUES (?, ?)]\n"
        "[parameters: ('1', 'S-SECRET')]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)"
    )
    assert "S-SECRET" not in redact(text)
    assert "[parameters: redacted]" in redact(text)
    assert "UNIQUE constraint failed" in redact(text)
    assert "S-SECRET" not in redact("{'external_ref': 'S-SECRET', 'year': 2026}")
    assert "2026" in redact("{'external_ref': 'S-SECRET', 'year': 2026}")
    assert "S-SECRET" not in redact('skills=["S-SECRET welding"] then')
    assert "tm_abc" not in redact("Authorization: Bearer tm_abc.def")
    pg = (
        "psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "
        '"uq_graduate_organization_id_external_ref"\n'
        "DETAIL:  Key (organization_id, external_ref)=(o1, S-SECRET) already exists.\n"
        "[SQL: INSERT INTO graduate ...]"
    )
    assert "S-SECRET" not in redact(pg)
    assert "UniqueViolation" in redact(pg) and "[SQL: INSERT INTO graduate" in redact(pg)


def test_filter_scrubs_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("external_ref='S-SECRET'")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "bad row %s", ({"external_ref": "S-SECRET"},), sys.exc_info()
        )
    assert RedactionFilter().filter(record)
    assert "S-SECRET" not in record.getMessage()
    assert record.exc_text is not None and "S-SECRET" not in record.exc_text
    assert "ValueError" in record.exc_text
