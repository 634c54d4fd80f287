"""Rich tables for ``talentmatch demo``: keys, the demands, a ranked match with evidence, a gap report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from service.demo.builder import DemoResult
from service.demo.content import CNC, ZH


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.0f} %" if isinstance(value, int | float) else "-"


def render(console: Console, result: DemoResult) -> None:
    keys = Table(
        title="Demo consortium: organisations and their API keys (shown once; only hashes are stored)"
    )
    keys.add_column("organisation", overflow="fold")
    keys.add_column("kind")
    keys.add_column("API key", no_wrap=True, min_width=45)
    for org in result.orgs:
        keys.add_row(org.name, org.kind, org.api_key)
    console.print(keys)

    demands = Table(title="Demands")
    for column in ("enterprise", "demand", "headcount", "skills (canonical id when the taxonomy knows it)"):
        demands.add_column(column, overflow="fold")
    names = {o.key_name: o.name for o in result.orgs}
    names[ZH] = names["machining"]  # its demand posted in Chinese
    for key, demand in result.demands.items():
        skills = "; ".join(
            f"{s['name']}{' *' if s.get('required') else ''}{' (inferred)' if s.get('inferred') else ''}"
            + (" ✓" if s.get("skill_id") else "")
            for s in demand["skills"]
        )
        demands.add_row(names[key], demand["title"], str(demand["headcount"]), skills)
    console.print(demands)
    console.print("  * required   ✓ recognised in the taxonomy   (inferred) taken from the job ad\n")

    if result.extracted:
        ad = Table(title="Skills inferred from the software company's job ad (blurb, benefits, EEO ignored)")
        for column in ("skill", "confidence", "evidence"):
            ad.add_column(column, overflow="fold")
        for skill in result.extracted[:12]:
            ad.add_row(skill["label"], f"{skill['score']:.2f}", skill["evidence"])
        console.print(ad)

    demand = result.demands["machining"]
    if result.match is not None:
        matches = result.match.get("matches", [])
        ranked = Table(
            title=f"Best graduates for “{demand['title']}” (model {result.match.get('model', '?')})"
        )
        for column in ("#", "graduate", "score", "met", "missing required"):
            ranked.add_column(column, overflow="fold")
        for rank, m in enumerate(matches, start=1):
            evidence = m.get("skills", [])
            met = sum(1 for e in evidence if e.get("status") == "met")
            ranked.add_row(
                str(rank),
                result.refs.get(m.get("graduate_id", ""), m.get("graduate_id", "")),
                _pct(m.get("score")),
                f"{met}/{len(evidence)}",
                ", ".join(m.get("missing_required", [])) or "-",
            )
        console.print(ranked)
        if matches:
            best = matches[0]
            detail = Table(title=f"Evidence for #1 ({result.refs.get(best.get('graduate_id', ''), '?')})")
            for column in ("demanded skill", "best evidence on the profile", "similarity", "status"):
                detail.add_column(column, overflow="fold")
            for e in best.get("skills", []):
                detail.add_row(
                    e.get("demand_skill", ""),
                    e.get("matched") or "-",
                    f"{float(e.get('similarity', 0)):.2f}",
                    e.get("status", ""),
                )
            console.print(detail)
    else:
        console.print(f"[yellow]match:[/yellow] {result.match_note}")

    program = result.programs[CNC]
    if result.gaps is not None:
        title = f"Gap report: programme “{program['name']}” against “{demand['title']}”"
        console.print(_gap_table(title, result.gaps))
    else:
        console.print(f"[yellow]gap report:[/yellow] {result.gap_note}")
    if result.cross_gaps is not None:
        zh_demand = result.demands[ZH]
        title = f"Across languages: programme “{program['name']}” against “{zh_demand['title']}”"
        console.print(_gap_table(title, result.cross_gaps))

    if result.orders:
        orders = Table(title="Training orders (订单班), one in every state")
        for column in ("enterprise", "school", "programme", "heads", "status"):
            orders.add_column(column, overflow="fold")
        programme_names = {key: p["name"] for key, p in result.programs.items()}
        for order in result.orders:
            orders.add_row(
                names[order["enterprise"]].removesuffix(" (demo)"),
                names[order["school"]].removesuffix(" (demo)"),
                programme_names.get(order["program_key"], "-"),
                str(order["headcount"]),
                str(order["status"]),
            )
        console.print(orders)

    summary = result.taxonomy
    console.print(
        f"taxonomy: O*NET {summary.version} ({summary.skills:,} skills, "
        f"{summary.embedded:,} labels embedded now); "
        f"{len(result.programs)} programmes, {result.graduates} graduates; built in {result.seconds:.1f} s"
        + (
            f"; replaced {result.removed_previous} earlier demo organisations"
            if result.removed_previous
            else ""
        ),
        highlight=False,
    )
    console.print(
        "Try it: [bold]talentmatch serve[/bold], then e.g. curl -H 'Authorization: Bearer <a key above>' "
        "localhost:8000/v1/demands",
        highlight=False,
    )
    console.print(
        "This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment "
        "and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of "
        "USDOL/ETA.",
        style="dim",
        highlight=False,
    )


def _gap_table(title: str, report: dict[str, Any]) -> Table:
    """A gap report's lines: skill, weight, coverage, status and the curriculum's evidence."""
    table = Table(title=f"{title} (coverage {_pct(report.get('coverage'))})")
    for column in ("skill", "weight", "coverage", "status", "evidence in the curriculum"):
        table.add_column(column, overflow="fold")
    for line in report.get("skills", []):
        evidence = line.get("evidence") or {}
        where = f"{evidence.get('course_title', '')}: {evidence.get('text', '')}" if evidence else "-"
        table.add_row(
            str(line.get("skill", "")),
            f"{float(line.get('weight', 0)):.2f}",
            _pct(line.get("coverage")),
            str(line.get("status", "")),
            where,
        )
    return table
