"""Training orders through the HTTP API: creation, lifecycle, who may act, If-Match, delivery, history."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import Org, make_demand, make_graduate, make_org, make_program
from tests.orders.helpers import ORDERS, Parties, act, fetch, graduates, make_parties, order_body, place_order

LIFECYCLE = {
    ("proposed", "accept"): "accepted",
    ("proposed", "reject"): "rejected",
    ("accepted", "start"): "in_training",
    ("in_training", "deliver"): "delivered",
    ("proposed", "cancel"): "cancelled",
    ("accepted", "cancel"): "cancelled",
    ("in_training", "cancel"): "cancelled",
}
SCHOOL_ACTIONS = {"accept", "reject", "start", "deliver", "cancel"}
ENTERPRISE_ACTIONS = {"cancel"}
ACTIONS = ["accept", "reject", "start", "deliver", "cancel"]
# How to reach each state from "proposed" (all by the school).
PATHS = {
    "proposed": [],
    "accepted": ["accept"],
    "in_training": ["accept", "start"],
    "delivered": ["accept", "start", "deliver"],
    "rejected": ["reject"],
    "cancelled": ["cancel"],
}


@pytest.fixture
def p(client: TestClient) -> Parties:
    return make_parties(client)


def _is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert body["status"] == status
    return body


def drive(client: TestClient, p: Parties, order: dict[str, Any], state: str) -> dict[str, Any]:
    for action in PATHS[state]:
        extra: dict[str, Any] = {}
        if action == "deliver":
            extra["graduate_ids"] = graduates(client, p.school, 1, prefix=f"D{order['id'][:6]}")
        r = act(client, p.school, order, action, **extra)
        assert r.status_code == 200, r.text
        order = r.json()
    assert order["status"] == state
    return order


def _expected_allowed(state: str, role: str) -> list[str]:
    mine = SCHOOL_ACTIONS if role == "school" else ENTERPRISE_ACTIONS
    return [a for a in ACTIONS if (state, a) in LIFECYCLE and a in mine]


# -- creation --------------------------------------------------------------------------------------


def test_create_returns_proposed_order_with_etag_and_creation_history(client: TestClient, p: Parties) -> None:
    r = client.post(
        ORDERS,
        json=order_body(
            p.school, headcount=20, start_date="2026-03-01", end_date="2026-07-01", notes="by July"
        ),
        headers=p.enterprise.headers,
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"{ORDERS}/{order['id']}"
    assert order["status"] == "proposed"
    assert order["version"] == 1
    assert order["enterprise_id"] == p.enterprise.id
    assert order["school_id"] == p.school.id
    assert order["headcount"] == 20
    assert (order["start_date"], order["end_date"], order["notes"]) == ("2026-03-01", "2026-07-01", "by July")
    assert order["curriculum_additions"] == []
    assert order["deliveries"] == []
    assert order["allowed_actions"] == ["cancel"]
    [entry] = order["history"]
    assert entry["seq"] == 1
    assert entry["action"] == "create"
    assert entry["actor"] == p.enterprise.id
    assert entry["actor_role"] == "placed"
    assert entry["from"] is None
    assert entry["to"] == "proposed"
    assert entry["reason"] is None
    assert entry["time"]

    seen_by_school = client.get(f"{ORDERS}/{order['id']}", headers=p.school.headers)
    assert seen_by_school.status_code == 200
    assert seen_by_school.headers["ETag"] == '"1"'
    assert seen_by_school.json()["allowed_actions"] == ["accept", "reject", "cancel"]
    assert {k: v for k, v in seen_by_school.json().items() if k != "allowed_actions"} == {
        k: v for k, v in order.items() if k != "allowed_actions"
    }


def test_who_may_place_orders(client: TestClient, p: Parties) -> None:
    ri = make_org(client, "research_institute", "Institute")
    assert client.post(ORDERS, json=order_body(p.school), headers=ri.headers).status_code == 201
    for org in (p.school, p.government):
        _is_problem(client.post(ORDERS, json=order_body(p.school), headers=org.headers), 403)
    _is_problem(client.post(ORDERS, json=order_body(p.school)), 401)


def _count(client: TestClient, org: Org) -> int:
    return len(client.get(f"{ORDERS}?limit=100", headers=org.headers).json()["items"])


def test_bad_orders_are_422_and_nothing_is_stored(client: TestClient, p: Parties) -> None:
    own_program = make_program(client, p.school)
    foreign_program = make_program(client, p.other_school)
    foreign_demand = make_demand(client, p.other_enterprise)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"school_id": "00000000-0000-0000-0000-000000000000"}, "school_id"),
        ({"school_id": "not-a-uuid"}, "school_id"),
        ({"school_id": p.other_enterprise.id}, "school_id"),
        ({"program_id": foreign_program["id"]}, "program_id"),
        ({"program_id": "00000000-0000-0000-0000-000000000000"}, "program_id"),
        ({"demand_id": foreign_demand["id"]}, "demand_id"),
        ({"demand_id": "00000000-0000-0000-0000-000000000000"}, "demand_id"),
        ({"headcount": 0}, "headcount"),
        ({"headcount": -3}, "headcount"),
        ({"headcount": 10_001}, "headcount"),  # above settings.max_order_headcount (10,000)
        ({"start_date": "2026-07-01", "end_date": "2026-03-01"}, "end_date"),
        ({"status": "accepted"}, "status"),
        ({"enterprise_id": p.other_enterprise.id}, "enterprise_id"),
        ({"curriculum_additions": [""]}, "curriculum_additions"),
    ]
    for overrides, field in cases:
        r = client.post(ORDERS, json=order_body(p.school, **overrides), headers=p.enterprise.headers)
        body = _is_problem(r, 422)
        assert any(field in [str(x) for x in e["loc"]] for e in body["errors"]), (overrides, body)
    # A foreign demand gets exactly the answer an unknown one gets: ids reveal nothing.
    a = client.post(
        ORDERS, json=order_body(p.school, demand_id=foreign_demand["id"]), headers=p.enterprise.headers
    ).json()
    b = client.post(ORDERS, json=order_body(p.school, demand_id="nope"), headers=p.enterprise.headers).json()
    assert a["errors"][0]["msg"] == b["errors"][0]["msg"]
    # Several problems are all named at once.
    r = client.post(
        ORDERS,
        json=order_body(p.school, program_id=foreign_program["id"], headcount=10_001),
        headers=p.enterprise.headers,
    )
    assert {e["loc"][1] for e in _is_problem(r, 422)["errors"]} == {"program_id", "headcount"}
    assert "program_id" in r.json()["detail"]
    assert _count(client, p.enterprise) == 0
    assert _count(client, p.school) == 0
    # The valid version of the same order is accepted.
    place_order(client, p.enterprise, p.school, program_id=own_program["id"], headcount=10_000)


def test_headcount_cap_is_configurable(client: TestClient, p: Parties) -> None:
    client.app.state.settings.max_order_headcount = 5  # type: ignore[attr-defined]
    r = client.post(ORDERS, json=order_body(p.school, headcount=6), headers=p.enterprise.headers)
    assert "at most 5" in _is_problem(r, 422)["errors"][0]["msg"]
    place_order(client, p.enterprise, p.school, headcount=5)


def test_the_programme_of_an_order_may_be_named_by_its_code(client: TestClient, p: Parties) -> None:
    program = make_program(client, p.school, code="MECH-01")
    make_program(client, p.other_school, code="WELD-09")
    order = place_order(client, p.enterprise, p.school, program_id="MECH-01")
    assert order["program_id"] == program["id"]
    # a code of another school names no programme of this one
    r = client.post(ORDERS, json=order_body(p.school, program_id="WELD-09"), headers=p.enterprise.headers)
    assert [e["loc"][1] for e in _is_problem(r, 422)["errors"]] == ["program_id"]


# -- curriculum additions --------------------------------------------------------------------------


def test_additions_come_from_the_gap_analysis_when_not_given(client: TestClient, p: Parties) -> None:
    demand = make_demand(client, p.enterprise)
    program = make_program(client, p.school)
    order = place_order(client, p.enterprise, p.school, demand_id=demand["id"], program_id=program["id"])
    additions = order["curriculum_additions"]
    demanded = [s["name"] for s in demand["skills"]]
    assert set(additions) <= set(demanded)
    assert "quality inspection" in additions  # taught nowhere in the programme
    assert "CNC machining" not in additions  # a course is about exactly that
    assert fetch(client, p.school, order["id"])["curriculum_additions"] == additions

    given = place_order(
        client,
        p.enterprise,
        p.school,
        demand_id=demand["id"],
        program_id=program["id"],
        curriculum_additions=["PLC programming"],
    )
    assert given["curriculum_additions"] == ["PLC programming"]
    none_wanted = place_order(
        client,
        p.enterprise,
        p.school,
        demand_id=demand["id"],
        program_id=program["id"],
        curriculum_additions=[],
    )
    assert none_wanted["curriculum_additions"] == []
    demand_only = place_order(client, p.enterprise, p.school, demand_id=demand["id"])
    assert demand_only["curriculum_additions"] == []


# -- visibility ------------------------------------------------------------------------------------


def test_only_the_two_parties_see_or_act_on_an_order(client: TestClient, p: Parties) -> None:
    order = place_order(client, p.enterprise, p.school)
    for outsider in (p.other_enterprise, p.other_school):
        _is_problem(client.get(f"{ORDERS}/{order['id']}", headers=outsider.headers), 404)
        for action in ACTIONS:
            _is_problem(act(client, outsider, order, action), 404)
        assert _count(client, outsider) == 0
    _is_problem(client.get(f"{ORDERS}/{order['id']}", headers=p.government.headers), 403)
    _is_problem(client.get(ORDERS, headers=p.government.headers), 403)
    _is_problem(client.get(f"{ORDERS}/no-such-order", headers=p.enterprise.headers), 404)
    _is_problem(act(client, p.school, {"id": "no-such-order", "version": 1}, "accept"), 404)
    assert fetch(client, p.enterprise, order["id"])["version"] == 1


def test_list_filters_and_pages(client: TestClient, p: Parties) -> None:
    ids = [place_order(client, p.enterprise, p.school)["id"] for _ in range(3)]
    other = place_order(client, p.enterprise, p.other_school)
    accepted = act(client, p.school, fetch(client, p.school, ids[0]), "accept").json()
    assert accepted["status"] == "accepted"

    def listed(org: Org, query: str = "") -> list[str]:
        r = client.get(f"{ORDERS}?limit=100{query}", headers=org.headers)
        assert r.status_code == 200, r.text
        return [o["id"] for o in r.json()["items"]]

    assert set(listed(p.enterprise)) == {*ids, other["id"]}
    assert set(listed(p.school)) == set(ids)
    assert listed(p.other_school) == [other["id"]]
    assert listed(p.school, "&status=accepted") == [ids[0]]
    assert set(listed(p.school, "&status=proposed")) == set(ids[1:])
    assert set(listed(p.school, "&role=received")) == set(ids)
    assert listed(p.school, "&role=placed") == []
    assert listed(p.enterprise, "&role=received") == []
    _is_problem(client.get(f"{ORDERS}?status=shipped", headers=p.school.headers), 422)
    _is_problem(client.get(f"{ORDERS}?role=buyer", headers=p.school.headers), 422)

    pages: list[str] = []
    cursor = None
    while True:
        url = f"{ORDERS}?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=p.enterprise.headers).json()
        assert len(body["items"]) <= 2
        pages += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(pages) == sorted([*ids, other["id"]])
    assert len(pages) == 4


# -- lifecycle -------------------------------------------------------------------------------------


def test_every_action_by_every_party_in_every_state(client: TestClient, p: Parties) -> None:
    """The whole table: legal moves succeed, everything else is 409 naming the caller's allowed actions."""
    for state in PATHS:
        for role, org in (("enterprise", p.enterprise), ("school", p.school)):
            for action in ACTIONS:
                order = drive(client, p, place_order(client, p.enterprise, p.school), state)
                extra: dict[str, Any] = {}
                if action == "deliver":
                    extra["graduate_ids"] = graduates(client, p.school, 1, prefix=f"X{order['id'][:6]}")
                r = act(client, org, order, action, reason=f"{role} {action}", **extra)
                allowed = _expected_allowed(state, role)
                label = (state, role, action)
                if action in allowed:
                    assert r.status_code == 200, (label, r.text)
                    after = r.json()
                    assert after["status"] == LIFECYCLE[(state, action)], label
                    assert after["version"] == order["version"] + 1, label
                    assert r.headers["ETag"] == f'"{after["version"]}"', label
                    last = after["history"][-1]
                    assert (last["action"], last["from"], last["to"]) == (
                        action,
                        state,
                        LIFECYCLE[(state, action)],
                    ), label
                    assert last["actor"] == org.id
                    assert last["actor_role"] == ("received" if role == "school" else "placed")
                    assert last["reason"] == f"{role} {action}"
                    assert after["history"][:-1] == order["history"], label
                else:
                    body = _is_problem(r, 409)
                    assert body["type"].endswith("/invalid-transition"), label
                    assert body["allowed_actions"] == allowed, label
                    assert body["order_status"] == state
                    assert all(a in body["detail"] for a in allowed), label
                    after = fetch(client, p.enterprise, order["id"])
                    assert after["version"] == order["version"], label
                    assert after["history"] == order["history"], label
                    assert after["deliveries"] == order["deliveries"], label


