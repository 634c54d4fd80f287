"""Personal data rights: export everything held about a graduate; erase it everywhere; retention."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.app import create_app
from service.embeddings.cache import ensure_cached, phrase_hash
from service.graduates import retention
from service.orm import Graduate, PhraseEmbedding, utcnow
from service.settings import Settings
from service.text import normalize_phrase
from tests.builders import Org, graduate_body, make_demand, make_graduate, make_org
from tests.ops.support import dump_database, seed_match, tables_mentioning


def _deliver(client: TestClient, enterprise: Org, school: Org, graduate_ids: list[str]) -> str:
    r = client.post(
        "/v1/training-orders", json={"school_id": school.id, "headcount": 2}, headers=enterprise.headers
    )
    assert r.status_code == 201, r.text
    order_id, etag = r.json()["id"], r.headers["ETag"]
    for action in ("accept", "start", "deliver"):
        body: dict[str, Any] = {"action": action}
        if action == "deliver":
            body["graduate_ids"] = graduate_ids
        r = client.post(
            f"/v1/training-orders/{order_id}/transitions",
            json=body,
            headers={**school.headers, "If-Match": etag},
        )
        assert r.status_code == 200, r.text
        etag = r.headers["ETag"]
    return str(order_id)


def _cache(app: FastAPI, texts: list[str]) -> None:
    ensure_cached(app.state.write_sessions, app.state.encoder, texts)


def _cached_norms(app: FastAPI) -> set[str]:
    with app.state.read_sessions() as session:
        return set(session.scalars(select(PhraseEmbedding.text)))


def test_export_returns_profile_matches_and_deliveries(client: TestClient, app: FastAPI) -> None:
    school, enterprise = make_org(client, "school"), make_org(client, "enterprise")
    graduate = make_graduate(client, school, "S-EXPORT-1")
    demand = make_demand(client, enterprise)
    run_id = seed_match(
        app,
        demand_id=demand["id"],
        organization_id=enterprise.id,
        graduate_id=graduate["id"],
        school_id=school.id,
        phrase="operate CNC lathe",
    )
    ranked = make_demand(client, enterprise, title="ranked through the API")
    r = client.post(f"/v1/demands/{ranked['id']}/matches", json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    order_id = _deliver(client, enterprise, school, [graduate["id"]])  # placed: no longer ranked

    r = client.get(f"/v1/graduates/{graduate['id']}/export", headers=school.headers)

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["graduate"]["external_ref"] == "S-EXPORT-1"
    assert [s["name"] for s in body["graduate"]["skills"]] == ["operate CNC lathe", "engineering drawing"]
    assert body["graduate"]["certificates"] == ["CNC operator level 4"]
    first = body["matches"][0]
    assert (first["demand_id"], first["match_run_id"], first["rank"]) == (demand["id"], run_id, 1)
    assert body["matches"][0]["skills"][0]["matched"] == "operate CNC lathe"
    assert [m["demand_id"] for m in body["matches"]] == [demand["id"], ranked["id"]]
    assert body["matches"][1]["skills"]  # the evidence of the API's ranking, skill by skill
    assert [(d["order_id"], d["enterprise_id"], d["status"]) for d in body["deliveries"]] == [
        (order_id, enterprise.id, "delivered")
    ]
    assert body["exported_at"]


def test_export_of_another_schools_graduate_is_not_found(client: TestClient) -> None:
    school, other = make_org(client, "school", "A"), make_org(client, "school", "B")
    graduate = make_graduate(client, school)
    r = client.get(f"/v1/graduates/{graduate['id']}/export", headers=other.headers)
    assert r.status_code == 404
    assert "S-0001" not in r.text


def test_erasure_leaves_no_trace_in_any_table(client: TestClient, app: FastAPI, database_url: str) -> None:
    marker = uuid.uuid4().hex
    school, other_school = make_org(client, "school", "A"), make_org(client, "school", "B")
    enterprise = make_org(client, "enterprise")
    shared_phrase = "TIG welding"
    private_phrase = f"{marker} laser cladding"
    rows = [
        graduate_body(
            f"REF-{marker}",
            skills=[{"name": private_phrase, "level": 3}, {"name": shared_phrase}],
            certificates=[f"cert {marker}"],
        ),
        graduate_body("S-KEEP-1"),
    ]
    r = client.post(
        "/v1/graduates/bulk",
        json={"graduates": rows},
        headers={**school.headers, "Idempotency-Key": f"import-{marker}"},
    )
    assert r.status_code == 200, r.text
    ids = {item["external_ref"]: item["id"] for item in r.json()["items"]}
    graduate_id, kept_id = ids[f"REF-{marker}"], ids["S-KEEP-1"]
    other = make_graduate(client, other_school, "OTHER-1", skills=[{"name": shared_phrase}])
    demand = make_demand(client, enterprise, skills=[{"name": "laser cladding"}, {"name": "TIG welding"}])
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    assert graduate_id in r.text
    order_id = _deliver(client, enterprise, school, [graduate_id, kept_id])
    seed_match(
        app,
        demand_id=make_demand(client, enterprise)["id"],
        organization_id=enterprise.id,
        graduate_id=graduate_id,
        school_id=school.id,
        phrase=private_phrase,
    )
    _cache(app, [private_phrase, shared_phrase, f"cert {marker}", "operate CNC lathe"])
    before = dump_database(database_url)
    assert "graduate" in tables_mentioning(before, marker)
    assert {"idempotency_key", "match_result", "phrase_embedding"} <= set(tables_mentioning(before, marker))
    assert "order_delivery" in tables_mentioning(before, graduate_id)

    r = client.delete(f"/v1/graduates/{graduate_id}", headers=school.headers)

    assert r.status_code == 204
    after = dump_database(database_url)
    assert tables_mentioning(after, marker) == []
    # Only the tombstone (an id, no personal data) lets other processes drop it from memory.
    assert tables_mentioning(after, graduate_id) == ["graduate_tombstone"]
    assert client.get(f"/v1/graduates/{graduate_id}", headers=school.headers).status_code == 404
    assert client.get(f"/v1/graduates/{graduate_id}/export", headers=school.headers).status_code == 404
    # What belongs to others stays: the other graduates, the shared phrase's embedding, the order.
    assert client.get(f"/v1/graduates/{kept_id}", headers=school.headers).status_code == 200
    assert client.get(f"/v1/graduates/{other['id']}", headers=other_school.headers).status_code == 200
    cached = _cached_norms(app)
    assert normalize_phrase(shared_phrase) in cached
    assert normalize_phrase("operate CNC lathe") in cached
    order = client.get(f"/v1/training-orders/{order_id}", headers=enterprise.headers)
    assert order.status_code == 200
    assert order.json()["status"] == "delivered"
    assert graduate_id not in order.text
    if database_url.startswith("sqlite"):  # nor in the file's free pages or the write-ahead log
        with app.state.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert marker.encode() not in raw


def test_erasure_keeps_embeddings_of_phrases_used_by_demands_courses_and_others(
    client: TestClient, app: FastAPI
) -> None:
    school, enterprise = make_org(client, "school"), make_org(client, "enterprise")
    phrases = ["CNC machining", "Python", "read engineering drawings", "unique phrase zeta"]
    graduate = make_graduate(client, school, "G-1", skills=[{"name": p} for p in phrases])
    make_graduate(client, school, "G-2", skills=[{"name": "python"}])  # same phrase, other case
    make_demand(client, enterprise)  # uses "CNC machining" and "read engineering drawings"
    _cache(app, phrases)

    assert client.delete(f"/v1/graduates/{graduate['id']}", headers=school.headers).status_code == 204

    cached = _cached_norms(app)
    assert {"cnc machining", "python", "read engineering drawings"} <= cached
    assert "unique phrase zeta" not in cached
    with app.state.read_sessions() as session:
        hashes = set(session.scalars(select(PhraseEmbedding.text_hash)))
    assert phrase_hash("unique phrase zeta") not in hashes


def _age(app: FastAPI, graduate_id: str, years: float) -> None:
    with app.state.write_sessions() as session, session.begin():
        session.execute(
            update(Graduate)
            .where(Graduate.id == graduate_id)
            .values(updated_at=utcnow() - timedelta(days=365.25 * years))
        )


def test_retention_erases_profiles_not_changed_for_n_years(client: TestClient, app: FastAPI) -> None:
    school = make_org(client, "school")
    old = make_graduate(client, school, "OLD-1")
    recent = make_graduate(client, school, "RECENT-1")
    _age(app, old["id"], 6)
    _age(app, recent["id"], 4)

    assert retention.erase_expired(app.state.engine, 5) == 1

    assert client.get(f"/v1/graduates/{old['id']}", headers=school.headers).status_code == 404
    assert client.get(f"/v1/graduates/{recent['id']}", headers=school.headers).status_code == 200
    assert retention.erase_expired(app.state.engine, 5) == 0


def test_retention_runs_at_start_up_when_configured(
    client: TestClient, app: FastAPI, settings: Settings
) -> None:
    school = make_org(client, "school")
    old = make_graduate(client, school, "OLD-1")
    kept = make_graduate(client, school, "KEPT-1")
    _age(app, old["id"], 3)

    with TestClient(create_app(settings.model_copy(update={"retention_years": 2}))) as fresh:
        assert fresh.get(f"/v1/graduates/{old['id']}", headers=school.headers).status_code == 404
        assert fresh.get(f"/v1/graduates/{kept['id']}", headers=school.headers).status_code == 200


def test_retention_command_line(
    client: TestClient,
    app: FastAPI,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    school = make_org(client, "school")
    old = make_graduate(client, school, "OLD-1")
    _age(app, old["id"], 8)
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", database_url)

    assert retention.main(["--years", "7", "--dry-run"]) == 0
    assert "1 graduate profile(s)" in capsys.readouterr().out
    assert client.get(f"/v1/graduates/{old['id']}", headers=school.headers).status_code == 200

    assert retention.main(["--years", "7"]) == 0
    assert "erased 1" in capsys.readouterr().out
    assert client.get(f"/v1/graduates/{old['id']}", headers=school.headers).status_code == 404


def _memories_holding(app: FastAPI, marker: str) -> list[str]:
    """Which of the process's in-memory phrase structures still hold text containing ``marker``."""
    from service.embeddings.cache import RECENT
    from service.embeddings.static import for_encoder
    from service.taxonomy.runtime import TaxonomyRuntime

    engine = app.state.matching
    found = []
    if any(marker in t for t in engine.phrases.texts):
        found.append("phrase store texts")
    if any(marker in t for t in engine.phrases._ids):
        found.append("phrase store ids")
    if any(marker in norm for _model, norm in RECENT._data):
        found.append("recent vectors")
    if any(marker in norm for _grams, norm in engine.lexical._recent):
        found.append("lexical rows")
    static = for_encoder(engine.encoder)
    if static is not None and any(marker in text.casefold() for text in static._pieces):
        found.append("static pieces")
    runtime = getattr(app.state, "taxonomy", None)
    if isinstance(runtime, TaxonomyRuntime):
        if any(marker in norm for norm in runtime.canonical_memo):
            found.append("canonical memo")
        if any(marker in norm for _model, norm in runtime._queries):
            found.append("query vectors")
    return found


