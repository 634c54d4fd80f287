"""Helpers for page tests: read a form's CSRF token, sign in through the form, parse CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.builders import Org, make_demand, make_graduate, make_org, make_program

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: httpx.Client, org: Org, next_path: str = "/ui/") -> httpx.Response:
    """Sign in through the form, as a browser would; returns the redirect answer."""
    token = csrf_token(client.get("/ui/sign-in").text)
    response = client.post(
        "/ui/sign-in",
        data={"api_key": org.key, "csrf_token": token, "next": next_path},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def page_token(client: httpx.Client, path: str = "/ui/") -> str:
    """The CSRF token a signed-in page carries."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_token(response.text)


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV should start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# -- a small consortium -----------------------------------------------------------------------------

ORDERS = "/v1/training-orders"
# The lifecycle path (school actions) to each state an order can be left in.
ORDER_PATHS = {
    "proposed": [],
    "accepted": ["accept"],
    "in_training": ["accept", "start"],
    "delivered": ["accept", "start", "deliver"],
    "rejected": ["reject"],
    "cancelled": ["cancel"],
}


@dataclass
class Consortium:
    school: Org
    other_school: Org
    enterprise: Org
    other_enterprise: Org
    government: Org
    program: dict[str, Any]
    other_program: dict[str, Any]
    demand: dict[str, Any]
    second_demand: dict[str, Any]
    other_demand: dict[str, Any]
    graduate_ids: list[str]

    @property
    def orgs(self) -> list[Org]:
        return [self.school, self.other_school, self.enterprise, self.other_enterprise, self.government]


GRADUATE_SKILLS = [
    [("CNC machining", 4), ("read engineering drawings", 3), ("G-code programming", 3)],
    [("CNC machining", 3), ("quality inspection", 4)],
    [("operate CNC lathe", 4), ("engineering drawing", 3)],
    [("PLC programming", 4), ("electrical wiring", 3)],
    [("welding", 3), ("quality inspection", 2)],
    [("CNC machining", 5), ("G-code programming", 4), ("quality inspection", 3)],
    [("PLC programming", 3), ("industrial robot operation", 3)],
]


def _order(client: httpx.Client, c: Consortium, state: str) -> None:
    r = client.post(
        ORDERS,
        json={"school_id": c.school.id, "program_id": c.program["id"], "headcount": 2},
        headers={**c.enterprise.headers, "Idempotency-Key": f"ui-seed-{state}"},
    )
    assert r.status_code == 201, r.text
    order = r.json()
    for action in ORDER_PATHS[state]:
        body: dict[str, Any] = {"action": action}
        if action == "deliver":
            body["graduate_ids"] = c.graduate_ids[:2]
        r = client.post(
            f"{ORDERS}/{order['id']}/transitions",
            json=body,
            headers={**c.school.headers, "If-Match": f'"{order["version"]}"'},
        )
        assert r.status_code == 200, r.text
        order = r.json()
    assert order["status"] == state


def seed(client: httpx.Client, *, orders: bool = True) -> Consortium:
    """Two schools, two enterprises, a government; programmes, demands, graduates and one training
    order left in each state of the lifecycle."""
    school = make_org(client, "school", "Hefei Tech", region="Hefei")
    other_school = make_org(client, "school", "Anqing Vocational", region="Anqing")
    enterprise = make_org(client, "enterprise", "Hefei Auto Parts", region="Hefei")
    other_enterprise = make_org(client, "enterprise", "Wuhu Robotics", region="Wuhu")
    government = make_org(client, "government", "Hefei Education Bureau")
    program = make_program(client, school)
    other_program = make_program(client, other_school, name="Welding", code="WLD-1")
    demand = make_demand(client, enterprise)
    second_demand = make_demand(
        client,
        enterprise,
        title="PLC technician",
        industry="automation",
        skills=[
            {"name": "PLC programming", "importance": 5, "required": True},
            {"name": "electrical wiring", "importance": 3},
            {"name": "CNC machining", "importance": 2},
        ],
    )
    other_demand = make_demand(client, other_enterprise, title="Robot operator", region="Wuhu")
    graduate_ids = []
    for i, skills in enumerate(GRADUATE_SKILLS * 2):
        g = make_graduate(
            client,
            school,
            f"HT-2026-{i:03d}",
            program_id=program["id"],
            skills=[{"name": n, "level": lvl} for n, lvl in skills],
        )
        graduate_ids.append(g["id"])
    c = Consortium(
        school=school,
        other_school=other_school,
        enterprise=enterprise,
        other_enterprise=other_enterprise,
        government=government,
        program=program,
        other_program=other_program,
        demand=demand,
        second_demand=second_demand,
        other_demand=other_demand,
        graduate_ids=graduate_ids,
    )
    if orders:
        for state in ORDER_PATHS:
            _order(client, c, state)
    return c
