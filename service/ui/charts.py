"""Server-side SVG charts: pure functions from numbers to markup, no JavaScript, nothing fetched.

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``; each bar is one
``<rect class="bar ...">`` carrying its numbers in ``data-*`` attributes, and a text label beside it
repeats the value and the status in words, so colour is never the only carrier of meaning (the
uncovered part of a bar is also hatched). Pages add a data table with the same numbers.

Each chart comes twice: ``class="chart wide"`` (label, bar and note on one line, 800 units wide) and
``class="chart narrow"`` (id ``<chart_id>-narrow``; the label and the note share a line above a
full-width bar, 360 units wide) for a phone; the stylesheet shows one of the two by the screen's
width, so a phone reads every label and note at full size without scrolling sideways and without
JavaScript.
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
# The phone layout: 360 units wide (about a 390 px screen less the page's margins).
NARROW_W = 360
NARROW_ROW_H = 44
# Half-width units one line of it holds: the label (left) and the note (right) share the line above a bar.
NARROW_UNITS = 48
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


def _svg_open(chart_id: str, cls: str, width: int, height: int, title: str, desc: str, bars: int) -> str:
    return (
        f'<svg id="{escape(chart_id)}" class="{escape(cls)}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'data-bars="{bars}">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
    )


def _bar(row: BarRow, x: float, y: float, scale: float, bar_h: int, pattern_id: str, hatch: bool) -> str:
    """The bar of ``row`` (its full length, hatched beyond the filled part) and the filled part."""
    total_w = max(row.total, 0.0) * scale
    filled = min(max(row.filled, 0.0), max(row.total, 0.0))
    remainder_fill = f"url(#{pattern_id})" if hatch and not row.unknown else "none"
    cls = "bar" + (" emphasis" if row.emphasis else "") + (" unknown" if row.unknown else "")
    return (
        f'<rect class="{cls}" x="{x}" y="{y}" width="{max(total_w, 1.0):.1f}" height="{bar_h}" '
        f'fill="{remainder_fill}" data-key="{escape(row.key or row.label)}" '
        f'data-total="{_fmt(row.total)}" data-filled="{_fmt(filled)}"/>'
        f'<rect class="bar-fill" x="{x}" y="{y}" width="{filled * scale:.1f}" height="{bar_h}"/>'
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
    """Horizontal bars, one per row; the part of ``total`` beyond ``filled`` is hatched.

    The wide layout, then the narrow one (see the module's docstring).
    """
    top = scale_max if scale_max is not None else max((r.total for r in rows), default=0.0)
    top = top if top > 0 else 1.0
    cls = f"chart hbar {extra_class}".strip()

    return Markup(
        _hbar(rows, chart_id, f"{cls} wide", title, desc, top, hatch_remainder, narrow=False)
        + _hbar(rows, f"{chart_id}-narrow", f"{cls} narrow", title, desc, top, hatch_remainder, narrow=True)
    )


def _hbar(
    rows: Sequence[BarRow],
    chart_id: str,
    cls: str,
    title: str,
    desc: str,
    top: float,
    hatch_remainder: bool,
    *,
    narrow: bool,
) -> str:
    """One layout of :func:`hbar_chart`. Wide: label | bar | note on one line. Narrow: the label and the
    note share a line above a bar as wide as the chart; the label gets the units the note leaves."""
    width, row_h = (NARROW_W, NARROW_ROW_H) if narrow else (WIDTH, ROW_H)
    pattern_id = f"{chart_id}-hatch"
    parts = [
        _svg_open(chart_id, cls, width, TOP * 2 + row_h * max(len(rows), 1), title, desc, len(rows)),
        f"<defs>{_hatch(pattern_id)}</defs>",
    ]
    bar_w = NARROW_W if narrow else WIDTH - LABEL_W - NOTE_W
    for i, row in enumerate(rows):
        y = TOP + i * row_h
        if narrow:
            note_units = sum(_units(c) for c in _short(row.note, NOTE_UNITS))
            body = (
                _text("label", 0, y + 12, row.label, max(12, NARROW_UNITS - note_units - 2))
                + _text("note", NARROW_W, y + 12, row.note, NOTE_UNITS, "end")
                + _bar(row, 0, y + 18, bar_w / top, BAR_H, pattern_id, hatch_remainder)
            )
        else:
            body = (
                _text("label", LABEL_W - 8, y + BAR_H - 4, row.label, LABEL_UNITS, "end")
                + _bar(row, LABEL_W, y, bar_w / top, BAR_H, pattern_id, hatch_remainder)
                + _text("note", LABEL_W + bar_w + 8, y + BAR_H - 4, row.note, NOTE_UNITS)
            )
        parts.append(f'<g class="row{" emphasis" if row.emphasis else ""}">{body}</g>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class FunnelStage:
    label: str
    count: int
    key: str


def funnel_chart(stages: Sequence[FunnelStage], *, chart_id: str, title: str, desc: str) -> Markup:
    """Centred bars narrowing from the first stage to the last, each labelled with its count; the wide
    layout, then the narrow one."""
    return Markup(
        _funnel(stages, chart_id, "chart funnel wide", title, desc, WIDTH, LABEL_W, LABEL_W)
        + _funnel(stages, f"{chart_id}-narrow", "chart funnel narrow", title, desc, NARROW_W, 132, 40)
    )


def _funnel(
    stages: Sequence[FunnelStage],
    chart_id: str,
    cls: str,
    title: str,
    desc: str,
    width: int,
    label_w: int,
    note_w: int,
) -> str:
    row_h = 40
    bar_h = 30
    area = width - label_w - note_w
    height = TOP * 2 + row_h * max(len(stages), 1)
    top = max((s.count for s in stages), default=0) or 1
    parts = [_svg_open(chart_id, cls, width, height, title, desc, len(stages))]
    centre = label_w + area / 2
    for i, stage in enumerate(stages):
        y = TOP + i * row_h
        w = max(stage.count / top * area, 2.0)
        parts.append(
            f'<g class="row stage-{escape(stage.key)}">'
            f'<rect class="bar funnel-stage" x="{centre - w / 2:.1f}" y="{y}" width="{w:.1f}" '
            f'height="{bar_h}" rx="3" data-key="{escape(stage.key)}" data-count="{stage.count}"/>'
            + _text("label", label_w - 10, y + bar_h - 10, stage.label, (label_w - 10) // 7, "end")
            + f'<text class="note" x="{label_w + area + 6:.1f}" y="{y + bar_h - 10}">{stage.count}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
