"""The consortium dashboard (``service.insights.service``: skill shortages, member contribution) and
the training orders' statuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import State

from service.demands import repository as demands_repo
from service.insights import repository as insights_repo
from service.insights import service as insights_service
from service.insights.schemas import MemberSort, SkillSort
from service.settings import Settings
from service.ui import charts
from service.ui.pages import blank, required_encoder
from service.ui.views.filters import industry_options, region_options

TOP_SHORTAGES = 10
ORDER_STAGES = ("proposed", "accepted", "in_training", "delivered")


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
    statuses = [status for _id, _e, _s, _hc, status in insights_repo.orders(session)]
    counts = {stage: statuses.count(stage) for stage in (*ORDER_STAGES, "rejected", "cancelled")}
    stages = []
    for i, stage in enumerate(ORDER_STAGES):
        reached = len(statuses) if i == 0 else sum(counts[s] for s in ORDER_STAGES[i:])
        stages.append((stage, reached))
    return stages, counts["rejected"], counts["cancelled"]


def dashboard_page(
    session: Session,
    app_state: State,
    settings: Settings,
    *,
    region: str | None,
    industry: str | None,
    t: Any,
    viewer: str | None = None,
) -> DashboardPage:
    """Aggregates only (any member may read them, the government included): top skill shortages,
    training orders by state, member contribution."""

    region, industry = blank(region), blank(industry)
    min_group = int(settings.insights_min_group)
    rows = insights_service.skill_rows(
        session,
        required_encoder(app_state),
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
        industries=industry_options(open_demands, industry),
        shortages=shortages,
        min_group=min_group,
        shortage_chart=shortage_chart,
        funnel=funnel,
        funnel_chart=funnel_chart,
        rejected=rejected,
        cancelled=cancelled,
        members=members,
    )
