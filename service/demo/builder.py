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

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import csv
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.settings import Settings

DATA = Path(__file__).resolve().parent / "data" / "onet"
DEMO_SUFFIX = " (demo)"
SEED = 20260601
CNC, MACHINIST, ELECTRICIAN, REPAIRER, SOFTWARE, ROBOTICS = (
    "51-9161.00",
    "51-4041.00",
    "47-2111.00",
    "49-2094.00",
    "15-1252.00",
    "17-3024.01",
)


@dataclass
class Occupation:
    code: str
    title: str
    description: str
    tasks: list[str] = field(default_factory=list)  # core tasks first, in O*NET's order
    tech: list[tuple[str, str, bool]] = field(default_factory=list)  # (example, class title, hot)


def load_occupations(folder: Path = DATA) -> dict[str, Occupation]:
    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))

    occupations = {
        r["O*NET-SOC Code"]: Occupation(r["O*NET-SOC Code"], r["Title"], r["Description"])
        for r in rows("Occupation Data.txt")
    }
    tasks = rows("Task Statements.txt")
    for r in sorted(tasks, key=lambda r: r["Task Type"] != "Core"):
        occupations[r["O*NET-SOC Code"]].tasks.append(r["Task"])
    for r in rows("Technology Skills.txt"):
        occupations[r["O*NET-SOC Code"]].tech.append(
            (r["Example"], r["Commodity Title"], r["Hot Technology"] == "Y")
        )
    return occupations


_CUT = re.compile(r";| using | such as | according to | in order to | to ensure | to determine | for ")
_TRAILING = frozenset(
    ["to", "or", "and", "of", "the", "a", "an", "for", "with", "in", "on", "by", "from", "as"]
)


def task_skill(task: str) -> str:
    """A skill phrase from a task statement: its first clause (of at least three words), at most eight
    words, without trailing function words, lower-cased."""
    text = task.rstrip(". ")
    for match in _CUT.finditer(text):
        if len(text[: match.start()].split()) >= 3:
            text = text[: match.start()]
            break
    words = text.split()[:8]
    words[-1] = words[-1].rstrip(",")
    while len(words) > 1 and words[-1].lower() in _TRAILING:
        words.pop()
        words[-1] = words[-1].rstrip(",")
    phrase = " ".join(words).rstrip(",")
    return phrase[:1].lower() + phrase[1:]


# Hot technologies of Software Developers in O*NET, as a job ad would list them.
SOFTWARE_STACK = ("Python", "Oracle Java", "Spring Boot", "MySQL", "Docker", "Linux")


def _typed_form(example: str, rng: random.Random) -> str:
    """How a person might type a tool name: without the vendor, or in lower case."""
    words = example.split()
    vendors = {"Microsoft", "Autodesk", "Oracle", "Adobe", "Dassault", "Siemens"}
    if len(words) == 2 and words[0] in vendors and rng.random() < 0.5:
        return words[1]
    if rng.random() < 0.2:
        return example.lower()
    return example


# -- what the demo posts -----------------------------------------------------------------------


def demand_bodies(occ: dict[str, Occupation]) -> list[tuple[str, dict[str, Any]]]:
    """(enterprise key, demand body) for the three enterprises."""
    cnc = occ[CNC]
    cnc_skills = [
        {"name": task_skill(t), "importance": imp, "level": 3 if i == 0 else None, "required": i < 2}
        for i, (t, imp) in enumerate(zip(cnc.tasks[:5], (5, 5, 4, 4, 3), strict=True))
    ] + [
        {"name": "Autodesk AutoCAD", "importance": 3},
        {"name": "Dassault Systemes SolidWorks", "importance": 2},
    ]
    elec = occ[ELECTRICIAN]
    rep = occ[REPAIRER]
    elec_skills = [
        {"name": task_skill(t), "importance": imp, "required": i == 0}
        for i, (t, imp) in enumerate(zip(elec.tasks[:4], (5, 4, 4, 3), strict=True))
    ] + [{"name": task_skill(t), "importance": 3} for t in rep.tasks[:2]]
    sw = occ[SOFTWARE]
    ad = (
        "About us\n"
        "Hefei Software Park Ltd. is a leading provider of industrial software, founded in 2009 and "
        "headquartered in Hefei. Our mission is to serve 500 factories across Anhui.\n\n"
        "Responsibilities\n"
        + "".join(f"- {t}\n" for t in sw.tasks[:5])
        + "\nRequirements\n"
        + f"- Experience with {', '.join(SOFTWARE_STACK[:-1])} and {SOFTWARE_STACK[-1]}.\n"
        "- Familiar with Git and JavaScript; able to write SQL queries.\n\n"
        "Benefits: competitive salary, five social insurances and one housing fund, paid annual leave.\n"
        "We are an equal opportunity employer and consider all applicants without regard to race, religion, "
        "gender, disability or veteran status.\n"
    )
    return [
        (
            "machining",
            {
                "title": "CNC machining technician",
                "description": cnc.description,
                "region": "Hefei",
                "industry": "manufacturing",
                "headcount": 12,
                "skills": cnc_skills,
            },
        ),
        (
            "grid",
            {
                "title": "Industrial electrician",
                "description": elec.description,
                "region": "Hefei",
                "industry": "energy",
                "headcount": 8,
                "skills": elec_skills,
            },
        ),
        (
            "software",
            {
                "title": "Junior software developer",
                "description": ad,
                "region": "Hefei",
                "industry": "software",
                "headcount": 20,
            },
        ),
    ]