def test_erasure_drops_the_graduates_phrases_from_the_process_memory(
    client: TestClient, app: FastAPI
) -> None:
    marker = uuid.uuid4().hex
    private_phrase = f"{marker} laser cladding"
    school, enterprise = make_org(client, "school", "A"), make_org(client, "enterprise")
    graduate = make_graduate(
        client, school, "G-1", skills=[{"name": private_phrase}, {"name": "TIG welding"}]
    )
    other = make_graduate(client, school, "G-2", skills=[{"name": "TIG welding"}])
    demand = make_demand(client, enterprise, skills=[{"name": "laser cladding"}, {"name": "TIG welding"}])
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    # a stateless list with the phrase too (its vectors and lexical rows are kept only in memory)
    stateless = {
        "demand": {"skills": [{"name": "laser cladding"}]},
        "candidates": [{"id": "c1", "skills": [{"name": private_phrase}]}],
    }
    assert client.post("/v1/match", json=stateless, headers=enterprise.headers).status_code == 200
    assert client.get("/v1/insights/skills", headers=enterprise.headers).status_code == 200
    store = app.state.matching.phrases
    phrase_id = int(store.ids([private_phrase])[0])
    assert phrase_id >= 0
    assert {"phrase store texts", "recent vectors", "lexical rows"} <= set(_memories_holding(app, marker))

    r = client.delete(f"/v1/graduates/{graduate['id']}", headers=school.headers)

    assert r.status_code == 204
    assert _memories_holding(app, marker) == []
    assert store.texts[phrase_id] == ""
    assert not store.vecs_t[:, phrase_id].any()  # the vector is overwritten, not only unlinked
    assert store.lexical_t()[:, phrase_id].nnz == 0
    # the other graduate's phrase stays and matching goes on as before
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    assert [m["graduate_id"] for m in r.json()["matches"]] == [other["id"]]
    assert marker not in r.text


