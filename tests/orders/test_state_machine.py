"""Property-based: random action sequences by both parties (and an outsider) against the real API.

Invariants checked after every step: only legal transitions by the allowed party succeed (everything
else answers the documented status and changes nothing), the history is append-only and replays to
the current state, and the version rises by exactly one per successful transition.
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.builders import make_graduate
from tests.orders.helpers import ORDERS, fetch, make_parties, place_order
from tests.orders.test_api import ACTIONS, LIFECYCLE, _expected_allowed

HEADCOUNT = 2
REASONS = st.none() | st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30
)
GRADUATE_CHOICES = ["none", "ok", "too_many", "foreign", "duplicate"]


def _allowed(status: str, who: str) -> list[str]:
    return _expected_allowed(status, "school" if who == "school" else "enterprise")


def _expected_status(status: str, who: str, action: str, etag: str, graduates: str) -> int:
    """What the API must answer, in the order it checks: party, If-Match, body shape, lifecycle, graduates."""
    if who == "outsider":
        return 404
    if etag == "missing":
        return 428
    if etag == "stale":
        return 412
    if (action == "deliver") != (graduates != "none"):
        return 422
    if action not in _allowed(status, who):
        return 409
    if action == "deliver" and graduates != "ok":
        return 422
    return 200


def test_random_action_sequences_keep_every_invariant(client: TestClient) -> None:
    p = make_parties(client)
    foreign = make_graduate(client, p.other_school, "FOREIGN")["id"]
    actors = {"enterprise": p.enterprise, "school": p.school, "outsider": p.other_enterprise}
    counter = itertools.count()
    reached: dict[str, int] = {}

    class OrderMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            order = place_order(client, p.enterprise, p.school, headcount=HEADCOUNT)
            self.id = order["id"]
            self.status = "proposed"
            self.version = 1
            self.history: list[dict[str, Any]] = order["history"]
            n = next(counter)
            self.own = [make_graduate(client, p.school, f"H-{n}-{i}")["id"] for i in range(HEADCOUNT + 1)]

        def _send(self, who: str, action: str, *, etag: str, graduates: str, reason: str | None) -> None:
            org = actors[who]
            headers = dict(org.headers)
            if etag == "current":
                headers["If-Match"] = f'"{self.version}"'
            elif etag == "stale":
                headers["If-Match"] = f'"{self.version - 1}"'
            body: dict[str, Any] = {"action": action, "reason": reason}
            ids = {
                "none": None,
                "ok": self.own[:HEADCOUNT],
                "too_many": self.own,
                "foreign": [self.own[0], foreign],
                "duplicate": [self.own[0], self.own[0]],
            }[graduates]
            if ids is not None:
                body["graduate_ids"] = ids
            r = client.post(f"{ORDERS}/{self.id}/transitions", json=body, headers=headers)

            expected = _expected_status(self.status, who, action, etag, graduates)
            assert r.status_code == expected, (self.status, who, action, etag, graduates, r.text)
            if expected == 409:
                assert r.json()["allowed_actions"] == _allowed(self.status, who)
            if expected == 200:
                after = r.json()
                self.status = LIFECYCLE[(self.status, action)]
                self.version += 1
                assert (after["status"], after["version"]) == (self.status, self.version)
                assert r.headers["ETag"] == f'"{self.version}"'
                last = after["history"][-1]
                assert (last["action"], last["actor"], last["reason"]) == (action, org.id, reason)
                if action == "deliver":
                    assert sorted(d["graduate_id"] for d in after["deliveries"]) == sorted(ids or [])

        @rule(who=st.sampled_from(["school", "enterprise", "school"]), data=st.data(), reason=REASONS)
        def well_formed(self, who: str, data: st.DataObject, reason: str | None) -> None:
            """Current ETag, valid graduates with deliver; mostly an action that moves the order forward."""
            allowed = _allowed(self.status, who)
            forward = [a for a in allowed if a not in ("reject", "cancel")]
            ending = [a for a in allowed if a in ("reject", "cancel")]
            # Hypothesis starts from small values: 0-2 move forward, 3 ends the order, 4 tries anything.
            choice = data.draw(st.integers(0, 4), label="kind")
            pool = [] if choice == 4 else (ending or allowed) if choice == 3 else (forward or allowed)
            action = data.draw(st.sampled_from(pool or ACTIONS), label="action")
            self._send(
                who, action, etag="current", graduates="ok" if action == "deliver" else "none", reason=reason
            )

        @rule(
            who=st.sampled_from(["enterprise", "school", "outsider"]),
            action=st.sampled_from(ACTIONS),
            etag=st.sampled_from(["current", "stale", "missing"]),
            graduates=st.sampled_from(GRADUATE_CHOICES),
        )
        def anything(self, who: str, action: str, etag: str, graduates: str) -> None:
            """Any caller, any action, any precondition, any graduate list: answered as documented."""
            self._send(who, action, etag=etag, graduates=graduates, reason=None)

        @invariant()
        def consistent(self) -> None:
            seen = fetch(client, p.school, self.id)
            history = seen["history"]
            assert (seen["status"], seen["version"]) == (self.status, self.version)
            assert history[: len(self.history)] == self.history, "history was rewritten"
            assert len(history) == self.version, "one history entry per version"
            assert [h["seq"] for h in history] == list(range(1, len(history) + 1))
            first = history[0]
            assert (first["action"], first["from"], first["to"]) == ("create", None, "proposed")
            for prev, entry in itertools.pairwise(history):
                assert entry["from"] == prev["to"]
                assert LIFECYCLE[(entry["from"], entry["action"])] == entry["to"]
                assert entry["time"] >= prev["time"]
            assert history[-1]["to"] == self.status
            assert bool(seen["deliveries"]) == (self.status == "delivered")
            self.history = history

        def teardown(self) -> None:
            reached[self.status] = reached.get(self.status, 0) + 1
            assert fetch(client, p.enterprise, self.id)["history"] == self.history

    run_state_machine_as_test(
        OrderMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            database=None,
            derandomize=True,  # the same sequences on every run: reproducible in CI
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # The sequences went well beyond the first step: orders were delivered, and ended other ways too.
    assert "delivered" in reached, reached
    assert len({"delivered", "rejected", "cancelled"} & set(reached)) >= 2, reached