def test_order_from_proposal_to_delivery(client: TestClient, p: Parties) -> None:
    program = make_program(client, p.school)
    demand = make_demand(client, p.enterprise)
    order = place_order(
        client, p.enterprise, p.school, headcount=2, program_id=program["id"], demand_id=demand["id"]
    )
    g1 = make_graduate(client, p.school, "S-1", skills=[{"name": "CNC machining", "level": 4}])
    g2 = make_graduate(client, p.school, "S-2")
    assert g1["placed"] is False

    order = act(client, p.school, order, "accept", reason="we have capacity").json()
    order = act(client, p.school, order, "start").json()
    r = act(client, p.school, order, "deliver", graduate_ids=[g1["id"], g2["id"]], reason="cohort done")
    assert r.status_code == 200, r.text
    order = r.json()
    assert order["status"] == "delivered"
    assert order["version"] == 4
    assert order["allowed_actions"] == []

    seen = client.get(f"{ORDERS}/{order['id']}", headers=p.enterprise.headers)
    assert seen.headers["ETag"] == '"4"'
    view = seen.json()
    assert {d["graduate_id"] for d in view["deliveries"]} == {g1["id"], g2["id"]}
    for d in view["deliveries"]:
        assert set(d) == {"graduate_id", "school_id", "skills", "delivered_at"}
        assert d["school_id"] == p.school.id
    d1 = next(d for d in view["deliveries"] if d["graduate_id"] == g1["id"])
    assert [s["name"] for s in d1["skills"]] == ["CNC machining"]
    assert "S-1" not in seen.text and "S-2" not in seen.text and "external_ref" not in seen.text

    assert [(h["seq"], h["action"], h["from"], h["to"]) for h in view["history"]] == [
        (1, "create", None, "proposed"),
        (2, "accept", "proposed", "accepted"),
        (3, "start", "accepted", "in_training"),
        (4, "deliver", "in_training", "delivered"),
    ]
    assert [h["actor"] for h in view["history"]] == [p.enterprise.id] + [p.school.id] * 3
    assert [h["reason"] for h in view["history"]] == [None, "we have capacity", None, "cohort done"]
    times = [h["time"] for h in view["history"]]
    assert times == sorted(times)

    # The graduates are now placed (a change: their version moves on).
    for g in (g1, g2):
        now = client.get(f"/v1/graduates/{g['id']}", headers=p.school.headers).json()
        assert now["placed"] is True
        assert now["version"] == g["version"] + 1
    export = client.get(f"/v1/graduates/{g1['id']}/export", headers=p.school.headers).json()
    assert [d["order_id"] for d in export["deliveries"]] == [order["id"]]