def _courses(
    occ: Occupation, prefix: str, *, skip_tasks: set[int], tech_classes: int
) -> list[dict[str, Any]]:
    """Courses from an occupation: practice courses of three tasks each (some left out) and one
    course per technology class (its examples as skills)."""
    tasks = [t for i, t in enumerate(occ.tasks[:15]) if i not in skip_tasks]
    courses = []
    for n, start in enumerate(range(0, len(tasks), 3), start=1):
        group = tasks[start : start + 3]
        courses.append(
            {
                "code": f"{prefix}-P{n}",
                "title": f"{occ.title.split(',')[0]} practice {n}",
                "learning_outcomes": group,
                "skills": [task_skill(t) for t in group],
                "hours": 64,
            }
        )
    classes: dict[str, list[str]] = {}
    for example, title, _ in occ.tech:
        classes.setdefault(title, []).append(example)
    for n, (title, examples) in enumerate(
        sorted(classes.items(), key=lambda kv: -len(kv[1]))[:tech_classes], start=1
    ):
        courses.append(
            {
                "code": f"{prefix}-T{n}",
                "title": title[:1].upper() + title[1:],
                "learning_outcomes": [f"use {e}" for e in examples[:3]],
                "skills": examples[:5],
                "hours": 48,
            }
        )
    return courses


def program_bodies(occ: dict[str, Occupation]) -> list[tuple[str, str, dict[str, Any]]]:
    """(school key, occupation code, programme body)."""
    return [
        (
            "college",
            CNC,
            {
                "name": "CNC Technology",
                "code": "CNC-01",
                "description": "Three-year programme for CNC operators and machinists.",
                # Tasks 2 and 4 of the CNC occupation are not taught: they are the demand's gaps.
                "courses": _courses(occ[CNC], "CNC", skip_tasks={1, 3}, tech_classes=2)
                + _courses(occ[MACHINIST], "MCH", skip_tasks=set(range(6, 15)), tech_classes=0),
            },
        ),
        (
            "college",
            ELECTRICIAN,
            {
                "name": "Electrical Automation",
                "code": "EA-01",
                "courses": _courses(occ[ELECTRICIAN], "EA", skip_tasks={2}, tech_classes=2),
            },
        ),
        (
            "institute",
            SOFTWARE,
            {
                "name": "Software Technology",
                "code": "SW-01",
                "courses": _courses(occ[SOFTWARE], "SW", skip_tasks=set(), tech_classes=4),
            },
        ),
        (
            "institute",
            ROBOTICS,
            {
                "name": "Industrial Robotics",
                "code": "ROB-01",
                "courses": _courses(occ[ROBOTICS], "ROB", skip_tasks={0}, tech_classes=2),
            },
        ),
    ]


ZH = "zh"  # key of the Chinese demand and programme
ZH_DEMAND: dict[str, Any] = {
    "title": "数控车床操作工",
    "description": "负责数控车床的编程与操作，按图纸加工零件并完成质量检测。",
    "region": "Hefei",
    "industry": "manufacturing",
    "headcount": 6,
    "skills": [
        {"name": "数控车床操作", "importance": 5, "required": True},
        {"name": "G代码编程", "importance": 4},
        {"name": "机械制图识读", "importance": 4},
        {"name": "零件质量检测", "importance": 3},
        {"name": "设备日常维护", "importance": 2},
    ],
}
ZH_PROGRAM: dict[str, Any] = {
    "name": "数控技术（订单班）",
    "code": "CNC-ZH",
    "description": "面向合肥制造企业的数控技术专业，中文授课。",
    "courses": [
        {
            "code": "ZH-1",
            "title": "数控加工实训",
            "learning_outcomes": ["独立操作数控车床加工轴类零件", "编写并调试G代码程序"],
            "skills": ["数控车床操作", "G代码编程"],
            "hours": 96,
        },
        {
            "code": "ZH-2",
            "title": "机械制图",
            "learning_outcomes": ["识读机械零件图和装配图"],
            "skills": ["机械制图识读"],
            "hours": 64,
        },
        {
            "code": "ZH-3",
            "title": "Quality inspection with CMM",
            "learning_outcomes": ["measure parts with a coordinate measuring machine"],
            "skills": ["quality inspection"],
            "hours": 32,
        },
    ],
}
ZH_SKILLS = ("数控车床操作", "G代码编程", "机械制图识读", "零件质量检测", "设备日常维护", "CAD绘图", "Python")


