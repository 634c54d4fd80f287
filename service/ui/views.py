"""What each page shows, read through the domain services the JSON API uses (no rule lives here twice):

- gap report: ``service.gaps.service.stored_report`` / ``program_gaps``;
- matches: ``service.matching.service`` (``match_demand``, ``last_run``, ``run_view``), under the
  same deadline as the API's matching routes;
- dashboard: ``service.insights.service`` (skill shortages, member contribution) and the training
  orders' statuses.

Role rules are those of the API, applied by the same lookups: a programme's page is for its owning
school (``curricula.service.get_owned``), a demand's matches for its owner (``demands.service.get_owned``);
anything else raises ``NotFound`` and becomes the 404 page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from service import regions
from service.curricula import repository as programs_repo
from service.curricula import service as curricula_service
from service.demands import repository as demands_repo
from service.demands import service as demands_service
from service.errors import NotFound, ServiceUnavailable
from service.matching import service as matching_service
from service.ops.deadline import Deadline, use_deadline
from service.ops.metrics import observe_match, timed
from service.orgs.kinds import DEMAND_OWNER_KINDS, OrgKind
from service.orm import Demand, Organization, Program
from service.ui import charts

HOME_LIST_LIMIT = 100
HOME_NEXT_LIMIT = 10
DEMAND_CHOICES_LIMIT = 200
TOP_SHORTAGES = 10
MATRIX_CANDIDATES = 10

ORDER_STAGES = ("proposed", "accepted", "in_training", "delivered")


def region_options(demands: list[Demand], current: str | None) -> list[str]:
    """One option per region, however its demands spell it: the division's standard name (合肥市) or
    the text; the spelling in use (``current``) stands for its own region, so it shows as selected."""
    options: dict[str, str] = {}
    for d in demands:
        if d.region and d.region_key and d.region_key not in options:
            options[d.region_key] = d.region_name or d.region
    key = regions.region_key(current)[1]
    if current and key in options:
        options[key] = current
    return sorted(options.values())


def _encoder(app_state: Any) -> Any:
    encoder = getattr(app_state, "encoder", None)
    if encoder is None:
        raise ServiceUnavailable("The encoder is not loaded.")
    return encoder


# -- home ------------------------------------------------------------------------------------------


def home(session: Session, org: Organization, app_state: Any = None) -> dict[str, Any]:
    """The organisation's objects and what it can do next: orders awaiting its action, its open
    demands without a match run, its programmes with the largest gaps against the open demands;
    the government gets its region's figures."""
    from service.orders import repository as orders_repo
    from service.orders import service as orders_service
    from service.orgs import repository as orgs_repo

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
    encoder = getattr(app_state, "encoder", None)
    if programs and encoder is not None:
        from service.gaps import service as gaps_service

        open_demands = demands_repo.open_demands(session)
        if open_demands:
            for program in programs[:HOME_NEXT_LIMIT]:
                report = gaps_service.program_gaps(session, encoder, program, open_demands)
                largest_gaps.append({"program": program, "coverage": float(report["coverage"])})
            largest_gaps.sort(key=lambda g: g["coverage"])
    if org.kind == OrgKind.government:
        from service.insights import repository as insights_repo

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


# -- gap report ------------------------------------------------------------------------------------


@dataclass
class GapPage:
    program: Program
    report: dict[str, Any]
    scope: str  # "demand" or "region"
    demand: Demand | None
    region: str | None
    industry: str | None
    demand_choices: list[Demand]
    regions: list[str]
    industries: list[str]
    query: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: Markup = field(default_factory=Markup)


def _blank(value: str | None) -> str | None:
    value = value.strip() if value else None
    return value or None