def test_reject_and_cancel_record_their_reasons(client: TestClient, p: Parties) -> None:
    rejected = place_order(client, p.enterprise, p.school)
    r = act(client, p.school, rejected, "reject", reason="no capacity this term")
    assert r.json()["status"] == "rejected"
    assert r.json()["history"][-1]["reason"] == "no capacity this term"
    cancelled = drive(client, p, place_order(client, p.enterprise, p.school), "in_training")
    r = act(client, p.enterprise, cancelled, "cancel", reason="project stopped")
    assert r.json()["status"] == "cancelled"
    last = fetch(client, p.school, cancelled["id"])["history"][-1]
    assert (last["actor"], last["actor_role"], last["from"], last["reason"]) == (
        p.enterprise.id,
        "placed",
        "in_training",
        "project stopped",
    )


def test_transition_body_is_strict(client: TestClient, p: Parties) -> None:
    order = place_order(client, p.enterprise, p.school)
    for body in (
        {"action": "ship"},
        {},
        {"action": "accept", "status": "delivered"},
        {"action": "accept", "reason": "x" * 2001},
    ):
        r = client.post(
            f"{ORDERS}/{order['id']}/transitions", json=body, headers={**p.school.headers, "If-Match": '"1"'}
        )
        _is_problem(r, 422)
    assert fetch(client, p.school, order["id"])["version"] == 1


