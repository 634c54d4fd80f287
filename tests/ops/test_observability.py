"""Observability: liveness, readiness, Prometheus metrics, request ids, JSON logs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.db import make_engine
from service.ops import metrics
from service.settings import Settings
from tests.builders import make_graduate, make_org


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_healthz_needs_nothing(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_ok_when_database_and_encoder_are(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "encoder": "ok"}


def test_readyz_503_when_encoder_not_loaded(client: TestClient, app: FastAPI) -> None:
    app.state.encoder = None
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["checks"]["encoder"] == "not loaded"


def test_readyz_503_when_database_unreachable(client: TestClient, app: FastAPI) -> None:
    healthy, healthy_check = app.state.engine, app.state.health_engine
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    app.state.engine = make_engine(unreachable, connect_args={"connect_timeout": 2})
    app.state.health_engine = make_engine(unreachable, connect_args={"connect_timeout": 2})
    try:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["checks"]["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        scrape = _samples(client.get("/metrics").text)
        assert scrape[("talentmatch_database_up", ())] == 0
    finally:
        app.state.engine.dispose()
        app.state.health_engine.dispose()
        app.state.engine, app.state.health_engine = healthy, healthy_check
    assert client.get("/readyz").status_code == 200


def test_metrics_by_route_template_and_status(client: TestClient) -> None:
    school = make_org(client, "school")
    graduate = make_graduate(client, school)
    make_graduate(client, school, "S-0002")
    key = ("talentmatch_http_requests_total", "GET", "/v1/graduates/{graduate_id}", "404")
    before = _samples(client.get("/metrics").text)

    def count(scrape: dict, name: str, method: str, route: str, status: str) -> float:
        labels = (("method", method), ("route", route), ("status", status))
        return float(scrape.get((name, labels), 0.0))

    for _ in range(3):
        assert client.get("/v1/graduates/00000000-no-such", headers=school.headers).status_code == 404
    assert client.get(f"/v1/graduates/{graduate['id']}", headers=school.headers).status_code == 200
    client.get("/no/such/path")

    text = client.get("/metrics").text
    after = _samples(text)
    assert count(after, *key) - count(before, *key) == 3
    assert count(after, "talentmatch_http_requests_total", "GET", "/v1/graduates/{graduate_id}", "200") >= 1
    assert count(after, "talentmatch_http_requests_total", "GET", "<unmatched>", "404") >= 1
    assert count(after, "talentmatch_http_request_duration_seconds_count", *key[1:]) >= 3
    assert graduate["id"] not in text and "00000000-no-such" not in text  # templates, never raw paths
    assert after[("talentmatch_table_rows", (("table", "graduate"),))] == 2
    assert after[("talentmatch_table_rows", (("table", "organization"),))] == 1
    assert after[("talentmatch_database_up", ())] == 1
    for name in (
        "talentmatch_match_duration_seconds",
        "talentmatch_gap_duration_seconds",
        "talentmatch_encoder_calls",
        "talentmatch_phrase_cache_hits",
        "talentmatch_phrase_cache_misses",
        "talentmatch_rate_limited",
    ):
        assert f"# TYPE {name}" in text


def test_helpers_for_matching_code_show_up_in_metrics(client: TestClient) -> None:
    before = _samples(client.get("/metrics").text)
    metrics.observe_match(0.03)
    metrics.observe_gap(0.2)
    metrics.encoder_calls.inc()
    metrics.phrase_cache_hits.inc(7)
    metrics.phrase_cache_misses.inc(2)
    after = _samples(client.get("/metrics").text)

    def delta(name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert delta("talentmatch_match_duration_seconds_count") == 1
    assert delta("talentmatch_match_duration_seconds_bucket", (("le", "0.05"),)) == 1
    assert delta("talentmatch_match_duration_seconds_bucket", (("le", "0.025"),)) == 0
    assert delta("talentmatch_gap_duration_seconds_count") == 1
    assert delta("talentmatch_encoder_calls_total") == 1
    assert delta("talentmatch_phrase_cache_hits_total") == 7
    assert delta("talentmatch_phrase_cache_misses_total") == 2


def test_metrics_of_several_processes_are_summed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, a scrape reports what every process recorded there."""
    from prometheus_client import CollectorRegistry, Counter, values

    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(folder))
    monkeypatch.setattr(values, "ValueClass", values.get_value_class())
    other_process = Counter("talentmatch_encoder_calls", "x", registry=CollectorRegistry())
    other_process.inc(5)
    text = metrics.render(None).decode()
    assert "talentmatch_encoder_calls_total 5.0" in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123.trace"})
    assert r.headers["X-Request-ID"] == "abc-123.trace"
    made = client.get("/v1/graduates")  # a 401 carries one too
    assert made.status_code == 401
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    other = client.get("/v1/graduates")
    assert other.headers["X-Request-ID"] != made.headers["X-Request-ID"]
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\nINFO forged line"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])


