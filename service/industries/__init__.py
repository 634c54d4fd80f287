"""Industries: the 20 sections (门类) of China's industrial classification GB/T 4754-2017.

"制造业", "制造" and "Manufacturing" are one industry. An industry is the text a member wrote (kept as
written) plus, where the text names a section, the section's letter (C for manufacturing). :func:`resolve`
accepts, case-insensitively and ignoring spaces and punctuation:

- the letter ("C");
- the section's Chinese name, with or without its final 业 ("制造业", "制造", "农林牧渔业");
- its English name ("Manufacturing", "Information transmission, software and information technology
  services") and a few common English and Chinese names of the same section ("IT", "software",
  "软件", "retail", "零售", "hospitality", "餐饮", "healthcare", "医疗").

A name that could be several sections ("energy": mining, or power and gas supply) is not guessed, and
an industry in no section ("new energy vehicles") stays text. Filters compare keys: the section's
letter, else the text's normal form (:func:`industry_key`), so a school whose industry is 制造业 sees the
demands filed under "manufacturing". Pages show a section by its name in the page's language
(:func:`display_name`). The divisions (大类) below the sections are not listed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from service.text import compared_as


@dataclass(frozen=True)
class Section:
    code: str  # A-T
    zh: str  # 制造业
    en: str  # Manufacturing
    aliases: tuple[str, ...] = ()


SECTIONS: tuple[Section, ...] = (
    Section(
        "A",
        "农、林、牧、渔业",
        "Agriculture, forestry, animal husbandry and fishery",
        ("农业", "农林牧渔", "agriculture", "farming", "forestry", "fishery"),
    ),
    Section("B", "采矿业", "Mining", ("矿业", "mining and quarrying")),
    Section("C", "制造业", "Manufacturing", ("manufacture", "工业制造")),
    Section(
        "D",
        "电力、热力、燃气及水生产和供应业",
        "Electricity, heat, gas and water production and supply",
        ("utilities", "电力", "电力供应", "公用事业", "electricity", "power supply", "electricity supply"),
    ),
    Section("E", "建筑业", "Construction", ("building", "建筑工程")),
    Section(
        "F",
        "批发和零售业",
        "Wholesale and retail trade",
        ("批发零售", "零售", "批发", "retail", "wholesale", "retail trade", "wholesale and retail", "商贸"),
    ),
    Section(
        "G",
        "交通运输、仓储和邮政业",
        "Transport, storage and postal services",
        (
            "交通运输",
            "物流",
            "仓储物流",
            "transport",
            "transportation",
            "logistics",
            "transport and logistics",
        ),
    ),
    Section(
        "H",
        "住宿和餐饮业",
        "Accommodation and catering",
        ("餐饮", "住宿餐饮", "酒店", "hospitality", "catering", "accommodation and food services"),
    ),
    Section(
        "I",
        "信息传输、软件和信息技术服务业",
        "Information transmission, software and IT services",
        (
            "信息技术",
            "软件",
            "软件和信息技术服务",
            "信息技术服务",
            "互联网",
            "it",
            "ict",
            "software",
            "information technology",
            "information technology services",
            "software and it services",
            "Information transmission, software and information technology services",
        ),
    ),
    Section("J", "金融业", "Finance", ("金融", "finance", "financial services", "banking and finance")),
    Section("K", "房地产业", "Real estate", ("房地产", "property")),
    Section("L", "租赁和商务服务业", "Leasing and business services", ("商务服务", "business services")),
    Section(
        "M",
        "科学研究和技术服务业",
        "Scientific research and technical services",
        ("科研", "科学研究", "技术服务", "research", "scientific research", "research and development"),
    ),
    Section(
        "N",
        "水利、环境和公共设施管理业",
        "Water, environment and public facilities management",
        ("环保", "environmental services"),
    ),
    Section(
        "O",
        "居民服务、修理和其他服务业",
        "Resident services, repair and other services",
        ("居民服务", "修理", "repair services"),
    ),
    Section("P", "教育", "Education", ("教育业", "教育培训", "education and training")),
    Section(
        "Q",
        "卫生和社会工作",
        "Health and social work",
        ("医疗", "卫生", "医疗卫生", "医疗健康", "health", "healthcare", "health care", "medical"),
    ),
    Section(
        "R",
        "文化、体育和娱乐业",
        "Culture, sports and entertainment",
        ("文化", "文体娱乐", "文化传媒", "culture", "entertainment", "media and entertainment"),
    ),
    Section(
        "S",
        "公共管理、社会保障和社会组织",
        "Public administration, social security and social organisations",
        ("公共管理", "政府", "public administration", "government", "public sector"),
    ),
    Section("T", "国际组织", "International organisations", ("international organizations",)),
)

_IGNORED = re.compile(r"[\s\-_'’·.,，、/;；:：()（）]+")
_AND = re.compile(r"\band\b|&|及")
_LETTER = re.compile(r"^[A-Ta-t]$")


def _compact(text: str) -> str:
    return _IGNORED.sub("", _AND.sub("和", unicodedata.normalize("NFKC", text).casefold()))


@lru_cache(maxsize=1)
def _lookup() -> dict[str, Section]:
    out: dict[str, Section] = {}
    for section in SECTIONS:
        for name in (section.zh, section.en, *section.aliases):
            key = _compact(name)
            out.setdefault(key, section)
            if key.endswith("业") and len(key) > 2:
                out.setdefault(key[:-1], section)  # 制造业 -> 制造
    return out


def resolve(text: str | None) -> Section | None:
    """The section ``text`` names, or None (no text, or an industry in no section)."""
    if not text or not text.strip():
        return None
    stripped = text.strip()
    if _LETTER.match(stripped):
        return next(s for s in SECTIONS if s.code == stripped.upper())
    key = _compact(stripped)
    found = _lookup().get(key)
    if found is None and key.endswith("业") and len(key) > 2:
        found = _lookup().get(key[:-1])  # 批发零售业: the alias 批发零售 with the suffix
    return found


def industry_key(text: str | None) -> tuple[str | None, str | None]:
    """(section letter or None, comparison key): the key is the letter of a section, else the text's
    normal form; (None, None) for no industry."""
    found = resolve(text)
    return compared_as(text, found.code if found is not None else None)


def display_name(text: str | None, lang: str) -> str | None:
    """An industry as a page in ``lang`` shows it: a section by its Chinese or English name, however it
    was written; other text as written."""
    found = resolve(text)
    if found is None:
        return text
    return found.zh if lang.startswith("zh") else found.en


def names(lang: str) -> list[str]:
    """The sections' names in ``lang`` (Chinese, else English): what a form offers to pick from."""
    return [s.zh if lang.startswith("zh") else s.en for s in SECTIONS]


__all__ = ["SECTIONS", "Section", "display_name", "industry_key", "names", "resolve"]
