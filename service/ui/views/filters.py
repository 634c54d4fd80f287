"""The region and industry filters' options, shared by the gap report and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from service import industries, regions
from service.orm import Demand


def _one_per_key(
    named: Sequence[tuple[str | None, str | None]], current: str | None, key: str | None
) -> list[str]:
    """One option per comparison key (the first name seen for it); the name in use (``current``, whose
    key is ``key``) stands for its own key, so it shows as selected."""
    options: dict[str, str] = {}
    for k, name in named:
        if k and name and k not in options:
            options[k] = name
    if current and key in options:
        options[key] = current
    return sorted(options.values())


def region_options(demands: list[Demand], current: str | None) -> list[str]:
    """One option per region, however its demands spell it: the division's standard name (合肥市) or
    the text; the spelling in use (``current``) stands for its own region, so it shows as selected."""
    named = [(d.region_key, d.region_name or d.region) for d in demands if d.region]
    return _one_per_key(named, current, regions.region_key(current)[1])


def industry_options(demands: list[Demand], current: str | None) -> list[str]:
    """One option per industry, however its demands name it ("制造业", "Manufacturing"): the first name
    seen, or the one in use (``current``); a page shows each in its language (``industries.display_name``)."""
    named = [(d.industry_key, d.industry) for d in demands]
    return _one_per_key(named, current, industries.industry_key(current)[1])
