"""SQL for demands."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from service import industries, regions
from service.orm import Demand
from service.pagination import paginate


def in_region(region: str) -> ColumnElement[bool]:
    """Demands in ``region``: any spelling of a division ("合肥", "合肥市", "Hefei", "340100") and the
    divisions inside it (合肥 takes in 蜀山区); a region in no list by its normal form."""
    code, key = regions.region_key(region)
    if code is not None:
        return Demand.region_code.startswith(regions.code_prefix(code), autoescape=True)
    return Demand.region_key == key


def in_industry(industry: str) -> ColumnElement[bool]:
    """Demands of ``industry``: any name of a GB/T 4754 section ("制造业", "制造", "Manufacturing"); an
    industry in no section by its normal form."""
    return Demand.industry_key == industries.industry_key(industry)[1]


def get_visible(session: Session, demand_id: str, organization_id: str) -> Demand | None:
    """A demand the caller may read: its own, or any open one."""
    demand = session.get(Demand, demand_id)
    if demand is None:
        return None
    if demand.organization_id != organization_id and demand.status != "open":
        return None
    return demand


def get_owned(session: Session, demand_id: str, organization_id: str, *, lock: bool = False) -> Demand | None:
    """``lock``: as :func:`service.curricula.repository.get_owned`."""
    demand = session.get(Demand, demand_id, with_for_update=True if lock else None)
    if demand is None or demand.organization_id != organization_id:
        return None
    return demand


def list_visible(
    session: Session,
    *,
    organization_id: str,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    region: str | None = None,
    industry: str | None = None,
    owner_id: str | None = None,
) -> list[Demand]:
    stmt = select(Demand).where(or_(Demand.status == "open", Demand.organization_id == organization_id))
    if status:
        stmt = stmt.where(Demand.status == status)
    if region:
        stmt = stmt.where(in_region(region))
    if industry:
        stmt = stmt.where(in_industry(industry))
    if owner_id:
        stmt = stmt.where(Demand.organization_id == owner_id)
    return list(session.scalars(paginate(stmt, Demand, limit, cursor)))


def open_demands(session: Session, *, region: str | None = None, industry: str | None = None) -> list[Demand]:
    stmt = select(Demand).where(Demand.status == "open")
    if region:
        stmt = stmt.where(in_region(region))
    if industry:
        stmt = stmt.where(in_industry(industry))
    return list(session.scalars(stmt.order_by(Demand.created_at, Demand.id)))


def add(session: Session, demand: Demand) -> None:
    session.add(demand)
    session.flush()


def delete(session: Session, demand: Demand) -> None:
    session.delete(demand)
    session.flush()