def gap_page(
    session: Session,
    app_state: Any,
    org: Organization,
    program_id: str,
    *,
    scope: str | None,
    demand_id: str | None,
    region: str | None,
    industry: str | None,
    t: Any,
) -> GapPage:
    """The gap report of one of the school's own programmes, scoped to one demand or to the open
    demands of a region and industry (no filter: those of the school's own region and industry)."""
    from service.gaps import service as gaps_service

    if org.kind != OrgKind.school:
        raise NotFound(f"No programme {program_id}.")
    program = curricula_service.get_owned(session, org, program_id)
    demand_id, region, industry = _blank(demand_id), _blank(region), _blank(industry)
    scope = scope if scope in ("demand", "region") else ("demand" if demand_id else "region")
    encoder = _encoder(app_state)
    open_demands = demands_repo.open_demands(session)
    demand: Demand | None = None
    if scope == "demand" and demand_id:
        report = gaps_service.stored_report(
            session, encoder, org, program, demand_id=demand_id, region=None, industry=None
        )
        demand = demands_service.get_visible(session, org, demand_id)
        region = industry = None
    elif region or industry:
        scope = "region"
        report = gaps_service.stored_report(
            session, encoder, org, program, demand_id=None, region=region, industry=industry
        )
    else:
        # No filter: the open demands of the school's own region (and industry), as the API does.
        scope = "region"
        report = gaps_service.stored_report(
            session, encoder, org, program, demand_id=None, region=None, industry=None
        )
        region, industry = report["scope"]["region"], report["scope"]["industry"]
    query = (
        f"scope=demand&demand_id={_q(demand.id)}"
        if demand is not None
        else f"scope=region&region={_q(region or '')}&industry={_q(industry or '')}"
    )
    page = GapPage(
        program=program,
        report=report,
        scope=scope,
        demand=demand,
        region=region,
        industry=industry,
        demand_choices=sorted(open_demands, key=lambda d: d.created_at, reverse=True)[:DEMAND_CHOICES_LIMIT],
        regions=region_options(open_demands, region),
        industries=sorted({d.industry for d in open_demands if d.industry}),
        query=query,
    )
    page.rows = [dict(s) for s in report.get("skills", [])]
    page.chart = charts.hbar_chart(
        [
            charts.BarRow(
                label=row["skill"],
                total=float(row["weight"]),
                filled=float(row["weight"]) * float(row["coverage"]),
                note=f"{charts.pct(row['coverage'])} · {charts.STATUS_SYMBOL[row['status']]} "
                f"{t('status_' + row['status'])}",
                emphasis=row["status"] == "gap",
                key=row["skill"],
            )
            for row in page.rows
        ],
        chart_id="gap-chart",
        title=t("chart_gaps"),
        desc=t("chart_gaps_desc"),
    )
    return page


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def csv_pct(value: float | None) -> str:
    """A share in a CSV: a percentage with one decimal."""
    return "" if value is None else f"{float(value) * 100:.1f}%"


def gap_csv_rows(page: GapPage, t: Any) -> list[list[Any]]:
    """The gap report's table in the page's language: headers, status values, coverage in %."""
    rows: list[list[Any]] = [
        [
            t("skill"),
            t("csv_aliases"),
            t("weight"),
            t("headcount"),
            t("coverage"),
            t("status"),
            t("csv_course_id"),
            t("evidence"),
            t("evidence_text"),
            t("csv_nearest_course"),
        ]
    ]
    for s in page.rows:
        evidence = s.get("evidence") or {}
        nearest = s.get("nearest_course") or {}
        rows.append(
            [
                s["skill"],
                "; ".join(s.get("aliases") or []),
                round(float(s["weight"]), 4),
                s.get("headcount", ""),
                csv_pct(s["coverage"]),
                t("status_" + s["status"]),
                evidence.get("course_id") or "",
                evidence.get("course_title") or "",
                evidence.get("text") or "",
                nearest.get("course_title") or "",
            ]
        )
    return rows


# -- a demand's matches -----------------------------------------------------------------------------


@dataclass
class MatchesPage:
    demand: Demand
    result: dict[str, Any] | None
    model: str = ""
    run_at: str = ""
    top_k: int = 10
    candidates: list[dict[str, Any]] = field(default_factory=list)
    matrix_candidates: list[dict[str, Any]] = field(default_factory=list)
    matrix: list[dict[str, Any]] = field(default_factory=list)
    chart: Markup = field(default_factory=Markup)


def _owned_demand(session: Session, org: Organization, demand_id: str) -> Demand:
    if org.kind not in DEMAND_OWNER_KINDS:
        raise NotFound(f"No demand {demand_id}.")
    return demands_service.get_owned(session, org, demand_id)


