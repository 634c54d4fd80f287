"""Talent demands posted by enterprises and research institutes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import changes
from service.demands import repository as repo
from service.demands.schemas import DemandCreate, DemandUpdate
from service.errors import NotFound
from service.orm import Demand, Organization
from service.schemas import SkillRequirement
from service.taxonomy.canonical import canonical_ids
from service.taxonomy.service import inferred_skill_rows


def skill_rows(
    session: Session, skills: list[SkillRequirement], *, inferred: bool = False
) -> list[dict[str, Any]]:
    ids = canonical_ids(session, [s.name for s in skills])
    return [{**s.model_dump(), "skill_id": ids[i], "inferred": inferred} for i, s in enumerate(skills)]


def create(session: Session, org: Organization, data: DemandCreate) -> Demand:
    demand = Demand(
        organization_id=org.id,
        title=data.title,
        description=data.description,
        region=data.region,
        industry=data.industry,
        headcount=data.headcount,
        deadline=data.deadline,
        status="open",
        skills=(
            skill_rows(session, data.skills)
            if data.skills is not None
            else inferred_skill_rows(session, data.description or "")
        ),
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
    demand = repo.get_owned(session, demand_id, org.id)
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
