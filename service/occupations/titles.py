"""Job-title cleaning: what of a posting's title names the occupation.

Real titles carry more than the occupation: the company ("浩宇广告招聘奶茶店店员"), the place
("Sales Representative (SHAH ALAM)", "网络优化工程师-巴音郭楞"), pay and benefits ("300/天包吃包住",
"+双休+社保"), the contract ("QC INSPECTOR (CONTRACT BASIC)"), codes ("销售总监(J10116)", "Test manager
- 047") and seniority. :func:`clean_title` keeps the first segment that still names something once those
are removed (``main``) and offers the other segments and the bracketed parts as ``alternatives``
("Kitchen Crew (Asst Chef/Kitchen helper)": main "kitchen crew", alternatives "assistant chef",
"kitchen helper"), which a matcher weighs less.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from service.regions import resolve
from service.text import CJK

_BRACKETS = re.compile(r"[(\[{【〔「『《<]([^)\]}】〕」』》>]*)[)\]}】〕」』》>]?")
_RECRUIT = re.compile(r"^.*?(?:高薪招聘|招聘|诚聘|急聘|聘请|急招|直招|诚招|热招|特招|招募|高薪诚聘)(?=.{2,})")
# Reference codes glued to letters ("J10116", "MJ000375"): removed before pay, which would leave "MJ".
_REFERENCE = re.compile(r"\b[a-z]{1,3}\d{4,}\b", re.IGNORECASE)
# Pay: amounts with their units ("300/天", "8K起薪", "5000-8000元/月", "1万+", "RM2,500").
_PAY = re.compile(
    r"(?:rm|¥|￥|\$)?\s*\d[\d,.]*\s*(?:k|w|千|万|元|块)*(?:\s*[-~至到]\s*\d[\d,.]*\s*(?:k|w|千|万|元|块)*)?"
    r"(?:\s*(?:/|每|一)\s*(?:天|日|月|小时|时|年|h|hr|hour|day|month))?(?:\s*(?:起薪|起|以上|\+))?",
    re.IGNORECASE,
)
_BENEFITS_ZH = (
    "包吃包住|包吃住|包食宿|包住宿|提供食宿|提供住宿|管吃住|包住|包吃|五险一金|六险一金|五险|社保|双休|单休|"
    "周末双休|年终奖|带薪培训|带薪年假|底薪|无责底薪|高提成|提成|保底|起薪|月薪|年薪|日薪|时薪|薪资|高薪|"
    "可日结|日结|周结|月结|无经验可|无需经验|经验不限|学历不限|急招|急聘|直招|无试用期|试用期|长白班|两班倒|"
    "不加班|就近分配|包分配|可兼职|兼职|全职|男女不限|应届生可|包培训|免费培训|待遇优厚|待遇|福利|"
    "入职即缴|入职即|上班|快速晋升|晋升|可住宿|有宿舍|员工宿舍|带薪|月休|朝九晚五|朝九晚六|轻松|大量招聘|名额有限|%"
)
_BENEFIT_ZH = re.compile(f"(?:{_BENEFITS_ZH})")
_SENIORITY_ZH = re.compile(r"^(?:高级|初级|中级|资深|见习|储备)(?=.{2,})")
_PLACE_ZH = re.compile(f"^[{CJK}]{{2,4}}?(?:省|市|区|县|镇)(?=[{CJK}]{{2,}})")
_PLACE_ONLY_ZH = re.compile(f"^[{CJK}]{{1,6}}(?:省|市|区|县|镇|分公司|公司|集团|门店|店|地区|片区|园区)$")
_NOT_OCCUPATION_EN = {
    "contract",
    "contract basic",
    "permanent",
    "temporary",
    "part time",
    "full time",
    "urgent",
    "urgently",
    "immediate",
    "walk in",
    "walk-in interview",
    "walk in interview",
    "fresh graduate",
    "fresh graduates",
    "welcome",
    "basic",
    "allowance",
    "intern",
}
_EN_NOISE = re.compile(
    r"\b(?:urgent(?:ly)?|hiring|wanted|immediate(?:ly)?|contract(?:\s+basic)?|permanent|temporary|"
    r"part[\s-]?time|full[\s-]?time|walk[\s-]?in(?:\s+interview)?|fresh\s+graduates?(?:\s+(?:are\s+)?welcome)?|"
    r"senior|junior|sr|jr|snr|jnr|experienced|m/f|f/m)\b\.?",
    re.IGNORECASE,
)
_EN_ABBREVIATIONS = {
    "asst": "assistant",
    "ass't": "assistant",
    "exec": "executive",
    "execs": "executives",
    "mgr": "manager",
    "engr": "engineer",
    "eng": "engineer",
    "admin": "administrative",
    "acct": "account",
    "accts": "accounts",
    "tech": "technician",
    "rep": "representative",
    "reps": "representatives",
    "coord": "coordinator",
    "supv": "supervisor",
    "spvr": "supervisor",
    "dept": "department",
    "hr": "human resources",
    "qc": "quality control",
    "qa": "quality assurance",
}
_SEPARATORS = re.compile(r"\s+[-–—|:]\s+|[|/\\,，、;；!！。+＋*#~·]|\s+cum\s+")
_CJK_SPACE = re.compile(f"(?<=[{CJK}])\\s+(?=[{CJK}])")
_CJK_DOT = re.compile(f"(?<=[{CJK}])[.．](?=[{CJK}])")  # one dot: "...", a cut name, is no separator
_CJK_DASH = re.compile(f"(?<=[{CJK}])\\s*[-–—_]+\\s*|\\s*[-–—_]+\\s*(?=[{CJK}])")
_CODE = re.compile(r"\b[a-z]{0,3}\d[\w-]*\b", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_CJK_CHAR = re.compile(f"[{CJK}]")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class CleanTitle:
    main: str
    alternatives: tuple[str, ...] = ()

    def variants(self) -> tuple[str, ...]:
        """``main`` first, then the alternatives; empty when nothing of the title is left."""
        return tuple(v for v in (self.main, *self.alternatives) if v)


def _expand(text: str) -> str:
    words = text.split(" ")
    return " ".join(_EN_ABBREVIATIONS.get(w.lower().strip("."), w) for w in words)


def _clean_segment(segment: str) -> str:
    """One segment without pay, benefits, codes, recruiting prefixes, places and seniority."""
    text = _RECRUIT.sub("", segment)
    if _CJK_CHAR.search(text):
        text = _BENEFIT_ZH.sub(" ", text)
        text = _WS.sub(" ", text).strip()
        text = _PLACE_ZH.sub("", text)
        text = _SENIORITY_ZH.sub("", text)
        if _PLACE_ONLY_ZH.match(text.replace(" ", "")) or resolve(text) is not None:
            return ""
    if _LATIN.search(text):
        text = _EN_NOISE.sub(" ", text)
        text = _CODE.sub(" ", text)
        text = _expand(_WS.sub(" ", text).strip())
    text = _WS.sub(" ", text).strip(" -–—_.:&'\"")
    if not text or text.lower() in _NOT_OCCUPATION_EN:
        return ""
    if len(_CJK_CHAR.findall(text)) < 2 and len(_LATIN.findall(text)) < 2:
        return ""  # one Chinese character or letter left of pay, codes or benefits ("月", "点")
    return text


def _segments(text: str) -> list[str]:
    text = _CJK_SPACE.sub("/", text)
    text = _CJK_DASH.sub("/", text)
    text = _CJK_DOT.sub("/", text)
    return [s for s in _SEPARATORS.split(text) if s and s.strip()]


def clean_title(title: str) -> CleanTitle:
    """The occupation a job title names, and the other candidate parts (see the module docstring)."""
    text = unicodedata.normalize("NFKC", title)
    text = _WS.sub(" ", text).strip()
    if re.search(r"\d", text):
        text = _PAY.sub("", _REFERENCE.sub(" ", text))
    bracketed = [m.group(1) for m in _BRACKETS.finditer(text)]
    outside = _BRACKETS.sub(" / ", text)
    parts: list[str] = []
    for source in (outside, *bracketed):
        for segment in _segments(source):
            cleaned = _clean_segment(segment)
            if cleaned and cleaned.casefold() not in {p.casefold() for p in parts}:
                parts.append(cleaned)
    if not parts:
        return CleanTitle("")
    return CleanTitle(parts[0], tuple(parts[1:]))
