"""Talent demands posted by enterprises and research institutes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import changes
from service.db import is_writer
from service.demands import repository as repo
from service.demands.schemas import DemandCreate, DemandUpdate
from service.errors import NotFound, Unprocessable
from service.occupations import service as occupations
from service.orm import Demand, Organization
from service.schemas import SkillRequirement
from service.taxonomy.canonical import canonical_ids
from service.taxonomy.service import inferred_skill_rows


def skill_rows(
    session: Session, skills: list[SkillRequirement], *, inferred: bool = False
) -> list[dict[str, Any]]:
    ids = canonical_ids(session, [s.name for s in skills])
    return [{**s.model_dump(), "skill_id": ids[i], "inferred": inferred} for i, s in enumerate(skills)]


def _skills_and_occupation(session: Session, data: DemandCreate) -> tuple[list[dict[str, Any]], str | None]:
    """The demand's skill rows and occupation: the skills given; else the named occupation's (ESCO
    essential skills, CSCO tasks); else those the description names; else those of the occupation the
    title names. Proposed skills are marked ``inferred``; 422 when nothing can be proposed."""
    occupation = (
        occupations.occupation_for_demand(session, data.occupation_id) if data.occupation_id else None
    )
    occupation_id = occupation.occupation_id if occupation is not None else None
    if data.skills is not None:
        return skill_rows(session, data.skills), occupation_id
    if occupation is not None:
        return occupations.skills_for_occupation(session, occupation), occupation_id
    if data.description and data.description.strip():
        return inferred_skill_rows(session, data.description), None
    occupation = occupations.occupation_from_title(session, data.title)
    if occupation is None:
        message = (
            "No skills were given and the title names no imported occupation clearly; give `skills`, "
            "an `occupation_id` or a `description` to infer them from."
        )
        raise Unprocessable(
            message,
            extra={"errors": [{"loc": ["body", "skills"], "msg": message, "type": "value_error"}]},
        )
    return occupations.skills_for_occupation(session, occupation), occupation.occupation_id


def create(session: Session, org: Organization, data: DemandCreate) -> Demand:
    skills, occupation_id = _skills_and_occupation(session, data)
    demand = Demand(
        organization_id=org.id,
        title=data.title,
        description=data.description,
        region=data.region,
        industry=data.industry,
        headcount=data.headcount,
        deadline=data.deadline,
        status="open",
        skills=skills,
        occupation_id=occupation_id,
        version=1,
    )
    repo.add(session, demand)
    changes.bump(session, changes.DEMAND)
    return demand


def get_visible(session: Session, org: Organization, demand_id: str) -> Demand:
    demand = repo.get_visible(session, demand_id, org.id)
    if demand is None:
        raise NotFound(f"No demand {demand_id}.")
    return demand


def get_owned(session: Session, org: Organization, demand_id: str) -> Demand:
    demand = repo.get_owned(session, demand_id, org.id, lock=is_writer(session))
    if demand is None:
        raise NotFound(f"No demand {demand_id}.")
    return demand


def update(session: Session, demand: Demand, data: DemandUpdate) -> Demand:
    fields = data.model_dump(exclude_unset=True)
    for name in ("title", "headcount", "skills"):
        if name in fields and fields[name] is None:
            fields.pop(name)
    if "skills" in fields and data.skills is not None:
        demand.skills = skill_rows(session, data.skills)
        fields.pop("skills")
    if "status" in fields and fields["status"] is not None:
        demand.status = str(fields.pop("status"))
    else:
        fields.pop("status", None)
    for name, value in fields.items():
        setattr(demand, name, value)
    demand.version += 1
    session.flush()
    changes.bump(session, changes.DEMAND)
    return demand


def delete(session: Session, demand: Demand) -> None:
    repo.delete(session, demand)
    changes.bump(session, changes.DEMAND)
