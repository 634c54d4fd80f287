"""A demand's matches page (``service.matching.service``: ``match_demand``, ``last_run``, ``run_view``,
under the same deadline as the API's matching routes) and its CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import State

from service.demands import service as demands_service
from service.errors import NotFound
from service.matching import service as matching_service
from service.matching.engine import engine_for
from service.ops.deadline import Deadline, use_deadline
from service.ops.metrics import observe_match, timed
from service.orgs import repository as orgs_repo
from service.orgs.kinds import DEMAND_OWNER_KINDS
from service.orm import Demand, Organization
from service.ui import charts
from service.ui.views.csv_export import csv_pct

MATRIX_CANDIDATES = 10


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
                    # another label of the same taxonomy skill: the tooltip names that skill
                    "same_skill": (ev.get("same_skill") or {}).get("label") if ev else None,
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


def run_matches(session: Session, app_state: State, org: Organization, demand_id: str, *, top_k: int) -> None:
    """Rank graduates for one of the organisation's demands and store the run (as the API's POST)."""
    demand = _owned_demand(session, org, demand_id)
    with use_deadline(Deadline(app_state.settings.match_timeout_seconds)), timed(observe_match):
        matching_service.match_demand(session, engine_for(app_state), demand, top_k=top_k, min_score=None)


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
