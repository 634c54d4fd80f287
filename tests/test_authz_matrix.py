"""Authorization matrix, generated from the app's routes.

Every route × every caller (two organisations of each kind, no key, a revoked key, the admin key) ×
objects owned by other organisations: each call gets exactly the status the table below expects
(401, 403, 404 or the owner's success) and no response body, page or log line carries another
organisation's private data (seeded markers: graduate refs and skills, a closed demand, order notes,
API keys).

A route that is not in ``EXPECTATIONS`` fails ``test_every_route_is_in_the_matrix``: adding an endpoint
means adding one line here saying who may call it.

How an entry reads::

    ("PATCH", "/v1/demands/{demand_id}"): api(DEMAND_OWNERS, 200, owners=("enterprise-a",), ...)

``who`` are the organisation kinds allowed at all (others: 403), or ``PUBLIC`` / ``ADMIN``; ``owners``
are the world's organisations that own the object in the path (other allowed callers: 404, unless
``shared``: then they get the success too); ``ok`` is the success status. Callers run in a fixed
order, owners last, so a non-owner's successful write would show up as the owner's failure.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.ops.middleware import iter_routes
from tests.builders import (
    Org,
    admin_headers,
    demand_body,
    graduate_body,
    make_demand,
    make_graduate,
    make_org,
    make_program,
    program_body,
)

KINDS = ("enterprise", "school", "government", "research_institute")
ALL = frozenset(KINDS)
MEMBERS = frozenset({"enterprise", "school", "research_institute"})
DEMAND_OWNERS = frozenset({"enterprise", "research_institute"})
SCHOOL = frozenset({"school"})
PUBLIC = "public"
ADMIN = "admin"
TENANTS = tuple(f"{kind}-{x}" for kind in KINDS for x in "ab")
KEYLESS = ("anonymous", "revoked", "admin")
CALLERS = (*KEYLESS, *TENANTS)


# -- the world: two organisations of each kind, and objects the "-a" ones own ---------------------


@dataclass
class World:
    app: FastAPI
    client: TestClient
    orgs: dict[str, Org]
    keys: dict[str, str | None]
    params: dict[str, str]
    etags: dict[str, str]
    ids: dict[str, str]
    # text that must never reach a caller outside the set
    secrets: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    _ui: dict[str, TestClient] = field(default_factory=dict)

    def headers(self, caller: str) -> dict[str, str]:
        key = self.keys[caller]
        return {"Authorization": f"Bearer {key}"} if key else {}

    def ui_client(self, caller: str) -> TestClient:
        """A browser for ``caller``: its own cookie jar, signed in to the pages when it can be."""
        if caller not in self._ui:
            browser = TestClient(self.app, follow_redirects=False)
            browser.cookies.set("tm_csrf", _NONCE, path="/ui")
            key = self.keys[caller]
            if key:
                browser.post(
                    "/ui/sign-in",
                    data={"api_key": key, "csrf_token": self.csrf(browser), "next": "/ui/"},
                )
            self._ui[caller] = browser
        return self._ui[caller]

    def csrf(self, browser: TestClient) -> str:
        codec = self.app.state.ui_codec
        session = codec.loads(browser.cookies.get("tm_session"))
        return str(codec.csrf_token(session.nonce if session else _NONCE))


_NONCE = "matrix-test-nonce-0123456789"


def build_world(client: TestClient, app: FastAPI) -> World:
    marker = uuid.uuid4().hex[:12]
    orgs = {name: make_org(client, name.rsplit("-", 1)[0], f"{name} {marker}") for name in TENANTS}
    revoked = make_org(client, "school", "revoked school")
    r = client.post(f"/v1/organizations/{revoked.id}/api-keys?revoke_existing=true", headers=admin_headers())
    assert r.status_code == 201, r.text
    keys: dict[str, str | None] = {name: org.key for name, org in orgs.items()}
    keys.update({"anonymous": None, "revoked": revoked.key, "admin": admin_headers()["Authorization"][7:]})

    ent, school = orgs["enterprise-a"], orgs["school-a"]
    demand = make_demand(client, ent, title=f"open demand {marker}")
    closed = make_demand(client, ent, title=f"closed-{marker}-demand")
    r = client.patch(f"/v1/demands/{closed['id']}", json={"status": "closed"}, headers=ent.headers)
    assert r.status_code == 200, r.text
    make_demand(client, orgs["research_institute-a"])
    program = make_program(client, school)
    graduate = make_graduate(
        client,
        school,
        f"ref-{marker}-private",
        program_id=program["id"],
        skills=[{"name": f"skill-{marker}-private", "level": 3}, {"name": "CNC machining", "level": 4}],
    )
    make_graduate(client, orgs["school-b"], f"ref-{marker}-school-b")
    r = client.post(
        "/v1/training-orders",
        json={"school_id": school.id, "headcount": 2, "notes": f"notes-{marker}-order"},
        headers=ent.headers,
    )
    assert r.status_code == 201, r.text
    order = r.json()
    if ("POST", "/v1/demands/{demand_id}/matches") in app_routes(app):  # a stored result to read
        r = client.post(f"/v1/demands/{demand['id']}/matches", json={"top_k": 10}, headers=ent.headers)
        assert r.status_code == 200, r.text
    r = client.get(f"/v1/organizations/{ent.id}/api-keys", headers=admin_headers())
    key_id = r.json()[0]["id"]
    world = World(
        app=app,
        client=client,
        orgs=orgs,
        keys=keys,
        params={
            "demand_id": demand["id"],
            "program_id": program["id"],
            "graduate_id": graduate["id"],
            "order_id": order["id"],
            "organization_id": ent.id,
            "key_id": key_id,
            "rest": "no-such-page",
            "path": "ui.css",
        },
        etags={
            "demand": f'"{demand["version"]}"',
            "program": f'"{program["version"]}"',
            "graduate": f'"{graduate["version"]}"',
            "order": f'"{order["version"]}"',
        },
        ids={"closed_demand": closed["id"], "school_a": school.id, "marker": marker},
    )
    sees_graduate = frozenset({"school-a", "enterprise-a"})  # the owner; pseudonymously, matches
    world.secrets = [
        (f"ref-{marker}-private", frozenset({"school-a"})),
        (f"ref-{marker}-school-b", frozenset({"school-b"})),
        (f"skill-{marker}-private", sees_graduate),
        (graduate["id"], sees_graduate),
        (f"closed-{marker}-demand", frozenset({"enterprise-a"})),
        (f"notes-{marker}-order", frozenset({"enterprise-a", "school-a"})),
        *((org.key, frozenset()) for org in orgs.values()),
        (revoked.key, frozenset()),
    ]
    return world


# -- the table -------------------------------------------------------------------------------------

Make = Callable[[World], Any]


@dataclass(frozen=True)
class Case:
    who: frozenset[str] | str
    ok: int
    owners: tuple[str, ...] = ()
    shared: bool = False
    json: Make | None = None
    form: Make | None = None
    query: Make | None = None
    headers: Make | None = None
    params: Make | None = None
    expect: dict[str, int] = field(default_factory=dict)
    ui: bool = False  # a page: callers sign in with a cookie instead of sending their key
    wrong_kind: int = 403


def api(who: frozenset[str] | str, ok: int, **kw: Any) -> list[Case]:
    return [Case(who, ok, **kw)]


def page(who: frozenset[str] | str, ok: int, **kw: Any) -> list[Case]:
    return [Case(who, ok, ui=True, **kw)]


def if_match(name: str) -> Make:
    return lambda w: {"If-Match": w.etags[name]}


def csrf_form(**extra: Any) -> Make:
    return lambda w: {**extra, "__csrf__": True}


A_ENT = ("enterprise-a",)
A_SCHOOL = ("school-a",)
SIGNED_IN_OK = {caller: 303 for caller in KEYLESS}

EXPECTATIONS: dict[tuple[str, str], list[Case]] = {
    # operations and docs: public
    ("GET", "/healthz"): api(PUBLIC, 200),
    ("GET", "/readyz"): api(PUBLIC, 200),
    ("GET", "/metrics"): api(PUBLIC, 200),
    ("GET", "/openapi.json"): api(PUBLIC, 200),
    ("GET", "/docs"): api(PUBLIC, 200),
    ("GET", "/docs/oauth2-redirect"): api(PUBLIC, 200),
    ("GET", "/docs/assets/{path}"): api(PUBLIC, 200, params=lambda w: {"path": "swagger-ui.css"}),
    ("GET", "/redoc"): api(PUBLIC, 200),
    # organisations
    ("POST", "/v1/organizations"): api(ADMIN, 201, json=lambda w: {"name": "New", "kind": "school"}),
    ("GET", "/v1/organizations/me"): api(ALL, 200),
    ("GET", "/v1/organizations"): api(ALL, 200),
    ("GET", "/v1/organizations/{organization_id}/api-keys"): api(ADMIN, 200),
    ("POST", "/v1/organizations/{organization_id}/api-keys"): api(
        ADMIN, 201, query=lambda w: {"revoke_existing": "false"}
    ),
    ("DELETE", "/v1/organizations/{organization_id}/api-keys/{key_id}"): api(ADMIN, 200),
    # demands: open ones are readable by every member, closed ones only by their owner
    ("POST", "/v1/demands"): api(DEMAND_OWNERS, 201, json=lambda w: demand_body()),
    ("GET", "/v1/demands"): api(MEMBERS, 200),
    ("GET", "/v1/demands/{demand_id}"): [
        Case(MEMBERS, 200, owners=A_ENT, shared=True),
        Case(MEMBERS, 200, owners=A_ENT, params=lambda w: {"demand_id": w.ids["closed_demand"]}),
    ],
    ("PATCH", "/v1/demands/{demand_id}"): api(
        DEMAND_OWNERS, 200, owners=A_ENT, json=lambda w: {"headcount": 9}, headers=if_match("demand")
    ),
    ("DELETE", "/v1/demands/{demand_id}"): api(DEMAND_OWNERS, 204, owners=A_ENT, headers=if_match("demand")),
    # programmes: public within the consortium, written by their school
    ("POST", "/v1/programs"): api(SCHOOL, 201, json=lambda w: program_body()),
    ("GET", "/v1/programs"): api(MEMBERS, 200),
    ("GET", "/v1/programs/{program_id}"): api(MEMBERS, 200, owners=A_SCHOOL, shared=True),
    ("PATCH", "/v1/programs/{program_id}"): api(
        SCHOOL, 200, owners=A_SCHOOL, json=lambda w: {"name": "Renamed"}, headers=if_match("program")
    ),
    ("DELETE", "/v1/programs/{program_id}"): api(SCHOOL, 204, owners=A_SCHOOL, headers=if_match("program")),
    # graduates: personal data, the owning school only
    ("POST", "/v1/graduates"): api(SCHOOL, 201, json=lambda w: graduate_body("S-NEW")),
    ("POST", "/v1/graduates/bulk"): api(
        SCHOOL, 200, json=lambda w: {"graduates": [graduate_body("S-B1"), graduate_body("S-B2")]}
    ),
    ("GET", "/v1/graduates"): api(SCHOOL, 200),
    ("GET", "/v1/graduates/{graduate_id}"): api(SCHOOL, 200, owners=A_SCHOOL),
    ("PATCH", "/v1/graduates/{graduate_id}"): api(
        SCHOOL, 200, owners=A_SCHOOL, json=lambda w: {"graduation_year": 2027}, headers=if_match("graduate")
    ),
    ("DELETE", "/v1/graduates/{graduate_id}"): api(SCHOOL, 204, owners=A_SCHOOL),
    ("GET", "/v1/graduates/{graduate_id}/export"): api(SCHOOL, 200, owners=A_SCHOOL),
    # skills taxonomy: any organisation
    ("POST", "/v1/skills/normalize"): api(ALL, 200, json=lambda w: {"texts": ["CNC"], "top_k": 3}),
    ("POST", "/v1/skills/extract"): api(ALL, 200, json=lambda w: {"text": "Operate CNC machines."}),
    ("GET", "/v1/skills"): api(ALL, 200, query=lambda w: {"q": "cnc"}),
    ("GET", "/v1/skills/versions"): api(ALL, 200),
    # occupations: any organisation (none is imported here, so one occupation is 404 to everyone)
    ("POST", "/v1/occupations/normalize"): api(ALL, 200, json=lambda w: {"texts": ["CNC operator"]}),
    ("GET", "/v1/occupations"): api(ALL, 200, query=lambda w: {"q": "cnc"}),
    ("GET", "/v1/occupations/{occupation_id}"): api(
        ALL, 404, params=lambda w: {"occupation_id": "6-18-01-01"}
    ),
    # training orders: the two parties
    ("POST", "/v1/training-orders"): api(
        DEMAND_OWNERS, 201, json=lambda w: {"school_id": w.ids["school_a"], "headcount": 1}
    ),
    ("GET", "/v1/training-orders"): api(MEMBERS, 200),
    ("GET", "/v1/training-orders/{order_id}"): api(MEMBERS, 200, owners=("enterprise-a", "school-a")),
    ("POST", "/v1/training-orders/{order_id}/transitions"): api(
        MEMBERS,
        200,
        owners=("enterprise-a", "school-a"),
        json=lambda w: {"action": "accept"},
        headers=if_match("order"),
        expect={"enterprise-a": 409},  # a party, but accepting is the school's action
    ),
    # gap analysis: stored programmes and demands by their read rules; the stateless call for anyone
    ("GET", "/v1/programs/{program_id}/gaps"): [
        Case(MEMBERS, 200, owners=A_SCHOOL, shared=True, query=lambda w: {"region": "Hefei"}),
        Case(MEMBERS, 200, owners=A_ENT, query=lambda w: {"demand_id": w.ids["closed_demand"]}),
    ],
    ("POST", "/v1/gap-analysis"): api(
        ALL,
        200,
        json=lambda w: {
            "curriculum": {"courses": [{"title": "CNC machining practice"}]},
            "demand": {"skills": [{"name": "CNC machining"}]},
        },
    ),
    # insights: aggregates only, any member (the government included)
    ("GET", "/v1/insights/skills"): api(ALL, 200),
    ("GET", "/v1/insights/members"): api(ALL, 200),
    # matching: a demand's rankings for its owner, a graduate's for its school; stateless for anyone
    ("POST", "/v1/demands/{demand_id}/matches"): api(
        DEMAND_OWNERS, 200, owners=A_ENT, json=lambda w: {"top_k": 5}
    ),
    ("GET", "/v1/demands/{demand_id}/matches"): api(DEMAND_OWNERS, 200, owners=A_ENT),
    ("GET", "/v1/demands/{demand_id}/program-matches"): api(DEMAND_OWNERS, 200, owners=A_ENT),
    ("GET", "/v1/graduates/{graduate_id}/demand-matches"): api(SCHOOL, 200, owners=A_SCHOOL),
    ("POST", "/v1/match"): api(
        ALL,
        200,
        json=lambda w: {
            "demand": {"skills": [{"name": "CNC machining"}]},
            "candidates": [{"id": "c1", "skills": [{"name": "CNC lathe"}]}],
        },
    ),
    # pages (cookie sign-in); the same role rules, a 404 page for what is not the caller's
    ("GET", "/ui/static/{path}"): api(PUBLIC, 200),
    ("GET", "/ui/sign-in"): page(PUBLIC, 200, expect={t: 303 for t in TENANTS}),
    ("POST", "/ui/sign-in"): page(
        PUBLIC,
        303,
        form=lambda w: {"__csrf__": True, "__key__": True, "next": "/ui/"},
        expect={caller: 401 for caller in KEYLESS},
    ),
    ("POST", "/ui/sign-out"): page(PUBLIC, 303, form=csrf_form()),
    ("POST", "/ui/lang"): page(PUBLIC, 303, form=csrf_form(lang="en", next="/ui/")),
    ("GET", "/ui/"): page(ALL, 200, expect=SIGNED_IN_OK),
    ("GET", "/ui/dashboard"): page(ALL, 200, expect=SIGNED_IN_OK),
    ("GET", "/ui/{rest}"): page(PUBLIC, 404),
    ("GET", "/ui/programs/{program_id}/gaps"): page(
        ALL, 200, owners=A_SCHOOL, wrong_kind=404, expect=SIGNED_IN_OK
    ),
    ("GET", "/ui/programs/{program_id}/gaps.csv"): page(
        ALL, 200, owners=A_SCHOOL, wrong_kind=404, expect=SIGNED_IN_OK
    ),
    ("GET", "/ui/demands/{demand_id}/matches"): page(
        ALL, 200, owners=A_ENT, wrong_kind=404, expect=SIGNED_IN_OK
    ),
    ("GET", "/ui/demands/{demand_id}/matches.csv"): page(
        ALL, 200, owners=A_ENT, wrong_kind=404, expect=SIGNED_IN_OK
    ),
    ("POST", "/ui/demands/{demand_id}/matches"): page(
        ALL, 303, owners=A_ENT, wrong_kind=404, form=csrf_form(top_k="5"), expect=SIGNED_IN_OK
    ),
    # pages that do the work: the API's role rules, a 404 page for another kind or another's object
    ("GET", "/ui/demands/new"): page(DEMAND_OWNERS, 200, wrong_kind=404),
    ("POST", "/ui/demands/new"): page(
        DEMAND_OWNERS, 303, wrong_kind=404, form=csrf_form(title="New", headcount="2", skills="welding")
    ),
    ("GET", "/ui/demands"): page(MEMBERS, 200, wrong_kind=404),
    ("GET", "/ui/demands/{demand_id}"): [
        Case(MEMBERS, 200, owners=A_ENT, shared=True, ui=True, wrong_kind=404),
        Case(
            MEMBERS,
            200,
            owners=A_ENT,
            ui=True,
            wrong_kind=404,
            params=lambda w: {"demand_id": w.ids["closed_demand"]},
        ),
    ],
    ("GET", "/ui/demands/{demand_id}/edit"): page(DEMAND_OWNERS, 200, owners=A_ENT, wrong_kind=404),
    ("POST", "/ui/demands/{demand_id}/edit"): page(
        DEMAND_OWNERS,
        303,
        owners=A_ENT,
        wrong_kind=404,
        form=csrf_form(title="Renamed", headcount="3", skills="welding"),
    ),
    ("GET", "/ui/programs/new"): page(SCHOOL, 200, wrong_kind=404),
    ("POST", "/ui/programs/new"): page(SCHOOL, 303, wrong_kind=404, form=csrf_form(name="New programme")),
    ("GET", "/ui/programs/{program_id}"): page(SCHOOL, 200, owners=A_SCHOOL, wrong_kind=404),
    ("GET", "/ui/programs/{program_id}/edit"): page(SCHOOL, 200, owners=A_SCHOOL, wrong_kind=404),
    ("POST", "/ui/programs/{program_id}/edit"): page(
        SCHOOL, 303, owners=A_SCHOOL, wrong_kind=404, form=csrf_form(name="Renamed")
    ),
    ("GET", "/ui/programs/{program_id}/courses/new"): page(SCHOOL, 200, owners=A_SCHOOL, wrong_kind=404),
    ("POST", "/ui/programs/{program_id}/courses/new"): page(
        SCHOOL, 303, owners=A_SCHOOL, wrong_kind=404, form=csrf_form(title="New course", skills="welding")
    ),
    ("GET", "/ui/training-orders/new"): page(DEMAND_OWNERS, 200, wrong_kind=404),
    ("POST", "/ui/training-orders/new"): page(
        DEMAND_OWNERS,
        303,
        wrong_kind=404,
        form=lambda w: {"__csrf__": True, "school_id": w.ids["school_a"], "headcount": "1"},
    ),
    ("GET", "/ui/training-orders"): page(MEMBERS, 200, wrong_kind=404),
    ("GET", "/ui/training-orders/{order_id}"): page(
        MEMBERS, 200, owners=("enterprise-a", "school-a"), wrong_kind=404
    ),
    ("POST", "/ui/training-orders/{order_id}/transitions"): page(
        MEMBERS,
        303,
        owners=("enterprise-a", "school-a"),
        wrong_kind=404,
        form=csrf_form(action="accept", version="1"),
        expect={"enterprise-a": 409},  # a party, but accepting is the school's action
    ),
    ("GET", "/ui/graduates/import"): page(SCHOOL, 200, wrong_kind=404),
    ("POST", "/ui/graduates/import"): page(
        SCHOOL,
        200,
        wrong_kind=404,
        form=csrf_form(
            content=base64.b64encode(b"external_ref\nS-UI-1\n").decode(), filename="g.csv", confirm="1"
        ),
    ),
    ("GET", "/ui/keys"): page(ALL, 200),
    ("POST", "/ui/keys"): page(ALL, 201, form=csrf_form()),
    ("POST", "/ui/keys/{key_id}/revoke"): page(ALL, 303, owners=A_ENT, form=csrf_form()),
}


# -- running it ------------------------------------------------------------------------------------


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    out = set()
    for path, methods, _ in iter_routes(app):
        for method in methods - {"HEAD"} or {"GET"}:  # a mount (static files) has no methods: GET
            out.add((method, path))
    return out


def expected_status(case: Case, caller: str) -> int:
    if caller in case.expect:
        return case.expect[caller]
    if case.who == PUBLIC:
        return case.ok
    if case.who == ADMIN:
        if caller == "admin":
            return case.ok
        return 401 if caller == "anonymous" else 403
    if caller in KEYLESS:
        return 303 if case.ui else 401
    if caller.rsplit("-", 1)[0] not in case.who:
        return case.wrong_kind
    if not case.owners or caller in case.owners or case.shared:
        return case.ok
    return 404


def caller_order(case: Case) -> list[str]:
    others = [c for c in CALLERS if c not in case.owners]
    return [*others, *case.owners]


def call(world: World, case: Case, method: str, path: str, caller: str) -> Any:
    params = {**world.params, **(case.params(world) if case.params else {})}
    url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m.group(1)], path)
    query = case.query(world) if case.query else None
    headers = case.headers(world) if case.headers else {}
    if case.ui:
        browser = world.ui_client(caller)
        data = None
        if case.form is not None:
            data = dict(case.form(world))
            if data.pop("__csrf__", False):
                data["csrf_token"] = world.csrf(browser)
            if data.pop("__key__", False):
                data["api_key"] = world.keys[caller] or "not-a-key"
        return browser.request(method, url, params=query, data=data, headers=headers)
    return world.client.request(
        method,
        url,
        params=query,
        json=case.json(world) if case.json else None,
        headers={**world.headers(caller), **headers},
    )


def leaks(world: World, caller: str, text: str, sent: str) -> list[str]:
    """Secrets in a response that the caller may not see (an id it sent itself may be echoed)."""
    return [
        needle
        for needle, allowed in world.secrets
        if caller not in allowed and needle in text and needle not in sent
    ]


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = app_routes(app)
    missing = sorted(routes - EXPECTATIONS.keys())
    stale = sorted(EXPECTATIONS.keys() - routes)
    assert not missing, f"routes with no entry in tests/test_authz_matrix.py EXPECTATIONS: {missing}"
    assert not stale, f"EXPECTATIONS names routes the app does not have: {stale}"


def _cases() -> Iterable[Any]:
    for (method, path), cases in sorted(EXPECTATIONS.items()):
        for i, case in enumerate(cases):
            suffix = f" #{i + 1}" if len(cases) > 1 else ""
            yield pytest.param(method, path, case, id=f"{method} {path}{suffix}")


@pytest.mark.parametrize(("method", "path", "case"), list(_cases()))
def test_route_authorization(
    method: str,
    path: str,
    case: Case,
    client: TestClient,
    app: FastAPI,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if (method, path) not in app_routes(app):
        pytest.fail(f"{method} {path} is in EXPECTATIONS but not in the app")
    world = build_world(client, app)
    wrong: list[str] = []
    leaked: list[str] = []
    for caller in caller_order(case):
        response = call(world, case, method, path, caller)
        want = expected_status(case, caller)
        if response.status_code != want:
            wrong.append(f"{caller}: {response.status_code} (expected {want}) {response.text[:200]}")
        shown = response.text + " " + " ".join(response.headers.values())
        found = leaks(world, caller, shown, sent=str(response.request.url))
        if found:
            leaked.append(f"{caller}: {found}")
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)
    assert not leaked, f"{method} {path} showed private data:\n" + "\n".join(leaked)
    logs = capsys.readouterr().err + caplog.text
    personal = [needle for needle, _ in world.secrets[:4] if needle in logs]
    assert not personal, f"personal data in the logs of {method} {path}: {personal}"
