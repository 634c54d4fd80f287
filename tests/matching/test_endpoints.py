"""Matching endpoints through HTTP: ranking, evidence, visibility, freshness, cache, stateless calls."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.orm import MatchRun, PhraseEmbedding
from service.settings import Settings
from tests.builders import Org, make_demand, make_graduate, make_org, make_program
from tests.gaps.conftest import real_encoder

CNC_SKILLS = [
    {"name": "CNC machining", "importance": 5, "required": True},
    {"name": "read engineering drawings", "importance": 4},
    {"name": "quality inspection", "importance": 2},
]


def _consortium(client: TestClient) -> tuple[Org, Org, dict[str, str]]:
    ent = make_org(client, "enterprise", "Hefei Auto Parts")
    school = make_org(client, "school", "Hefei Tech")
    ids = {
        "strong": make_graduate(
            client,
            school,
            "S-strong",
            skills=[
                {"name": "CNC machining", "level": 4},
                {"name": "read engineering drawings", "level": 3},
                {"name": "quality inspection"},
            ],
        )["id"],
        "partial": make_graduate(
            client, school, "S-partial", skills=[{"name": "read engineering drawings"}, {"name": "welding"}]
        )["id"],
        "unrelated": make_graduate(
            client, school, "S-unrelated", skills=[{"name": "cooking"}, {"name": "hotel reception"}]
        )["id"],
        "empty": make_graduate(client, school, "S-empty", skills=[])["id"],
    }
    return ent, school, ids


def _match(client: TestClient, org: Org, demand_id: str, **body: Any) -> dict[str, Any]:
    r = client.post(f"/v1/demands/{demand_id}/matches", json=body, headers=org.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_ranking_order_evidence_and_required(client: TestClient) -> None:
    ent, school, ids = _consortium(client)
    demand = make_demand(client, ent, skills=CNC_SKILLS)
    result = _match(client, ent, demand["id"], top_k=10)
    order = [m["graduate_id"] for m in result["matches"]]
    assert order[0] == ids["strong"]
    assert order.index(ids["partial"]) < order.index(ids["unrelated"])
    scores = {m["graduate_id"]: m["score"] for m in result["matches"]}
    assert scores[ids["strong"]] > 0.6
    assert scores[ids["empty"]] < 0.05
    assert scores[ids["unrelated"]] < 0.15
    top = result["matches"][0]
    assert top["school_id"] == school.id
    evidence = {e["demand_skill"]: e for e in top["skills"]}
    assert evidence["CNC machining"]["status"] == "met"
    assert evidence["CNC machining"]["matched"] == "CNC machining"  # as the graduate wrote it
    assert top["missing_required"] == []
    partial = next(m for m in result["matches"] if m["graduate_id"] == ids["partial"])
    assert partial["missing_required"] == ["CNC machining"]
    assert {e["demand_skill"]: e["status"] for e in partial["skills"]}["CNC machining"] == "missing"
    assert result["model"] == "fake-hash"
    assert "external_ref" not in str(result)
    assert "S-strong" not in str(result)


def test_level_below_requested_is_partial(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    school = make_org(client, "school")
    low = make_graduate(client, school, "L", skills=[{"name": "CNC machining", "level": 1}])["id"]
    high = make_graduate(client, school, "H", skills=[{"name": "CNC machining", "level": 5}])["id"]
    demand = make_demand(client, ent, skills=[{"name": "CNC machining", "level": 4}])
    result = _match(client, ent, demand["id"])
    by_id = {m["graduate_id"]: m for m in result["matches"]}
    assert by_id[high]["score"] > by_id[low]["score"]
    assert by_id[high]["skills"][0]["status"] == "met"
    assert by_id[low]["skills"][0]["status"] == "partial"


def test_result_is_stored_and_served_to_the_owner_only(client: TestClient, app: Any) -> None:
    ent, school, _ = _consortium(client)
    other = make_org(client, "enterprise", "Other")
    demand = make_demand(client, ent, skills=CNC_SKILLS)
    assert client.get(f"/v1/demands/{demand['id']}/matches", headers=ent.headers).status_code == 404
    created = _match(client, ent, demand["id"], top_k=2)
    assert len(created["matches"]) == 2
    stored = client.get(f"/v1/demands/{demand['id']}/matches", headers=ent.headers)
    assert stored.status_code == 200
    assert stored.json() == created
    assert created["model_version"]
    for path in (f"/v1/demands/{demand['id']}/matches", f"/v1/demands/{demand['id']}/program-matches"):
        assert client.get(path, headers=other.headers).status_code == 404
    assert (
        client.post(f"/v1/demands/{demand['id']}/matches", json={}, headers=other.headers).status_code == 404
    )
    assert (
        client.post(f"/v1/demands/{demand['id']}/matches", json={}, headers=school.headers).status_code == 403
    )


def test_bad_match_requests_are_422(client: TestClient) -> None:
    ent, _, _ = _consortium(client)
    demand = make_demand(client, ent, skills=CNC_SKILLS)
    for body in ({"top_k": 0}, {"top_k": 101}, {"min_score": 2}, {"colour": 1}):
        r = client.post(f"/v1/demands/{demand['id']}/matches", json=body, headers=ent.headers)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")


def test_freshness_across_two_app_instances(settings: Settings) -> None:
    first = create_app(settings)
    second = create_app(settings)
    with TestClient(first) as a, TestClient(second) as b:
        ent = make_org(a, "enterprise")
        school = make_org(b, "school")
        demand = make_demand(a, ent, skills=CNC_SKILLS)
        assert _match(a, ent, demand["id"])["matches"] == []
        g = make_graduate(b, school, "S-new", skills=[{"name": "CNC machining"}])
        assert [m["graduate_id"] for m in _match(a, ent, demand["id"])["matches"]] == [g["id"]]
        r = b.patch(
            f"/v1/graduates/{g['id']}", json={"skills": [{"name": "cooking"}]}, headers=school.headers
        )
        assert r.status_code == 200
        changed = _match(a, ent, demand["id"])["matches"]
        assert changed[0]["skills"][0]["status"] == "missing"
        assert b.delete(f"/v1/graduates/{g['id']}", headers=school.headers).status_code == 204
        assert _match(a, ent, demand["id"])["matches"] == []


def test_phrase_cache_embeds_each_phrase_once_also_after_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        ent, _, _ = _consortium(c)
        demand = make_demand(c, ent, skills=CNC_SKILLS)
        _match(c, ent, demand["id"])
        encoder = c.app.state.encoder  # type: ignore[attr-defined]
        calls = encoder.calls
        _match(c, ent, demand["id"])
        assert encoder.calls == calls
    with TestClient(create_app(settings)) as c:
        encoder = c.app.state.encoder  # type: ignore[attr-defined]
        before = encoder.calls
        _match(c, ent, demand["id"])
        assert encoder.calls == before
        with c.app.state.read_sessions() as session:  # type: ignore[attr-defined]
            assert session.scalar(select(func.count()).select_from(PhraseEmbedding)) >= 6


def test_encoder_failure_is_503_and_nothing_stored(client: TestClient, app: Any) -> None:
    ent = make_org(client, "enterprise")
    school = make_org(client, "school")
    make_graduate(client, school, "X", skills=[{"name": "CNC machining"}])
    demand = make_demand(client, ent, skills=[{"name": "a brand new phrase nobody embedded"}])

    def broken(texts: list[str]) -> Any:
        raise RuntimeError("device lost")

    app.state.encoder.encode = broken
    r = client.post(f"/v1/demands/{demand['id']}/matches", json={}, headers=ent.headers)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    with app.state.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(MatchRun)) == 0


def test_program_matches_rank_the_covering_curriculum_first(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    school = make_org(client, "school")
    good = make_program(client, school)  # CNC practice + engineering drawing
    make_program(
        client,
        school,
        name="Hospitality",
        courses=[
            {"title": "Front office", "learning_outcomes": ["welcome hotel guests"], "skills": ["cooking"]}
        ],
    )
    demand = make_demand(client, ent, skills=CNC_SKILLS)
    r = client.get(f"/v1/demands/{demand['id']}/program-matches?top_k=5", headers=ent.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert items[0]["program_id"] == good["id"]
    assert items[0]["school_id"] == school.id
    assert items[0]["score"] > items[1]["score"]
    assert (
        client.get(f"/v1/demands/{demand['id']}/program-matches?top_k=0", headers=ent.headers).status_code
        == 422
    )


def test_demand_matches_for_a_graduate(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    school = make_org(client, "school")
    other_school = make_org(client, "school", "Other school")
    cnc = make_demand(client, ent, title="CNC", skills=CNC_SKILLS)
    cook = make_demand(client, ent, title="Cook", skills=[{"name": "cooking"}, {"name": "food safety"}])
    g = make_graduate(client, school, "G", skills=[{"name": "CNC machining"}, {"name": "quality inspection"}])
    r = client.get(f"/v1/graduates/{g['id']}/demand-matches", headers=school.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["demand_id"] for i in items] == [cnc["id"], cook["id"]]
    assert items[0]["score"] > items[1]["score"]
    assert (
        client.get(f"/v1/graduates/{g['id']}/demand-matches", headers=other_school.headers).status_code == 404
    )
    assert client.get(f"/v1/graduates/{g['id']}/demand-matches", headers=ent.headers).status_code == 403


def test_repeated_stateless_match_embeds_only_new_phrases_and_stores_none(
    client: TestClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.embeddings.cache import RECENT

    RECENT.clear()
    ent = make_org(client, "enterprise")
    encoder = app.state.encoder
    encoded: list[str] = []
    original = encoder.encode

    def counting(texts: list[str]) -> Any:
        encoded.extend(texts)
        return original(texts)

    monkeypatch.setattr(encoder, "encode", counting)
    candidates = [
        {"id": f"c{i}", "skills": [{"name": f"lathe work {i}"}, {"name": "welding"}]} for i in range(5)
    ]
    body = {"demand": {"skills": CNC_SKILLS}, "candidates": candidates, "top_k": 5}
    first = client.post("/v1/match", json=body, headers=ent.headers)
    assert first.status_code == 200, first.text
    assert {"lathe work 3", "welding"} <= set(encoded)

    encoded.clear()
    again = client.post("/v1/match", json=body, headers=ent.headers)
    assert again.json() == first.json()
    assert encoded == []  # nothing embedded twice

    body["candidates"] = [*candidates, {"id": "new", "skills": [{"name": "forklift driving"}]}]
    assert client.post("/v1/match", json=body, headers=ent.headers).status_code == 200
    assert encoded == ["forklift driving"]  # only what is new
    with app.state.read_sessions() as session:
        texts = set(session.scalars(select(PhraseEmbedding.text)))
    assert not texts & {"welding", "lathe work 3", "forklift driving"}


def test_recent_phrase_memory_is_bounded_and_forgets_the_least_recently_used() -> None:
    import numpy as np

    from service.embeddings.cache import RecentVectors

    recent = RecentVectors(capacity=2)
    one = np.ones(3, dtype=np.float32)
    recent.put("m", {"a": one, "b": one})
    assert set(recent.get("m", ["a"])) == {"a"}  # "a" is now the most recent
    recent.put("m", {"c": one})
    assert len(recent) == 2
    assert set(recent.get("m", ["a", "b", "c"])) == {"a", "c"}
    assert recent.get("other model", ["a"]) == {}
    recent.forget({"a"})
    assert set(recent.get("m", ["a", "c"])) == {"c"}


def test_stateless_match_ranks_and_stores_nothing(client: TestClient, app: Any) -> None:
    ent = make_org(client, "enterprise")
    body = {
        "demand": {"skills": CNC_SKILLS},
        "candidates": [
            {"id": "c1", "skills": [{"name": "cooking"}]},
            {"id": "c2", "skills": [{"name": "CNC machining"}, {"name": "read engineering drawings"}]},
            {"id": "c3", "skills": []},
        ],
        "top_k": 2,
    }
    r = client.post("/v1/match", json=body, headers=ent.headers)
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert r.json()["scored"] == 3  # a short list is scored in full
    assert [m["id"] for m in matches] == ["c2", "c1"]
    assert matches[0]["skills"][0]["status"] == "met"
    with app.state.read_sessions() as session:
        texts = set(session.scalars(select(PhraseEmbedding.text)))
    assert "cooking" not in texts
    too_many = {**body, "candidates": [{"id": str(i)} for i in range(1001)]}
    assert client.post("/v1/match", json=too_many, headers=ent.headers).status_code == 422
    no_skills = {**body, "demand": {"skills": []}}
    assert client.post("/v1/match", json=no_skills, headers=ent.headers).status_code == 422
    assert client.post("/v1/match", json={**body, "top_k": 0}, headers=ent.headers).status_code == 422
    assert client.post("/v1/match", json=body).status_code == 401


@pytest.fixture
def real_client(app: Any) -> Any:
    with TestClient(app) as client:
        app.state.encoder = real_encoder()
        yield client


@pytest.mark.real_encoder
def test_real_encoder_paraphrases_and_chinese(real_client: TestClient) -> None:
    ent = make_org(real_client, "enterprise")
    cases = [
        ("operate CNC lathe", "CNC machining", "bake bread"),
        ("数控机床加工", "数控加工", "烹饪"),
        ("Python programming", "Python 编程", "会计核算"),
        ("JavaScript", "JS", "welding"),
    ]
    for demanded, good, bad in cases:
        body = {
            "demand": {"skills": [{"name": demanded}]},
            "candidates": [
                {"id": "good", "skills": [{"name": good}]},
                {"id": "bad", "skills": [{"name": bad}]},
            ],
        }
        r = real_client.post("/v1/match", json=body, headers=ent.headers)
        assert r.status_code == 200, r.text
        scores = {m["id"]: m["score"] for m in r.json()["matches"]}
        assert scores["good"] > scores["bad"] + 0.2, (demanded, scores)


OTHER_WORK = [
    "bake bread",
    "sell insurance policies",
    "teach piano",
    "drive a city bus",
    "manage payroll",
    "cook pasta",
    "arrange flowers",
    "groom dogs",
    "translate legal documents",
    "plan weddings",
    "coach football",
    "repair shoes",
    "write press releases",
    "audit tax returns",
    "guide museum tours",
    "cut hair",
    "mix cocktails",
    "care for the elderly",
    "design book covers",
    "sing in a choir",
]


@pytest.mark.real_encoder
def test_a_long_stateless_list_is_shortlisted_and_keeps_its_best_candidates(
    real_client: TestClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.embeddings.cache import RECENT
    from service.matching import service as matching

    ent = make_org(real_client, "enterprise")
    good = {17: "c17", 99: "c99", 150: "c150", 222: "c222", 299: "c299"}
    candidates = []
    for i in range(300):
        if i in good:
            skills = ["CNC lathe operation", "interpret technical drawings", "inspect finished parts"]
        else:
            skills = [OTHER_WORK[i % 20], OTHER_WORK[(i * 7 + 3) % 20], f"{OTHER_WORK[(i * 3) % 20]} ({i})"]
        candidates.append({"id": f"c{i}", "skills": [{"name": s} for s in skills]})
    body = {"demand": {"skills": CNC_SKILLS}, "candidates": candidates, "top_k": 5}

    RECENT.clear()
    encoded: list[str] = []
    original = app.state.encoder.encode
    monkeypatch.setattr(app.state.encoder, "encode", lambda texts: encoded.extend(texts) or original(texts))
    r = real_client.post("/v1/match", json=body, headers=ent.headers)
    assert r.status_code == 200, r.text
    shortlisted = r.json()
    assert shortlisted["scored"] == matching.SHORTLIST_MIN == 200
    assert {m["id"] for m in shortlisted["matches"]} == set(good.values())
    distinct = {s["name"].lower() for c in candidates for s in c["skills"]}
    assert 0 < len(encoded) < len(distinct)  # only the shortlist's phrases went through the transformer

    monkeypatch.setattr(matching, "SHORTLIST_MIN", 1000)  # every candidate scored in full
    full = real_client.post("/v1/match", json=body, headers=ent.headers).json()
    assert full["scored"] == 300
    assert full["matches"] == shortlisted["matches"]  # same scores and evidence


def test_a_demand_without_skills_and_too_many_candidates_are_422(client: TestClient, app: Any) -> None:
    from sqlalchemy.orm import Session

    from service.orm import Demand

    ent, _, _ = _consortium(client)
    demand = make_demand(client, ent, skills=CNC_SKILLS)
    with Session(app.state.engine) as session, session.begin():  # no API path empties a demand's skills
        session.get(Demand, demand["id"]).skills = []
    for path in (f"/v1/demands/{demand['id']}/matches",):
        r = client.post(path, json={}, headers=ent.headers)
        assert r.status_code == 422 and "no skills" in r.json()["detail"]
    r = client.get(f"/v1/demands/{demand['id']}/program-matches", headers=ent.headers)
    assert r.status_code == 422
    assert client.get(f"/v1/demands/{demand['id']}/matches", headers=ent.headers).status_code == 404
    body = {
        "demand": {"skills": [{"name": "CNC machining"}]},
        "candidates": [{"id": f"c{i}", "skills": []} for i in range(1001)],
    }
    r = client.post("/v1/match", json=body, headers=ent.headers)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    for bad in ({"top_k": 0}, {"top_k": 101}, {"demand": {"skills": []}}):
        r = client.post("/v1/match", json={**body, "candidates": [], **bad}, headers=ent.headers)
        assert r.status_code == 422
