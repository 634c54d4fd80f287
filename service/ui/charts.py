"""Server-side SVG charts: pure functions from numbers to markup, no JavaScript, nothing fetched.

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``; each bar is one
``<rect class="bar ...">`` carrying its numbers in ``data-*`` attributes, and a text label beside it
repeats the value and the status in words, so colour is never the only carrier of meaning (the
uncovered part of a bar is also hatched). Pages add a data table with the same numbers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

STATUS_SYMBOL = {"covered": "✓", "partial": "◐", "gap": "✗", "met": "✓", "missing": "✗"}

WIDTH = 800
LABEL_W = 250
NOTE_W = 190
ROW_H = 30
BAR_H = 18
TOP = 8
# What fits the label and note columns at 13 px: half-width units (a CJK character is two).
LABEL_UNITS = 34
NOTE_UNITS = 26


@dataclass(frozen=True)
class BarRow:
    """One horizontal bar: ``total`` is its full length, ``filled`` the solid part of it."""

    label: str
    total: float
    filled: float
    note: str
    emphasis: bool = False  # the note in bold: a gap, a shortage
    unknown: bool = False  # the filled part is not published (a suppressed count): drawn dashed, no hatch
    key: str = ""  # a stable machine-readable value for data-key (a skill name, a candidate id)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _units(char: str) -> int:
    """Rough display width in half-width units: CJK and other wide characters count twice."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _short(text: str, limit: int = 28) -> str:
    """``text`` cut to about ``limit`` half-width units (a CJK character counts two), with "…"."""
    if sum(_units(c) for c in text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        used += _units(char)
        if used > limit - 1:
            break
        out.append(char)
    return "".join(out).rstrip() + "…"


def _text(cls: str, x: float, y: float, text: str, limit: int, anchor: str = "") -> str:
    """An SVG text, shortened to fit its column; the full text is its tooltip (``<title>``)."""
    short = _short(text, limit)
    tip = f"<title>{escape(text)}</title>" if short != text or cls == "label" else ""
    anchor_attr = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text class="{cls}" x="{x}" y="{y}"{anchor_attr}>{tip}{escape(short)}</text>'


def _hatch(pattern_id: str) -> str:
    return (
        f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="hatch-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="hatch-line" stroke-width="3"/></pattern>'
    )


def hbar_chart(
    rows: Sequence[BarRow],
    *,
    chart_id: str,
    title: str,
    desc: str,
    hatch_remainder: bool = True,
    scale_max: float | None = None,
    extra_class: str = "",
) -> Markup:
    """Horizontal bars, one per row; the part of ``total`` beyond ``filled`` is hatched."""
    bar_w = WIDTH - LABEL_W - NOTE_W
    height = TOP * 2 + ROW_H * max(len(rows), 1)
    top = scale_max if scale_max is not None else max((r.total for r in rows), default=0.0)
    top = top if top > 0 else 1.0
    pattern_id = f"{chart_id}-hatch"
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart hbar {escape(extra_class)}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'data-bars="{len(rows)}">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
        f"<defs>{_hatch(pattern_id)}</defs>",
    ]
    for i, row in enumerate(rows):
        y = TOP + i * ROW_H
        total_w = max(row.total, 0.0) / top * bar_w
        filled = min(max(row.filled, 0.0), max(row.total, 0.0))
        fill_w = filled / top * bar_w
        remainder_fill = f"url(#{pattern_id})" if hatch_remainder and not row.unknown else "none"
        cls = "bar" + (" emphasis" if row.emphasis else "") + (" unknown" if row.unknown else "")
        parts.append(
            f'<g class="row{" emphasis" if row.emphasis else ""}">'
            + _text("label", LABEL_W - 8, y + BAR_H - 4, row.label, LABEL_UNITS, "end")
            + f'<rect class="{cls}" x="{LABEL_W}" y="{y}" width="{max(total_w, 1.0):.1f}" height="{BAR_H}" '
            f'fill="{remainder_fill}" data-key="{escape(row.key or row.label)}" '
            f'data-total="{_fmt(row.total)}" data-filled="{_fmt(filled)}"/>'
            f'<rect class="bar-fill" x="{LABEL_W}" y="{y}" width="{fill_w:.1f}" height="{BAR_H}"/>'
            + _text("note", LABEL_W + bar_w + 8, y + BAR_H - 4, row.note, NOTE_UNITS)
            + "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class FunnelStage:
    label: str
    count: int
    key: str


def funnel_chart(stages: Sequence[FunnelStage], *, chart_id: str, title: str, desc: str) -> Markup:
    """Centred bars narrowing from the first stage to the last, each labelled with its count."""
    row_h = 40
    bar_h = 30
    width = WIDTH
    area = width - 2 * LABEL_W
    height = TOP * 2 + row_h * max(len(stages), 1)
    top = max((s.count for s in stages), default=0) or 1
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart funnel" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'data-bars="{len(stages)}">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    centre = width / 2
    for i, stage in enumerate(stages):
        y = TOP + i * row_h
        w = max(stage.count / top * area, 2.0)
        parts.append(
            f'<g class="row stage-{escape(stage.key)}">'
            f'<rect class="bar funnel-stage" x="{centre - w / 2:.1f}" y="{y}" width="{w:.1f}" '
            f'height="{bar_h}" rx="3" data-key="{escape(stage.key)}" data-count="{stage.count}"/>'
            f'<text class="label" x="{centre - area / 2 - 10:.1f}" y="{y + bar_h - 10}" text-anchor="end">'
            f"{escape(stage.label)}</text>"
            f'<text class="note" x="{centre + area / 2 + 10:.1f}" y="{y + bar_h - 10}">{stage.count}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
