"""The division table and the resolver (see :mod:`service.regions` for what is accepted)."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from service.paths import models_dir
from service.text import compared_as

DIVISIONS_FILE = "regions/cn_divisions.csv"
PROVINCE, CITY, COUNTY = 1, 2, 3
CODE = re.compile(r"^\d{6}$")

# Suffixes, longest first, with the levels they allow (市 and "city" also allow the four municipalities,
# the provinces whose name ends in 市).
_ZH_SUFFIXES: tuple[tuple[str, frozenset[int]], ...] = (
    ("特别行政区", frozenset({PROVINCE})),
    ("自治区", frozenset({PROVINCE})),
    ("自治州", frozenset({CITY})),
    ("自治县", frozenset({COUNTY})),
    ("地区", frozenset({CITY})),
    ("省", frozenset({PROVINCE})),
    ("市", frozenset({CITY, COUNTY})),
    ("盟", frozenset({CITY})),
    ("区", frozenset({CITY, COUNTY})),
    ("县", frozenset({COUNTY})),
    ("旗", frozenset({COUNTY})),
)
_EN_SUFFIXES: tuple[tuple[str, frozenset[int]], ...] = (
    ("municipality", frozenset({PROVINCE})),
    ("province", frozenset({PROVINCE})),
    ("sheng", frozenset({PROVINCE})),
    ("prefecture", frozenset({CITY})),
    ("city", frozenset({CITY, COUNTY})),
    ("shi", frozenset({CITY, COUNTY})),
    ("district", frozenset({CITY, COUNTY})),
    ("county", frozenset({COUNTY})),
    ("qu", frozenset({CITY, COUNTY})),
    ("xian", frozenset({COUNTY})),
)
_IGNORED = re.compile(r"[\s\-_'’·.]+")
_SEPARATORS = re.compile(r"\s*[,，、/]\s*")


@dataclass(frozen=True)
class Division:
    code: str
    name: str  # 合肥市
    short: str  # 合肥
    pinyin: str  # Hefei
    level: int  # 1 province, 2 city, 3 district or county
    province: str  # the code of its province (its own for a province)


def _compact(text: str) -> str:
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


class Table:
    """Every division, and every accepted spelling with the divisions it may mean."""

    def __init__(self, divisions: list[Division]) -> None:
        self.by_code = {d.code: d for d in divisions}
        self.full: dict[str, list[Division]] = {}
        self.stem: dict[str, list[Division]] = {}
        for d in divisions:
            self.full.setdefault(_compact(d.name), []).append(d)
            for stem in {_compact(d.short), _compact(d.pinyin), _strip_zh(_compact(d.name))[0]}:
                if stem:
                    self.stem.setdefault(stem, []).append(d)
        self.province_keys = sorted(
            {k for k, ds in (*self.full.items(), *self.stem.items()) if any(d.level == PROVINCE for d in ds)},
            key=len,
            reverse=True,
        )

    def lookup(self, text: str, *, province: str | None = None) -> Division | None:
        key = _compact(text)
        if not key:
            return None
        if CODE.match(key):
            return self.by_code.get(key)
        candidates = self.full.get(key) or self.stem.get(key)
        levels: frozenset[int] | None = None
        if not candidates:
            stem, levels = _strip_zh(key)
            if levels is None:
                stem, levels = _strip_en(key)
            candidates = self.stem.get(stem, [])
            if levels is not None:
                municipal = CITY in levels
                candidates = [
                    d for d in candidates if d.level in levels or (municipal and d.name.endswith("市"))
                ]
        if province is not None:
            candidates = [d for d in candidates if d.province == province]
        return _largest(candidates)


def _strip_zh(key: str) -> tuple[str, frozenset[int] | None]:
    for suffix, levels in _ZH_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)], levels
    return key, None


def _strip_en(key: str) -> tuple[str, frozenset[int] | None]:
    for suffix, levels in _EN_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 2:
            return key[: -len(suffix)], levels
    return key, None


def _largest(candidates: list[Division]) -> Division | None:
    """The one largest division among the candidates; None when none or several tie (not guessed)."""
    if not candidates:
        return None
    top = min(d.level for d in candidates)
    largest = {d.code: d for d in candidates if d.level == top}
    return next(iter(largest.values())) if len(largest) == 1 else None


@lru_cache(maxsize=1)
def table() -> Table:
    divisions = []
    with (models_dir() / DIVISIONS_FILE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["id"].strip()
            divisions.append(
                Division(
                    code=code,
                    name=row["name"].strip(),
                    short=row["short_name"].strip(),
                    pinyin=row["pinyin"].strip(),
                    level=int(row["deep"]),
                    province=code[:2] + "0000",
                )
            )
    return Table(divisions)


def resolve(text: str | None) -> Division | None:
    """The division a region text names, or None (see :mod:`service.regions`)."""
    if not text or not text.strip():
        return None
    t = table()
    found = t.lookup(text)
    if found is not None:
        return found
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    if len(parts) == 2:  # "Hefei, Anhui" or "安徽, 合肥"
        for place, prov in (parts, parts[::-1]):
            province = t.lookup(prov)
            if province is not None and province.level == PROVINCE:
                found = t.lookup(place, province=province.code)
                if found is not None:
                    return found
    key = _compact(text)
    for prov_key in (k for k in t.province_keys if key.startswith(k)):
        province = t.lookup(prov_key)
        rest = key[len(prov_key) :]
        if province is not None and province.level == PROVINCE and rest:
            found = t.lookup(rest, province=province.code)
            if found is not None:
                return found  # "安徽省合肥市", "安徽合肥"
    return None


def division(code: str | None) -> Division | None:
    """The division with this code, if any."""
    return table().by_code.get(code) if code else None


def standard_name(code: str | None) -> str | None:
    """The standard Chinese name of the division with this code (合肥市), if any."""
    found = division(code)
    return found.name if found is not None else None


def display_name(text: str | None, lang: str) -> str | None:
    """A region as a page in ``lang`` shows it: a known division by its short Chinese name (合肥) on
    Chinese pages and by its pinyin (Hefei) on the others, however it was written; other text as
    written."""
    found = resolve(text)
    if found is None:
        return text
    return found.short if lang.startswith("zh") else found.pinyin


def region_key(text: str | None) -> tuple[str | None, str | None]:
    """(GB/T code or None, comparison key) of a region text: the key is the code of a known division,
    else the text's normal form; (None, None) for no region."""
    found = resolve(text)
    return compared_as(text, found.code if found is not None else None)


def code_prefix(code: str) -> str:
    """The prefix every division inside ``code`` shares: 34 for a province (340000), 3401 for a city
    (340100), the whole code for a district."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code
