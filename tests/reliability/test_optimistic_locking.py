"""If-Match is atomic: of ten concurrent changes made with one ETag, exactly one wins.

On PostgreSQL the ten requests all read the resource before any writes (tests/racing.py), the
interleaving in which a read-then-check lets every writer through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import Org, make_demand, make_graduate, make_org, make_program
from tests.orders.helpers import act, place_order
from tests.racing import race

N = 10


def _demand(client: TestClient) -> tuple[Org, str, Callable[[int], dict[str, Any]]]:
    ent = make_org(client, "enterprise")
    return ent, f"/v1/demands/{make_demand(client, ent)['id']}", lambda i: {"headcount": i + 1}


def _program(client: TestClient) -> tuple[Org, str, Callable[[int], dict[str, Any]]]:
    school = make_org(client, "school")
    return school, f"/v1/programs/{make_program(client, school)['id']}", lambda i: {"name": f"Programme {i}"}


def _graduate(client: TestClient) -> tuple[Org, str, Callable[[int], dict[str, Any]]]:
    school = make_org(client, "school")
    return (
        school,
        f"/v1/graduates/{make_graduate(client, school)['id']}",
        lambda i: {"graduation_year": 2000 + i},
    )


@pytest.mark.parametrize("make", [_demand, _program, _graduate], ids=["demand", "programme", "graduate"])
def test_parallel_patches_with_one_etag_one_wins(
    client: TestClient, make: Callable[[TestClient], tuple[Org, str, Callable[[int], dict[str, Any]]]]
) -> None:
    owner, url, body = make(client)
    headers = {**owner.headers, "If-Match": '"1"'}
    answers = race(client, N, lambda c, i: c.patch(url, json=body(i), headers=headers))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * (N - 1), statuses
    winner = next(a for a in answers if a.status_code == 200)
    final = client.get(url, headers=owner.headers)
    assert final.json() == winner.json()
    assert final.json()["version"] == 2
    assert all(
        a.headers["content-type"].startswith("application/problem+json")
        for a in answers
        if a.status_code == 412
    )


@pytest.mark.parametrize("make", [_demand, _program, _graduate], ids=["demand", "programme", "graduate"])
@pytest.mark.parametrize("if_match", [None, "*"])
def test_parallel_unconditional_patches_all_apply_in_turn(
    client: TestClient,
    make: Callable[[TestClient], tuple[Org, str, Callable[[int], dict[str, Any]]]],
    if_match: str | None,
) -> None:
    """Without a precondition (or with ``If-Match: *``) the caller asked for no version check: every
    change is applied, one after another, none refused as stale."""
    owner, url, body = make(client)
    headers = {**owner.headers, **({"If-Match": if_match} if if_match else {})}
    answers = race(client, N, lambda c, i: c.patch(url, json=body(i), headers=headers))
    assert sorted(a.status_code for a in answers) == [200] * N, [
        a.text for a in answers if a.status_code != 200
    ]
    assert sorted(a.json()["version"] for a in answers) == list(range(2, N + 2))
    assert client.get(url, headers=owner.headers).json()["version"] == N + 1


def test_parallel_order_transitions_with_one_etag_one_wins(client: TestClient) -> None:
    ent = make_org(client, "enterprise")
    school = make_org(client, "school")
    order = place_order(client, ent, school)
    answers = race(client, N, lambda c, i: act(c, school, order, "accept", reason=f"capacity {i}"))
    assert sorted(a.status_code for a in answers) == [200] + [412] * (N - 1)
    final = client.get(f"/v1/training-orders/{order['id']}", headers=ent.headers).json()
    assert (final["status"], final["version"]) == ("accepted", 2)
    assert [h["action"] for h in final["history"]] == ["create", "accept"]
