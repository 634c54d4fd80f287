"""Idempotency-Key on POST /v1/training-orders, POST /v1/demands and POST /v1/graduates/bulk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service.api import idempotency
from service.idempotency import repository as idempotency_repo
from service.orm import IdempotencyKey, TrainingOrder, utcnow
from tests.builders import Org, demand_body, graduate_body, make_org
from tests.conftest import PG_URL
from tests.orders.helpers import ORDERS, order_body

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


@pytest.fixture
def ent(client: TestClient) -> Org:
    return make_org(client, "enterprise", "Hefei Auto Parts")


@pytest.fixture
def school(client: TestClient) -> Org:
    return make_org(client, "school", "Hefei Tech")


def _post(client: TestClient, org: Org, path: str, body: Any, key: str | None = KEY) -> Any:
    headers = {**org.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return client.post(path, json=body, headers=headers)


@contextmanager
def _db(client: TestClient) -> Iterator[Session]:
    with client.app.state.write_sessions() as s, s.begin():  # type: ignore[attr-defined]
        yield s


def _orders(client: TestClient) -> int:
    with _db(client) as s:
        return len(s.scalars(select(TrainingOrder.id)).all())


def _keys(client: TestClient) -> list[IdempotencyKey]:
    with _db(client) as s:
        return list(s.scalars(select(IdempotencyKey).order_by(IdempotencyKey.id)))


def test_retry_replays_the_first_answer_without_a_second_order(
    client: TestClient, ent: Org, school: Org
) -> None:
    first = _post(client, ent, ORDERS, order_body(school, headcount=20, notes="by July"))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    # The same request, keys in another order and with other whitespace: still the same request.
    raw = json.dumps({"notes": "by July", "headcount": 20, "school_id": school.id}, indent=2)
    again = client.post(
        ORDERS,
        content=raw,
        headers={**ent.headers, "Idempotency-Key": KEY, "content-type": "application/json"},
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _orders(client) == 1
    # The IETF draft writes the key as a structured-field string: "…" names the same key.
    quoted = _post(client, ent, ORDERS, order_body(school, headcount=20, notes="by July"), key=f'"{KEY}"')
    assert quoted.json()["id"] == first.json()["id"]
    assert _orders(client) == 1
    [row] = _keys(client)
    assert (row.organization_id, row.key, row.endpoint) == (ent.id, KEY, "POST /v1/training-orders")
    assert row.response_status == 201
    assert row.resource_ids == [first.json()["id"]]
    # Without a key every POST is a new order.
    assert _post(client, ent, ORDERS, order_body(school), key=None).status_code == 201
    assert _post(client, ent, ORDERS, order_body(school), key=None).status_code == 201
    assert _orders(client) == 3


def test_replay_is_the_original_answer_even_after_the_order_moved_on(
    client: TestClient, ent: Org, school: Org
) -> None:
    first = _post(client, ent, ORDERS, order_body(school)).json()
    r = client.post(
        f"{ORDERS}/{first['id']}/transitions",
        json={"action": "accept"},
        headers={**school.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200
    again = _post(client, ent, ORDERS, order_body(school))
    assert again.status_code == 201
    assert again.json() == first
    assert again.headers["ETag"] == '"1"'


def test_same_key_with_another_body_is_422(client: TestClient, ent: Org, school: Org) -> None:
    assert _post(client, ent, ORDERS, order_body(school, headcount=3)).status_code == 201
    r = _post(client, ent, ORDERS, order_body(school, headcount=4))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # The key is bound to its endpoint too.
    assert _post(client, ent, "/v1/demands", demand_body()).status_code == 422
    assert _orders(client) == 1
    assert len(client.get("/v1/demands", headers=ent.headers).json()["items"]) == 0


def test_keys_are_scoped_per_organisation(client: TestClient, ent: Org, school: Org) -> None:
    other = make_org(client, "enterprise", "Wuhu Robotics")
    a = _post(client, ent, ORDERS, order_body(school))
    b = _post(client, other, ORDERS, order_body(school))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert b.json()["enterprise_id"] == other.id
    assert _orders(client) == 2


def test_a_failed_request_claims_nothing(client: TestClient, ent: Org, school: Org) -> None:
    bad = _post(client, ent, ORDERS, order_body(school, headcount=10_001))
    assert bad.status_code == 422
    assert "Idempotency-Key" not in str(bad.json().get("errors"))
    assert _keys(client) == []
    ok = _post(client, ent, ORDERS, order_body(school, headcount=10))
    assert ok.status_code == 201


def test_a_request_while_the_first_is_running_is_409(client: TestClient, ent: Org, school: Org) -> None:
    pair = (ent.id, KEY)
    assert idempotency.IN_FLIGHT.claim(pair)  # as if another request with the key were mid-way
    try:
        r = _post(client, ent, ORDERS, order_body(school))
        assert r.status_code == 409
        assert r.json()["type"].endswith("/idempotency-in-flight")
        assert _orders(client) == 0
        # Another organisation's identical key is not affected.
        other = make_org(client, "enterprise", "Other")
        assert _post(client, other, ORDERS, order_body(school)).status_code == 201
    finally:
        idempotency.IN_FLIGHT.release(pair)
    assert _post(client, ent, ORDERS, order_body(school)).status_code == 201
    assert idempotency.IN_FLIGHT.claim(pair), "the claim is released when the transaction ends"
    idempotency.IN_FLIGHT.release(pair)


def test_a_claim_without_an_answer_yet_is_409_never_500(client: TestClient, ent: Org, school: Org) -> None:
    """A row claimed but not yet answered (or a unique-constraint race) answers 409."""
    digest = idempotency.request_hash("POST /v1/training-orders", order_body(school))
    with _db(client) as s:
        s.add(
            IdempotencyKey(
                organization_id=ent.id, key=KEY, endpoint="POST /v1/training-orders", request_hash=digest
            )
        )
    assert _post(client, ent, ORDERS, order_body(school)).status_code == 409


def test_unique_race_is_409(
    client: TestClient, ent: Org, school: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _post(client, ent, ORDERS, order_body(school)).status_code == 201
    # Pretend the lookups missed a row another request committed in between: the insert hits the constraint.
    monkeypatch.setattr(idempotency.Idempotency, "_stored", lambda self: None)
    r = _post(client, ent, ORDERS, order_body(school))
    assert r.status_code == 409, r.text
    assert _orders(client) == 1


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only")
def test_postgres_advisory_lock_held_elsewhere_is_409(client: TestClient, ent: Org, school: Org) -> None:
    """Another process holding the key's advisory lock (its request is mid-way): 409."""
    with client.app.state.engine.connect() as other:  # type: ignore[attr-defined]
        other.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"{ent.id}:{KEY}"})
        try:
            r = _post(client, ent, ORDERS, order_body(school))
            assert r.status_code == 409, r.text
        finally:
            other.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": f"{ent.id}:{KEY}"})
            other.commit()
    assert _orders(client) == 0
    assert _post(client, ent, ORDERS, order_body(school)).status_code == 201