def pseudonym(graduate_id: str) -> str:
    """How a candidate is shown: a short form of the graduate's opaque id, nothing personal."""
    return "G-" + graduate_id.replace("-", "")[:8]


def _stored_matches(session: Session, demand: Demand) -> dict[str, Any] | None:
    """The demand's last stored run in the API's shape (``GET /v1/demands/{id}/matches``), or None."""
    run = matching_service.last_run(session, demand)
    return None if run is None else matching_service.run_view(session, run)


def matches_page(session: Session, org: Organization, demand_id: str, *, t: Any) -> MatchesPage:
    """The last stored match run of one of the organisation's own demands."""
    from service.orgs import repository as orgs_repo

    demand = _owned_demand(session, org, demand_id)
    result = _stored_matches(session, demand)
    page = MatchesPage(demand=demand, result=result)
    if result is None:
        return page
    page.model = str(result.get("model") or "")
    created = result.get("created_at")
    page.run_at = created.strftime("%Y-%m-%d %H:%M UTC") if isinstance(created, datetime) else ""
    page.top_k = int(result.get("top_k") or 10)
    schools: dict[str, str] = {}
    for rank, m in enumerate(result.get("matches") or [], start=1):
        school_id = str(m["school_id"])
        if school_id not in schools:
            school = orgs_repo.get(session, school_id)
            schools[school_id] = school.name if school is not None else school_id
        page.candidates.append(
            {
                "rank": rank,
                "graduate_id": str(m["graduate_id"]),
                "label": pseudonym(str(m["graduate_id"])),
                "school_id": school_id,
                "school": schools[school_id],
                "score": float(m["score"]),
                "missing_required": list(m.get("missing_required") or []),
                "skills": list(m.get("skills") or []),
            }
        )
    page.matrix_candidates = page.candidates[:MATRIX_CANDIDATES]
    skill_names = [str(s["name"]) for s in demand.skills or []]
    for c in page.candidates:
        for ev in c["skills"]:
            if ev["demand_skill"] not in skill_names:
                skill_names.append(str(ev["demand_skill"]))
    for name in skill_names:
        cells = []
        for c in page.matrix_candidates:
            ev = next((e for e in c["skills"] if e["demand_skill"] == name), None)
            cells.append(
                {
                    "status": ev["status"] if ev else "missing",
                    "similarity": float(ev["similarity"]) if ev else 0.0,
                    "matched": ev.get("matched") if ev else None,
                }
            )
        page.matrix.append({"skill": name, "cells": cells})
    page.chart = charts.hbar_chart(
        [
            charts.BarRow(
                label=f"#{c['rank']} {c['label']}",
                total=1.0,
                filled=c["score"],
                note=f"{charts.pct(c['score'])} · {c['school']}",
                key=c["graduate_id"],
            )
            for c in page.candidates
        ],
        chart_id="score-chart",
        title=t("chart_scores"),
        desc=t("chart_scores_desc"),
        hatch_remainder=False,
        scale_max=1.0,
        extra_class="scores",
    )
    return page


def run_matches(session: Session, app_state: Any, org: Organization, demand_id: str, *, top_k: int) -> None:
    """Rank graduates for one of the organisation's demands and store the run (as the API's POST)."""
    demand = _owned_demand(session, org, demand_id)
    with use_deadline(Deadline(app_state.settings.match_timeout_seconds)), timed(observe_match):
        matching_service.match_demand(
            session, matching_service.engine_for(app_state), demand, top_k=top_k, min_score=None
        )


def matches_csv_rows(page: MatchesPage, t: Any) -> list[list[Any]]:
    """The ranked candidates in the page's language: headers, status values, scores in %."""
    skills = [row["skill"] for row in page.matrix]
    rows: list[list[Any]] = [
        [
            t("rank"),
            t("csv_graduate_id"),
            t("csv_school_id"),
            t("school"),
            t("score"),
            t("missing_required"),
            *[t("csv_similarity", skill=s) for s in skills],
            *[t("csv_skill_status", skill=s) for s in skills],
        ]
    ]
    for c in page.candidates:
        by_skill = {e["demand_skill"]: e for e in c["skills"]}
        rows.append(
            [
                c["rank"],
                c["graduate_id"],
                c["school_id"],
                c["school"],
                csv_pct(c["score"]),
                "; ".join(c["missing_required"]),
                *[round(float(by_skill[s]["similarity"]), 4) if s in by_skill else "" for s in skills],
                *[t("ev_" + (by_skill[s]["status"] if s in by_skill else "missing")) for s in skills],
            ]
        )
    return rows


