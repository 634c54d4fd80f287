"""What ``talentmatch demo`` posts: the bundled O*NET extract's occupations, and the demands,
programmes and graduates built from them (English and Chinese), all seeded so a rerun posts the same.

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "onet"
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
                "industry": "electricity",
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