def test_expired_keys_are_forgotten_and_purged(client: TestClient, ent: Org, school: Org) -> None:
    ttl = client.app.state.settings.idempotency_ttl_hours  # type: ignore[attr-defined]
    assert ttl >= 24
    assert _post(client, ent, ORDERS, order_body(school)).status_code == 201
    assert _post(client, ent, ORDERS, order_body(school), key="other-key").status_code == 201
    with _db(client) as s:
        s.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=ttl - 1)))
    assert _post(client, ent, ORDERS, order_body(school, headcount=9)).status_code == 422  # still kept
    with _db(client) as s:
        s.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=ttl + 1)))
    r = _post(client, ent, ORDERS, order_body(school, headcount=9))
    assert r.status_code == 201  # the old key has expired: a new request
    assert [(k.key, k.response_body["headcount"]) for k in _keys(client)] == [(KEY, 9)]  # type: ignore[index]


def test_key_format(client: TestClient, ent: Org, school: Org) -> None:
    for key in ("x" * 256, "", "tab\there", "ключ".encode()):
        headers = {**ent.headers, "Idempotency-Key": key}
        r = client.post(ORDERS, json=order_body(school), headers=headers)
        assert r.status_code == 422, (key, r.text)
    assert _orders(client) == 0
    assert _post(client, ent, ORDERS, order_body(school), key="x" * 255).status_code == 201


def test_demands_replay(client: TestClient, ent: Org) -> None:
    first = _post(client, ent, "/v1/demands", demand_body())
    assert first.status_code == 201
    again = _post(client, ent, "/v1/demands", demand_body())
    assert (again.status_code, again.json(), again.headers["ETag"]) == (201, first.json(), '"1"')
    assert len(client.get("/v1/demands", headers=ent.headers).json()["items"]) == 1
    assert _post(client, ent, "/v1/demands", demand_body(headcount=99)).status_code == 422


def test_graduates_bulk_replay_and_erasure(client: TestClient, school: Org) -> None:
    body = {"graduates": [graduate_body("S-1"), graduate_body("S-2")]}
    first = _post(client, school, "/v1/graduates/bulk", body)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 2
    again = _post(client, school, "/v1/graduates/bulk", body)
    assert again.status_code == 200
    assert again.json() == first.json()  # a second run would say "updated": 2
    ids = [i["id"] for i in first.json()["items"]]
    for gid in ids:
        assert client.get(f"/v1/graduates/{gid}", headers=school.headers).json()["version"] == 1
    [row] = _keys(client)
    assert row.resource_ids == ids
    # Erasure can find the stored answer that names a graduate and drop it.
    with _db(client) as s:
        assert idempotency_repo.forget_resources(s, school.id, [ids[1]]) == 1
        assert idempotency_repo.forget_resources(s, school.id, [ids[1]]) == 0
    assert _keys(client) == []
