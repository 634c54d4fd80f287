"""Start-up loads the graduate index in the background; readiness waits for it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.matching import engine as matching
from service.settings import Settings
from tests.builders import Org, make_demand, make_graduate, make_org


def _seed(settings: Settings) -> tuple[list[str], Org, dict[str, Any]]:
    with TestClient(create_app(settings)) as c:
        school = make_org(c, "school")
        ent = make_org(c, "enterprise")
        ids = [
            make_graduate(c, school, f"S-{i}", skills=[{"name": name}])["id"]
            for i, name in enumerate(["CNC machining", "welding", "PLC programming"])
        ]
        demand = make_demand(c, ent, skills=[{"name": "CNC machining"}])
    return ids, ent, demand


def test_index_is_loaded_at_start_up_before_any_match(settings: Settings) -> None:
    ids, _, _ = _seed(settings)
    app = create_app(settings.model_copy(update={"warm_index": True}))
    with TestClient(app) as c:
        app.state.warm_up.join(timeout=30)
        r = c.get("/readyz")
        assert r.status_code == 200
        assert r.json()["checks"]["graduate_index"] == "ok"
        index = app.state.matching.index
        assert len(index) == len(ids)
        assert all(gid in index for gid in ids)


def test_not_ready_while_the_index_loads_and_a_match_waits_for_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, ent, demand = _seed(settings)
    release = threading.Event()
    real_sync = matching.MatchingEngine.sync

    def slow_sync(self: matching.MatchingEngine, session: Any) -> None:
        if threading.current_thread().name == "graduate-index-warm-up":
            assert release.wait(timeout=30)
        real_sync(self, session)

    monkeypatch.setattr(matching.MatchingEngine, "sync", slow_sync)
    app = create_app(settings.model_copy(update={"warm_index": True}))
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["graduate_index"] == "loading"
        release.set()
        app.state.warm_up.join(timeout=30)
        assert c.get("/readyz").status_code == 200
        r = c.post(f"/v1/demands/{demand['id']}/matches", json={}, headers=ent.headers)
        assert r.status_code == 200
        assert r.json()["matches"][0]["graduate_id"] == ids[0]


def test_a_failed_warm_up_is_reported_and_the_first_match_loads_the_index(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, ent, demand = _seed(settings)
    real_sync = matching.MatchingEngine.sync

    def failing_sync(self: matching.MatchingEngine, session: Any) -> None:
        if threading.current_thread().name == "graduate-index-warm-up":
            raise RuntimeError("database went away")
        real_sync(self, session)

    monkeypatch.setattr(matching.MatchingEngine, "sync", failing_sync)
    app = create_app(settings.model_copy(update={"warm_index": True}))
    with TestClient(app) as c:
        app.state.warm_up.join(timeout=30)
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["graduate_index"] == "failed"
        r = c.post(f"/v1/demands/{demand['id']}/matches", json={}, headers=ent.headers)
        assert r.status_code == 200
        assert r.json()["matches"][0]["graduate_id"] == ids[0]
