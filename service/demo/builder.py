"""``talentmatch demo``: a small but realistic consortium built from bundled O*NET data.

Everything goes through the public HTTP API, in process (the same app as ``talentmatch serve``, on the
configured database), except creating the organisations (done locally, as ``talentmatch org create``
does, so no admin key is needed):

- the bundled O*NET extract (six occupations, ``data/onet``) is imported as the skills taxonomy;
- a government, three enterprises and two schools; each enterprise posts one demand: two with skills
  taken from an occupation's core tasks and hot technologies, one from a job ad alone (skills inferred
  by ``POST /v1/skills/extract``; its company blurb and equal-opportunity statement produce none);
- each school posts two programmes whose courses come from an occupation's tasks and technology
  classes, with a few tasks left out on purpose (they show up as gaps);
- a few hundred graduates with skills drawn from their programme's occupation, some written as people
  type them ("Excel" for "Microsoft Excel", lower case), with levels and certificates;
- in Chinese too: a demand posted in Chinese, a programme whose courses are written in Chinese, and
  graduates whose skills are typed in Chinese (their programme named by its code);
- then a ranked match for one demand, the gap report of one programme against it, and training orders
  in every state (proposed, accepted, in_training, delivered, rejected, cancelled), each moved through
  ``POST /v1/training-orders/{id}/transitions`` with ``If-Match`` as a client would.

Running it again replaces the previous demo organisations (names ending in "(demo)") and their data.
What it posts is built in ``content.py``; this module runs it.

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from service import changes
from service.app import create_app
from service.demo import repository as demo_repo
from service.demo.content import (
    CNC,
    DATA,
    ORDER_PLAN,
    SCHOOL_ACTIONS,
    ZH,
    ZH_DEMAND,
    ZH_PROGRAM,
    demand_bodies,
    graduate_bodies,
    load_occupations,
    program_bodies,
    zh_graduate_bodies,
)
from service.graduates import repository as graduates_repo
from service.orgs import service as orgs_service
from service.orgs.schemas import OrganizationCreate
from service.settings import Settings
from service.taxonomy.importers import parse_onet
from service.taxonomy.importing import import_taxonomy

__all__ = ["CNC", "DATA", "ORGS", "ZH", "DemoError", "DemoOrg", "DemoResult", "build"]

DEMO_SUFFIX = " (demo)"


@dataclass
class DemoOrg:
    key_name: str
    name: str
    kind: str
    id: str = ""
    api_key: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


ORGS = (
    DemoOrg("government", "Hefei Municipal Education Bureau" + DEMO_SUFFIX, "government"),
    DemoOrg("machining", "Hefei Precision Machining Co." + DEMO_SUFFIX, "enterprise"),
    DemoOrg("grid", "Anhui Grid Electrical Services" + DEMO_SUFFIX, "enterprise"),
    DemoOrg("software", "Hefei Software Park Ltd." + DEMO_SUFFIX, "enterprise"),
    DemoOrg("college", "Hefei Vocational Technical College" + DEMO_SUFFIX, "school"),
    DemoOrg("institute", "Anhui Institute of Information Technology" + DEMO_SUFFIX, "school"),
)
INDUSTRY = {"machining": "manufacturing", "grid": "energy", "software": "software"}


@dataclass
class DemoResult:
    orgs: list[DemoOrg]
    taxonomy: Any
    demands: dict[str, dict[str, Any]]
    programs: dict[str, dict[str, Any]]
    graduates: int
    refs: dict[str, str]  # graduate id -> external_ref
    extracted: list[dict[str, Any]]
    match: dict[str, Any] | None
    match_note: str | None
    gaps: dict[str, Any] | None
    gap_note: str | None
    cross_gaps: dict[str, Any] | None  # the English CNC programme against the Chinese demand
    orders: list[dict[str, Any]]
    removed_previous: int
    seconds: float


class DemoError(Exception):
    pass


def _check(response: Any, what: str, expected: int = 200) -> Any:
    if response.status_code != expected:
        raise DemoError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    return response.json()


def remove_previous(app: Any) -> int:
    """Delete earlier demo organisations and everything they own (graduates leave tombstones)."""
    with app.state.write_sessions() as session, session.begin():
        ids = demo_repo.org_ids_named_ending(session, DEMO_SUFFIX)
        if not ids:
            return 0
        graduates = demo_repo.graduates_of(session, ids)
        if graduates:
            seq = changes.bump(session, changes.GRADUATE)
            for graduate in graduates:
                graduates_repo.delete(session, graduate, seq)
        demo_repo.delete_orgs(session, ids)
        changes.bump(session, changes.DEMAND)
        changes.bump(session, changes.PROGRAM)
    return len(ids)


def place_orders(
    client: Any,
    orgs: dict[str, DemoOrg],
    demands: dict[str, dict[str, Any]],
    programs: dict[str, dict[str, Any]],
    refs: dict[str, str],
) -> list[dict[str, Any]]:
    """One training order per state of ``ORDER_PLAN``, each moved there with If-Match."""
    delivered_program = programs[CNC]["id"]
    orders = []
    for enterprise, school, program_key, demand_key, actions in ORDER_PLAN:
        body = {
            "school_id": orgs[school].id,
            "program_id": programs[program_key]["id"],
            "demand_id": demands[demand_key]["id"],
            "headcount": 2,
        }
        order = _check(
            client.post("/v1/training-orders", json=body, headers=orgs[enterprise].headers), "order", 201
        )
        for action in actions:
            actor = orgs[school] if action in SCHOOL_ACTIONS else orgs[enterprise]
            transition: dict[str, Any] = {"action": action}
            if action == "reject":
                transition["reason"] = "No teaching capacity this term"
            if action == "deliver":
                listed = _check(
                    client.get("/v1/graduates", params={"limit": 100}, headers=orgs[school].headers),
                    "graduates",
                )["items"]
                graduates = [g["id"] for g in listed if g.get("program_id") == delivered_program][:2]
                transition["graduate_ids"] = graduates
            order = _check(
                client.post(
                    f"/v1/training-orders/{order['id']}/transitions",
                    json=transition,
                    headers={**actor.headers, "If-Match": f'"{order["version"]}"'},
                ),
                f"order {action}",
            )
        orders.append({**order, "enterprise": enterprise, "school": school, "program_key": program_key})
    return orders


def build(settings: Settings, *, per_program: int = 75, progress: Any = None) -> DemoResult:
    """Build the demo consortium in the configured database; see the module docstring."""
    began = time.perf_counter()
    step = progress or (lambda message: None)
    occ = load_occupations()
    quiet = settings.model_copy(update={"log_level": "WARNING", "rate_limit_per_minute": 1_000_000})
    app = create_app(quiet)
    with TestClient(app, raise_server_exceptions=True) as client:
        removed = remove_previous(app)
        step("importing the O*NET extract as the skills taxonomy")
        parsed = parse_onet(DATA, version="29.2-demo")
        summary = import_taxonomy(app.state.write_sessions, app.state.encoder, parsed)

        step("creating organisations")
        orgs = {o.key_name: DemoOrg(o.key_name, o.name, o.kind) for o in ORGS}
        with app.state.write_sessions() as session, session.begin():
            for org in orgs.values():
                data = OrganizationCreate.model_validate(
                    {
                        "name": org.name,
                        "kind": org.kind,
                        "region": "Hefei",
                        "industry": INDUSTRY.get(org.key_name),
                    }
                )
                created, key = orgs_service.create(session, data)
                org.id, org.api_key = created.id, key

        step("posting programmes")
        programs: dict[str, dict[str, Any]] = {}
        for school, code, body in program_bodies(occ):
            programs[code] = _check(
                client.post("/v1/programs", json=body, headers=orgs[school].headers), "programme", 201
            )

        programs[ZH] = _check(
            client.post("/v1/programs", json=ZH_PROGRAM, headers=orgs["college"].headers), "programme", 201
        )

        step("posting demands (one from a job ad alone, one in Chinese)")
        demands: dict[str, dict[str, Any]] = {}
        extracted: list[dict[str, Any]] = []
        for enterprise, body in demand_bodies(occ):
            demands[enterprise] = _check(
                client.post("/v1/demands", json=body, headers=orgs[enterprise].headers), "demand", 201
            )
            if "skills" not in body:
                extracted = _check(
                    client.post(
                        "/v1/skills/extract",
                        json={"text": body["description"]},
                        headers=orgs[enterprise].headers,
                    ),
                    "extract",
                )["skills"]
        demands[ZH] = _check(
            client.post("/v1/demands", json=ZH_DEMAND, headers=orgs["machining"].headers), "demand", 201
        )

        step(f"importing {per_program * 4} graduates")
        prefix = {"college": "HVTC", "institute": "AIIT"}
        by_school = graduate_bodies(
            occ, {c: p["id"] for c, p in programs.items() if c != ZH}, per_program, prefix
        )
        by_school["college"] += zh_graduate_bodies(max(3, per_program // 2), prefix["college"])
        refs: dict[str, str] = {}
        for school, rows in by_school.items():
            result = _check(
                client.post("/v1/graduates/bulk", json={"graduates": rows}, headers=orgs[school].headers),
                "graduates",
            )
            refs.update({item["id"]: item["external_ref"] for item in result["items"]})

        step("matching graduates to the CNC demand")
        demand = demands["machining"]
        match: dict[str, Any] | None = None
        match_note: str | None = None
        r = client.post(
            f"/v1/demands/{demand['id']}/matches", json={"top_k": 5}, headers=orgs["machining"].headers
        )
        if r.status_code == 200:
            match = r.json()
        else:
            match_note = (
                f"POST /v1/demands/{{id}}/matches answered {r.status_code}: matching is not available here"
            )

        step("gap report of the CNC programme against that demand")
        gaps: dict[str, Any] | None = None
        gap_note: str | None = None
        r = client.get(
            f"/v1/programs/{programs[CNC]['id']}/gaps",
            params={"demand_id": demand["id"]},
            headers=orgs["college"].headers,
        )
        if r.status_code == 200:
            gaps = r.json()
        else:
            gap_note = (
                f"GET /v1/programs/{{id}}/gaps answered {r.status_code}: gap analysis is not available here"
            )

        step("gap report of the same programme against the Chinese demand (across languages)")
        r = client.get(
            f"/v1/programs/{programs[CNC]['id']}/gaps",
            params={"demand_id": demands[ZH]["id"]},
            headers=orgs["college"].headers,
        )
        cross_gaps = r.json() if r.status_code == 200 else None

        step("training orders in every state")
        orders = place_orders(client, orgs, demands, programs, refs)

    return DemoResult(
        orgs=list(orgs.values()),
        taxonomy=summary,
        demands=demands,
        programs=programs,
        graduates=sum(len(v) for v in by_school.values()),
        refs=refs,
        extracted=extracted,
        match=match,
        match_note=match_note,
        gaps=gaps,
        gap_note=gap_note,
        cross_gaps=cross_gaps,
        orders=orders,
        removed_previous=removed,
        seconds=time.perf_counter() - began,
    )
