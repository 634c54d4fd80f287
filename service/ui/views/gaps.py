"""The gap report page of a school's programme (``service.gaps.service.stored_report``) and its CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import State

from service.curricula import service as curricula_service
from service.demands import repository as demands_repo
from service.demands import service as demands_service
from service.errors import NotFound
from service.gaps import service as gaps_service
from service.orgs.kinds import OrgKind
from service.orm import Demand, Organization, Program
from service.ui import charts
from service.ui.pages import blank, required_encoder
from service.ui.views.csv_export import csv_pct
from service.ui.views.filters import industry_options, region_options

DEMAND_CHOICES_LIMIT = 200


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


def gap_page(
    session: Session,
    app_state: State,
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
    if org.kind != OrgKind.school:
        raise NotFound(f"No programme {program_id}.")
    program = curricula_service.get_owned(session, org, program_id)
    demand_id, region, industry = blank(demand_id), blank(region), blank(industry)
    scope = scope if scope in ("demand", "region") else ("demand" if demand_id else "region")
    encoder = required_encoder(app_state)
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
        industries=industry_options(open_demands, industry),
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
    return quote(value, safe="")


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