# -- preconditions ---------------------------------------------------------------------------------


def test_if_match_is_required_and_must_be_current(client: TestClient, p: Parties) -> None:
    order = place_order(client, p.enterprise, p.school)
    body = _is_problem(act(client, p.school, order, "accept", etag=None), 428)
    assert "If-Match" in body["detail"]
    _is_problem(act(client, p.school, order, "accept", etag='"7"'), 412)
    _is_problem(act(client, p.school, order, "accept", etag="garbage"), 412)
    assert fetch(client, p.school, order["id"])["version"] == 1

    accepted = act(client, p.school, order, "accept", etag='W/"1"')
    assert accepted.status_code == 200, accepted.text
    # The old ETag is now stale, even for an action that would be legal.
    _is_problem(act(client, p.school, order, "start"), 412)
    _is_problem(act(client, p.enterprise, order, "cancel"), 412)
    after = fetch(client, p.enterprise, order["id"])
    assert (after["status"], after["version"], len(after["history"])) == ("accepted", 2, 2)
    assert act(client, p.school, after, "start").status_code == 200


# -- delivery --------------------------------------------------------------------------------------


def test_delivery_validation_names_offenders_and_stores_nothing(client: TestClient, p: Parties) -> None:
    order = drive(client, p, place_order(client, p.enterprise, p.school, headcount=2), "in_training")
    own = graduates(client, p.school, 3, prefix="OWN")
    foreign = make_graduate(client, p.other_school, "F-1")["id"]
    missing = "00000000-0000-0000-0000-000000000000"

    body = _is_problem(act(client, p.school, order, "deliver", graduate_ids=[own[0], foreign, missing]), 422)
    assert body["offenders"] == [foreign, missing]
    assert foreign in body["detail"] and missing in body["detail"]
    assert [e["loc"] for e in body["errors"]] == [
        ["body", "graduate_ids"],  # three named, two ordered
        ["body", "graduate_ids", "1"],
        ["body", "graduate_ids", "2"],
    ]

    body = _is_problem(act(client, p.school, order, "deliver", graduate_ids=own), 422)
    assert "for 2" in body["errors"][0]["msg"]
    body = _is_problem(act(client, p.school, order, "deliver", graduate_ids=[own[0], own[0]]), 422)
    assert body["errors"][0]["loc"] == ["body", "graduate_ids", "1"]
    _is_problem(act(client, p.school, order, "deliver"), 422)
    _is_problem(act(client, p.school, order, "deliver", graduate_ids=[]), 422)
    _is_problem(act(client, p.school, order, "cancel", graduate_ids=[own[0]]), 422)

    after = fetch(client, p.school, order["id"])
    assert (after["status"], after["version"], after["deliveries"]) == ("in_training", order["version"], [])
    assert after["history"] == order["history"]
    for gid in own:
        assert client.get(f"/v1/graduates/{gid}", headers=p.school.headers).json()["placed"] is False

    ok = act(client, p.school, order, "deliver", graduate_ids=own[:2])
    assert ok.status_code == 200, ok.text
    # A graduate placed by one order cannot be delivered again by another.
    second = drive(client, p, place_order(client, p.enterprise, p.school), "in_training")
    body = _is_problem(act(client, p.school, second, "deliver", graduate_ids=[own[2], own[0]]), 422)
    assert "already delivered" in body["errors"][0]["msg"]
    assert act(client, p.school, second, "deliver", graduate_ids=[own[2]]).status_code == 200


def test_delivered_graduates_reach_the_matcher_as_a_change(client: TestClient, p: Parties) -> None:
    """Placing graduates bumps the graduate change counter, so every process reloads them."""
    from service import changes

    order = drive(client, p, place_order(client, p.enterprise, p.school), "in_training")
    gid = graduates(client, p.school, 1)[0]
    with client.app.state.read_sessions() as s:  # type: ignore[attr-defined]
        before = changes.current(s, changes.GRADUATE)
    assert act(client, p.school, order, "deliver", graduate_ids=[gid]).status_code == 200
    with client.app.state.read_sessions() as s:  # type: ignore[attr-defined]
        assert changes.current(s, changes.GRADUATE) > before