def _boom_app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("kaput")

    app.add_api_route("/test-only/boom", boom, methods=["GET"])
    return app


def test_json_logs_carry_the_request_id(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    app = _boom_app(settings.model_copy(update={"json_logs": True}))
    with TestClient(app) as client:
        capsys.readouterr()
        ok = client.get("/healthz", headers={"X-Request-ID": "req-ok-1"})
        boom = client.get("/test-only/boom", headers={"X-Request-ID": "req-boom-1"})
    assert ok.status_code == 200
    assert boom.status_code == 500
    assert boom.headers["content-type"] == "application/problem+json"
    assert boom.headers["X-Request-ID"] == "req-boom-1"
    assert "kaput" not in boom.text
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "service.access"]
    assert {"request_id": "req-ok-1", "route": "/healthz", "status": 200}.items() <= access[0].items()
    assert access[0]["duration_ms"] >= 0
    errors = [e for e in lines if e["logger"] == "service.errors"]
    assert errors and errors[0]["request_id"] == "req-boom-1"
    assert "RuntimeError: kaput" in errors[0]["exc"]
    assert any(e.get("request_id") == "req-boom-1" and e.get("status") == 500 for e in access)


def test_method_not_allowed_names_every_method_of_the_path(client: TestClient) -> None:
    r = client.put("/v1/organizations")
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["Allow"] == "GET, POST"
    r = client.put("/v1/graduates/bulk")
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"


def test_encoder_batches_are_counted_whoever_calls_the_encoder(client: TestClient, app: FastAPI) -> None:
    def calls() -> tuple[float, float]:
        scrape = _samples(client.get("/metrics").text)
        return (
            scrape[("talentmatch_encoder_calls_total", ())],
            scrape[("talentmatch_encoder_phrases_total", ())],
        )

    before = calls()
    app.state.encoder.encode(["CNC machining", "welding", "PLC programming"])
    after = calls()
    assert (after[0] - before[0], after[1] - before[1]) == (1, 3)


def test_gap_analysis_and_matching_latency_are_recorded(client: TestClient) -> None:
    enterprise = make_org(client, "enterprise")
    before = _samples(client.get("/metrics").text)
    r = client.post(
        "/v1/gap-analysis",
        json={
            "curriculum": {"courses": [{"title": "CNC machining practice"}]},
            "demand": {"skills": [{"name": "CNC machining"}, {"name": "welding"}]},
        },
        headers=enterprise.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/v1/match",
        json={
            "demand": {"skills": [{"name": "CNC"}]},
            "candidates": [{"id": "c1", "skills": [{"name": "CNC"}]}],
        },
        headers=enterprise.headers,
    )
    assert r.status_code == 200, r.text
    after = _samples(client.get("/metrics").text)
    for name in ("talentmatch_gap_duration_seconds_count", "talentmatch_match_duration_seconds_count"):
        assert after[(name, ())] - before.get((name, ()), 0.0) == 1
    cache = ("talentmatch_phrase_cache_hits_total", "talentmatch_phrase_cache_misses_total")
    assert sum(after[(n, ())] - before.get((n, ()), 0.0) for n in cache) >= 1
