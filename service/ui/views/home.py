"""The home page: the organisation's objects and what it can do next."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.curricula import repository as programs_repo
from service.demands import repository as demands_repo
from service.embeddings.encoder import Encoder
from service.gaps import service as gaps_service
from service.insights import repository as insights_repo
from service.matching import service as matching_service
from service.orders import repository as orders_repo
from service.orders import service as orders_service
from service.orgs import repository as orgs_repo
from service.orgs.kinds import DEMAND_OWNER_KINDS, OrgKind
from service.orm import Demand, Organization, Program

HOME_LIST_LIMIT = 100
HOME_NEXT_LIMIT = 10


def home(session: Session, org: Organization, encoder: Encoder | None) -> dict[str, Any]:
    """The organisation's objects and what it can do next: orders awaiting its action, its open
    demands without a match run, its programmes with the largest gaps against the open demands;
    the government gets its region's figures."""
    programs: list[Program] = []
    demands: list[Demand] = []
    awaiting: list[Any] = []
    unmatched: list[Demand] = []
    largest_gaps: list[dict[str, Any]] = []
    figures: dict[str, int] | None = None
    if org.kind == OrgKind.school:
        programs = programs_repo.list_programs(session, limit=HOME_LIST_LIMIT, cursor=None, owner_id=org.id)
    if org.kind in DEMAND_OWNER_KINDS:
        demands = demands_repo.list_visible(
            session, organization_id=org.id, limit=HOME_LIST_LIMIT, cursor=None, owner_id=org.id
        )
        unmatched = [
            d for d in demands if d.status == "open" and matching_service.last_run(session, d) is None
        ][:HOME_NEXT_LIMIT]
    if org.kind != OrgKind.government:
        orders = orders_repo.list_for_party(
            session, organization_id=org.id, limit=HOME_LIST_LIMIT, cursor=None
        )
        # Cancelling is always possible; "awaiting" means an action that moves the order forward.
        awaiting = [
            v
            for v in orders_service.views(session, orders[:HOME_LIST_LIMIT], org)
            if any(a != "cancel" for a in v.allowed_actions)
        ][:HOME_NEXT_LIMIT]
    if programs and encoder is not None:
        open_demands = demands_repo.open_demands(session)
        if open_demands:
            for program in programs[:HOME_NEXT_LIMIT]:
                report = gaps_service.program_gaps(session, encoder, program, open_demands)
                largest_gaps.append({"program": program, "coverage": float(report["coverage"])})
            largest_gaps.sort(key=lambda g: g["coverage"])
    if org.kind == OrgKind.government:
        open_demands = demands_repo.open_demands(session, region=org.region or None)
        figures = {
            "demands": len(open_demands),
            "headcount": sum(d.headcount for d in open_demands),
            "programs": len(programs_repo.all_programs(session)),
            "orders": len(insights_repo.orders(session)),
        }
    names = {o.id: o.name for o in orgs_repo.list_orgs(session)} if awaiting else {}
    return {
        "programs": programs[:HOME_LIST_LIMIT],
        "demands": demands[:HOME_LIST_LIMIT],
        "awaiting": awaiting,
        "unmatched": unmatched,
        "largest_gaps": largest_gaps,
        "figures": figures,
        "names": names,
    }
