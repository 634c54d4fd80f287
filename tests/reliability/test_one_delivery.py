"""A graduate is delivered by at most one order, even when orders deliver it at the same moment."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.builders import make_org
from tests.orders.helpers import act, fetch, graduates, place_order
from tests.racing import race

ORDERS = 3


def test_parallel_deliveries_of_the_same_graduates_place_them_once(client: TestClient) -> None:
    ent = make_org(client, "enterprise", "Hefei Auto Parts")
    school = make_org(client, "school", "Hefei Tech")
    orders: list[dict[str, Any]] = []
    for _ in range(ORDERS):
        order = place_order(client, ent, school)
        for action in ("accept", "start"):
            r = act(client, school, order, action)
            assert r.status_code == 200, r.text
            order = r.json()
        orders.append(order)
    ids = graduates(client, school, 2)

    answers = race(client, ORDERS, lambda c, i: act(c, school, orders[i], "deliver", graduate_ids=ids))

    assert sorted(a.status_code for a in answers) == [200] + [422] * (ORDERS - 1), [a.text for a in answers]
    winner = next(orders[i]["id"] for i, a in enumerate(answers) if a.status_code == 200)
    for a in answers:
        if a.status_code == 422:
            body = a.json()
            assert body["errors"], body
            for error in body["errors"]:
                assert any(gid in error["msg"] for gid in ids), error
                assert winner in error["msg"], error
    delivered = [o["id"] for o in orders if fetch(client, school, o["id"])["deliveries"]]
    assert delivered == [winner]
    assert [fetch(client, school, o["id"])["status"] for o in orders].count("delivered") == 1