def zh_graduate_bodies(count: int, prefix: str) -> list[dict[str, Any]]:
    """Graduates of the Chinese programme, named by its code, with skills typed in Chinese."""
    rng = random.Random(SEED + 1)
    return [
        {
            "external_ref": f"{prefix}-2026-ZH{n:04d}",
            "program_id": ZH_PROGRAM["code"],
            "graduation_year": 2026,
            "skills": [
                {"name": name, "level": rng.choice((3, 4, 5))}
                for name in rng.sample(ZH_SKILLS, rng.randint(3, 5))
            ],
            "certificates": ["数控车工（四级）"] if rng.random() < 0.5 else [],
        }
        for n in range(1, count + 1)
    ]


# (enterprise, school, programme key, demand key, actions that bring the order to its state)
ORDER_PLAN: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("machining", "college", CNC, "machining", ()),
    ("machining", "college", ZH, ZH, ("accept",)),
    ("grid", "college", ELECTRICIAN, "grid", ("accept", "start")),
    ("machining", "college", CNC, "machining", ("accept", "start", "deliver")),
    ("software", "institute", SOFTWARE, "software", ("reject",)),
    ("grid", "college", ELECTRICIAN, "grid", ("cancel",)),
)
SCHOOL_ACTIONS = frozenset({"accept", "reject", "start", "deliver"})


CERTIFICATES = {
    CNC: ["CNC machine operator (level 4)", "Machinist (intermediate)"],
    ELECTRICIAN: ["Low-voltage electrician licence", "Electrician (level 4)"],
    SOFTWARE: ["Software designer (intermediate)", "Web front-end development (1+X)"],
    ROBOTICS: ["Industrial robot operation and maintenance (1+X)"],
}


def graduate_bodies(
    occ: dict[str, Occupation], program_ids: dict[str, str], per_program: int, prefix: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Graduates per school key: skills from their programme's occupation (some from others)."""
    rng = random.Random(SEED)
    owners = {CNC: "college", ELECTRICIAN: "college", SOFTWARE: "institute", ROBOTICS: "institute"}
    pools: dict[str, list[str]] = {}
    for code, o in occ.items():
        pool = [task_skill(t) for t in o.tasks[:15]]
        pool += [e for e, _, hot in o.tech for _ in range(3 if hot else 1)][:60]
        pools[code] = pool
    pools[CNC] = pools[CNC] + pools[MACHINIST][:10]
    pools[ELECTRICIAN] = pools[ELECTRICIAN] + pools[REPAIRER][:8]
    everything = [p for pool in pools.values() for p in pool]
    out: dict[str, list[dict[str, Any]]] = {"college": [], "institute": []}
    for code, program_id in program_ids.items():
        school = owners[code]
        for n in range(1, per_program + 1):
            size = rng.randint(8, 14)
            names: dict[str, int | None] = {}
            while len(names) < size:
                phrase = rng.choice(everything if rng.random() < 0.15 else pools[code])
                typed = _typed_form(phrase, rng)
                if typed.lower() not in {k.lower() for k in names}:
                    names[typed] = rng.choice((2, 3, 3, 4, 4, 5, None))
            certificates = [c for c in CERTIFICATES.get(code, []) if rng.random() < 0.5]
            out[school].append(
                {
                    "external_ref": f"{prefix[school]}-2026-{code[:2]}{n:04d}",
                    "program_id": program_id,
                    "graduation_year": rng.choice((2025, 2026, 2026)),
                    "skills": [{"name": k, "level": v} for k, v in names.items()],
                    "certificates": certificates,
                }
            )
    return out


# -- running it --------------------------------------------------------------------------------


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
    from sqlalchemy import delete, select

    from service import changes
    from service.graduates import repository as graduates_repo
    from service.orm import Graduate, Organization

    with app.state.write_sessions() as session, session.begin():
        ids = list(session.scalars(select(Organization.id).where(Organization.name.endswith(DEMO_SUFFIX))))
        if not ids:
            return 0
        graduates = list(session.scalars(select(Graduate).where(Graduate.organization_id.in_(ids))))
        if graduates:
            seq = changes.bump(session, changes.GRADUATE)
            for graduate in graduates:
                graduates_repo.delete(session, graduate, seq)
        session.execute(delete(Organization).where(Organization.id.in_(ids)))
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
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.orgs import service as orgs_service
    from service.orgs.schemas import OrganizationCreate
    from service.taxonomy import service as taxonomy_service
    from service.taxonomy.importers import parse_onet

    began = time.perf_counter()
    step = progress or (lambda message: None)
    occ = load_occupations()
    quiet = settings.model_copy(update={"log_level": "WARNING", "rate_limit_per_minute": 1_000_000})
    app = create_app(quiet)
    with TestClient(app, raise_server_exceptions=True) as client:
        removed = remove_previous(app)
        step("importing the O*NET extract as the skills taxonomy")
        parsed = parse_onet(DATA, version="29.2-demo")
        summary = taxonomy_service.import_taxonomy(app.state.write_sessions, app.state.encoder, parsed)

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
        orders=orders,
        removed_previous=removed,
        seconds=time.perf_counter() - began,
    )
