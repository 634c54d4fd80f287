"""Skill phrases of Chinese (and mixed Chinese/English) job-ad sentences. Pure Python, no SQL.

Chinese has no spaces, and an ad states its skills inside requirement frames: "熟悉使用Word、Excel、PPT等
办公软件", "负责数控机床的编程与操作", "有PLC编程经验者优先". :func:`phrases` takes one sentence that is
not boilerplate (see :mod:`service.taxonomy.extraction`) and returns the skill phrases it names:

1. a title line ("招聘：电气工程师") names no skill; a label before a colon ("技能要求：") is dropped;
   the sentence is cut into clauses at commas, semicolons, colons and brackets; a clause stating
   education, age, sex, character, schedule or pay (``[drop_clause]``), or naming a sum of money, is
   dropped;
2. requirement and verb frames are removed from both ends of the clause (``[lead]``, ``[trail]``; a
   number of years "3年以上" too), and the clause is cut into items at enumeration marks (、 / 和 与 及
   以及 或 并 进行); "等" ends an enumeration and the category noun after it is dropped (in the clause
   and in each item: "相机、读码器等视觉硬件" gives 相机, 读码器); an inline list number ("2.维修") cuts too;
3. "X的A与B" names A and B of X: the items become "XA", "XB" ("数控机床编程", "数控机床操作"); a "的"
   between a noun and what is done to it is dropped; bare actions before an action with an object share
   it ("安装、调试和维护PLC系统": ``[verb]``);
4. frames and modifiers (``[modifier]``: "良好的", "日常") are removed from each item again; an item kept
   is 2..16 characters of Chinese (Latin terms count as one), not a job title (``[title_suffix]``), a
   province or city (:mod:`service.regions`) nor a word too generic to name a skill alone
   (``[not_skill]``). A Latin-only item is kept only when it looks like a name (PLC, AutoCAD, Word,
   C++, S7-1200: a capital or a digit, at most three words); English of two words or more is also
   matched like an English sentence's chunks.

The word lists are in ``models/zh_extraction.txt`` (written for this project; see its header).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from service import regions
from service.paths import models_dir
from service.text import CJK, has_cjk

WORDS_FILE = "zh_extraction.txt"
MIN_CHARS = 2
MAX_CHARS = 16
MAX_LATIN_WORDS = 3

_CLAUSE_SPLIT = re.compile(
    r"[,;:()\[\]{}|，；：（）【】「」『』《》“”\"]+|\s{2,}"
    # an inline list number: "…泊位 2.维修…", "…；3、熟悉…" (not "8.5", "S7-1200")
    rf"|(?:^|(?<=[\s{CJK}。]))\(?\d{{1,2}}\s*[.、)）](?!\d)\s*"
)
# Enumeration marks. The one-character conjunctions only where they are not part of a word
# ("参与", "及时", "和谐", "与会", "或许", "并联").
_ITEM_SPLIT = re.compile(
    r"\s*(?:[、／&＋]|(?<![A-Z])/|/(?![A-Z]{1,3}\b)|以及|及其|或者|进行"
    r"|(?<![参给赋授])与(?![会否])|(?<![以普涉波危])及(?![时格早])|(?<![总温调柔])和(?![谐睦])"
    r"|或(?![许是])|(?<![合兼])并(?![联行购发列网])"
    r"|\band\b|\bor\b)\s*",
    re.IGNORECASE,
)
# "Word、Excel、PPT等办公软件": 等 ends the enumeration, the category after it is dropped. Not the 等
# of 中等, 平等, 等离子, 等级, 等于, 等待.
_ETC = re.compile(r"(?<![中平高初同相对均次超上])等(?![离级于待候同效])[^、/]*$")
_YEARS = re.compile(r"^(?:\d+|[一二两三四五六七八九十]+)\s*(?:年|个月)(?:及?以上|左右)?(?:的)?")
_MONEY = re.compile(r"\d\s*(?:元|块|[kK千万w])|[kK]\s*[-~至]|\d+\s*[-~至]\s*\d+\s*[kK千万]")
_LATIN_ITEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+#\-/ ]*$")
_DE = "的"
_TITLE_LINE = re.compile(
    r"^\s*(?:job title|position|title|role|招聘|诚聘|急聘|职位名称|岗位名称|招聘岗位|招聘职位|职位|岗位)"
    r"\s*[:：]",
    re.IGNORECASE,
)
_LABEL = re.compile(r"(?:^|(?<=[,;，；。]))[^,;:，；：。]{1,20}[:：](?!\d)")


@dataclass(frozen=True)
class WordLists:
    lead: tuple[str, ...]
    trail: tuple[str, ...]
    whole: tuple[str, ...]
    modifier: tuple[str, ...]
    drop_clause: tuple[str, ...]
    not_skill: frozenset[str]
    title_suffix: tuple[str, ...]
    verb: frozenset[str] = frozenset()


def parse_word_lists(text: str) -> WordLists:
    """The sections of ``models/zh_extraction.txt``, longest words first ("熟练掌握" before "熟练")."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif current is not None:
            current.append(unicodedata.normalize("NFKC", line))

    def longest_first(name: str) -> tuple[str, ...]:
        return tuple(sorted(dict.fromkeys(sections.get(name, [])), key=len, reverse=True))

    return WordLists(
        lead=longest_first("lead"),
        trail=longest_first("trail"),
        whole=longest_first("whole"),
        modifier=longest_first("modifier"),
        drop_clause=longest_first("drop_clause"),
        not_skill=frozenset(sections.get("not_skill", [])),
        title_suffix=longest_first("title_suffix"),
        verb=frozenset(sections.get("verb", [])),
    )