def test_retention_drops_erased_phrases_from_the_process_memory(client: TestClient, app: FastAPI) -> None:
    from service.matching.engine import sync_after_erasure

    marker = uuid.uuid4().hex
    school, enterprise = make_org(client, "school"), make_org(client, "enterprise")
    old = make_graduate(client, school, "OLD-1", skills=[{"name": f"{marker} riveting"}])
    demand = make_demand(client, enterprise, skills=[{"name": "riveting"}])
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 10}, headers=enterprise.headers)
    assert r.status_code == 200, r.text
    assert _memories_holding(app, marker) == ["phrase store texts", "phrase store ids"]
    _age(app, old["id"], 9)

    job = retention.RetentionJob(app.state.engine, 5, after_erasure=lambda: sync_after_erasure(app.state))
    assert job.run_once() == 1

    assert _memories_holding(app, marker) == []


def test_another_process_drops_the_erased_phrases_at_its_next_sync(
    client: TestClient, app: FastAPI, settings: Settings
) -> None:
    marker = uuid.uuid4().hex
    school, enterprise = make_org(client, "school"), make_org(client, "enterprise")
    graduate = make_graduate(client, school, "G-1", skills=[{"name": f"{marker} soldering"}])
    demand = make_demand(client, enterprise, skills=[{"name": "soldering"}])
    other_app = create_app(settings)  # a second API process on the same database
    with TestClient(other_app) as other:
        path = f"/v1/demands/{demand['id']}/matches"
        assert other.post(path, json={"top_k": 10}, headers=enterprise.headers).status_code == 200
        assert any(marker in t for t in other_app.state.matching.phrases.texts)

        assert client.delete(f"/v1/graduates/{graduate['id']}", headers=school.headers).status_code == 204

        r = other.post(path, json={"top_k": 10}, headers=enterprise.headers)
        assert r.status_code == 200
        assert r.json()["matches"] == []
        assert not any(marker in t for t in other_app.state.matching.phrases.texts)