# -- CSV -------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese text correctly."""
    body = ("\ufeff" + csv_text(rows)).encode("utf-8")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- consortium dashboard --------------------------------------------------------------------------


@dataclass
class DashboardPage:
    region: str | None
    industry: str | None
    regions: list[str]
    industries: list[str]
    shortages: list[Any]
    min_group: int
    shortage_chart: Markup
    funnel: list[charts.FunnelStage]
    funnel_chart: Markup
    rejected: int
    cancelled: int
    members: list[Any]


def order_funnel(session: Session) -> tuple[list[tuple[str, int]], int, int]:
    """Orders at or past each stage of the lifecycle (proposed → accepted → in training → delivered),
    from the orders' current states; rejected and cancelled orders count only as placed."""
    from service.insights import repository as insights_repo

    statuses = [status for _id, _e, _s, _hc, status in insights_repo.orders(session)]
    counts = {stage: statuses.count(stage) for stage in (*ORDER_STAGES, "rejected", "cancelled")}
    stages = []
    for i, stage in enumerate(ORDER_STAGES):
        reached = len(statuses) if i == 0 else sum(counts[s] for s in ORDER_STAGES[i:])
        stages.append((stage, reached))
    return stages, counts["rejected"], counts["cancelled"]


def dashboard_page(
    session: Session,
    app_state: Any,
    settings: Any,
    *,
    region: str | None,
    industry: str | None,
    t: Any,
    viewer: str | None = None,
) -> DashboardPage:
    """Aggregates only (any member may read them, the government included): top skill shortages,
    training orders by state, member contribution."""
    from service.insights import service as insights_service
    from service.insights.schemas import MemberSort, SkillSort

    region, industry = _blank(region), _blank(industry)
    min_group = int(settings.insights_min_group)
    rows = insights_service.skill_rows(
        session,
        _encoder(app_state),
        region=region,
        industry=industry,
        min_group=min_group,
        viewer=viewer,
        app_state=app_state,
    )
    shortages = insights_service.sort_skills(rows, SkillSort.shortage, min_group)[:TOP_SHORTAGES]
    bars = []
    for s in shortages:
        if s.graduates is None:
            note = t("suppressed", n=min_group)
        elif s.shortage is not None and s.shortage > 0:
            note = t("short_by", n=s.shortage)
        else:
            note = t("surplus", n=-(s.shortage or 0))
        bars.append(
            charts.BarRow(
                label=s.skill,
                total=float(s.demanded_headcount),
                filled=float(s.graduates or 0),
                note=note,
                emphasis=s.shortage is not None and s.shortage > 0,
                unknown=s.graduates is None,
                key=s.skill,
            )
        )
    shortage_chart = charts.hbar_chart(
        bars, chart_id="shortage-chart", title=t("top_shortages"), desc=t("chart_shortages_desc")
    )
    stages, rejected, cancelled = order_funnel(session)
    funnel = [charts.FunnelStage(label=t("funnel_" + key), count=n, key=key) for key, n in stages]
    funnel_chart = charts.funnel_chart(
        funnel, chart_id="funnel-chart", title=t("orders_funnel"), desc=t("chart_funnel_desc")
    )
    members = insights_service.sort_members(insights_service.member_rows(session), MemberSort.name)
    open_demands = demands_repo.open_demands(session)
    return DashboardPage(
        region=region,
        industry=industry,
        regions=region_options(open_demands, region),
        industries=sorted({d.industry for d in open_demands if d.industry}),
        shortages=shortages,
        min_group=min_group,
        shortage_chart=shortage_chart,
        funnel=funnel,
        funnel_chart=funnel_chart,
        rejected=rejected,
        cancelled=cancelled,
        members=members,
    )