@lru_cache(maxsize=1)
def word_lists() -> WordLists:
    return parse_word_lists((models_dir() / WORDS_FILE).read_text(encoding="utf-8"))


def _strip_lead(text: str, words: WordLists, *, modifiers: bool) -> str:
    for _ in range(8):
        before = text
        text = _YEARS.sub("", text).strip()
        if not text.startswith(words.whole):
            for word in words.lead:
                if text.startswith(word) and len(text) > len(word):
                    text = text[len(word) :].strip()
                    break
        if modifiers:
            for word in words.modifier:
                if text.startswith(word) and len(text) > len(word):
                    text = text[len(word) :].lstrip(_DE).strip()
                    break
        if text == before:
            break
    return text


def _strip_trail(text: str, words: WordLists) -> str:
    for _ in range(8):
        before = text
        for word in words.trail:
            if text.endswith(word) and len(text) > len(word):
                text = text[: -len(word)].rstrip(_DE).strip()
                break
        if text == before:
            break
    return text


def _clean(item: str, words: WordLists) -> str:
    item = item.strip(" .。!！?？-–—~～*·'‘’")
    for _ in range(3):
        before = item
        item = _strip_trail(_strip_lead(item, words, modifiers=True), words)
        if item == before:
            break
    return item


def _length(item: str) -> int:
    """Characters of Chinese, with each Latin word counting as one."""
    return len(re.findall(rf"[{CJK}]|[A-Za-z0-9][A-Za-z0-9.+#\-]*", item))


def _is_place(item: str) -> bool:
    """A province or city ("合肥", "安徽省", "Shenzhen"): where the job is, not a skill."""
    found = regions.resolve(item)
    return found is not None and found.level <= regions.CITY


def _keep(item: str, words: WordLists) -> bool:
    if not item or item in words.not_skill or item.endswith(words.title_suffix) or _is_place(item):
        return False
    if not has_cjk(item):
        tokens = item.split()
        return (
            _LATIN_ITEM.match(item) is not None
            and len(tokens) <= MAX_LATIN_WORDS
            and any(c.isupper() or c.isdigit() or c in "+#" for c in tokens[0])
            and len(item) >= 2
        )
    return MIN_CHARS <= _length(item) <= MAX_CHARS


def _distribute(items: list[str], words: WordLists) -> list[str]:
    """ "工业机器人的编程、示教、维护" -> 工业机器人编程, 工业机器人示教, 工业机器人维护: the noun before 的
    goes with each short item after it; a lone 的 between noun and action is dropped."""
    out: list[str] = []
    head = ""
    for item in items:
        if _DE in item:
            left, _, right = item.rpartition(_DE)
            right = _strip_lead(right, words, modifiers=True)
            if left and right and has_cjk(right):
                head = left
                out.append(left + right)
                continue
            out.append(item.replace(_DE, ""))
            head = ""
        elif head and has_cjk(item) and len(item) <= 4 and not any(c.isascii() for c in item):
            out.append(head + item)
        else:
            out.append(item)
            head = ""
    return out


def _share_object(items: list[str], words: WordLists) -> list[str]:
    """ "安装、调试和维护PLC系统": bare two-character actions before an action with an object share it
    (安装PLC系统, 调试PLC系统, 维护PLC系统); the last item must start with an action of ``[verb]``."""
    out = list(items)
    for i, item in enumerate(items):
        verb, obj = item[:2], item[2:].strip()
        if i == 0 or verb not in words.verb or len(obj) < 2:
            continue
        j = i - 1
        while j >= 0 and len(items[j]) == 2 and has_cjk(items[j]) and items[j] == out[j]:
            out[j] = items[j] + obj
            j -= 1
    return out


def _drops(clause: str, words: WordLists) -> bool:
    return any(w in clause for w in words.drop_clause) or _MONEY.search(clause) is not None


def phrases(sentence: str, words: WordLists | None = None) -> list[str]:
    """The skill phrases one sentence names, in order, each once (see the module docstring)."""
    words = words or word_lists()
    text = unicodedata.normalize("NFKC", sentence)
    if _TITLE_LINE.match(text):
        return []  # "招聘：电气工程师", "Job title: 外贸业务员": a job, not its skills
    # What stands before a colon labels what follows ("技能要求："): not a skill.
    text = _LABEL.sub(" ", text)
    out: list[str] = []
    for raw_clause in _CLAUSE_SPLIT.split(text):
        clause = raw_clause.strip()
        if not clause or _drops(clause, words):
            continue
        clause = _strip_trail(_strip_lead(clause, words, modifiers=False), words)
        clause = _ETC.sub("", clause)
        items = [
            _strip_lead(_ETC.sub("", i).strip(), words, modifiers=True) for i in _ITEM_SPLIT.split(clause)
        ]
        for item in _distribute(_share_object([i for i in items if i], words), words):
            item = _clean(item, words)
            if _keep(item, words):
                out.append(item)
    return list(dict.fromkeys(out))
