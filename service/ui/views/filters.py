"""The region and industry filters' options, shared by the gap report and the dashboard."""

from __future__ import annotations

from service import industries, regions
from service.orm import Demand


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


def industry_options(demands: list[Demand], current: str | None) -> list[str]:
    """One option per industry, however its demands name it ("制造业", "Manufacturing"): the first name
    seen, or the one in use (``current``); a page shows each in its language (``industries.display_name``)."""
    options: dict[str, str] = {}
    for d in demands:
        if d.industry and d.industry_key and d.industry_key not in options:
            options[d.industry_key] = d.industry
    key = industries.industry_key(current)[1]
    if current and key in options:
        options[key] = current
    return sorted(options.values())
