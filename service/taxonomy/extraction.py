"""Text side of skill extraction: sentences, boilerplate, candidate phrases. Pure Python, no SQL.

A job or course description is split into sentences (blank lines, bullets, headings, sentence
punctuation in English and Chinese; a hard-wrapped paragraph is joined first; "Node.js", "e.g." and
"3.5" are not sentence ends). Sentences that are
boilerplate are dropped before any matching:

- a sentence that reads like an equal-opportunity statement, a company blurb, benefits, pay or an
  application instruction (patterns below, English and Chinese);
- every sentence under a heading such as "About us", "Benefits", "What we offer", "公司介绍",
  "福利待遇", until the next heading that is not boilerplate ("Requirements", "任职要求", ...).

Each remaining sentence yields *spans*: runs of up to ``MAX_NGRAM`` tokens (looked up exactly among the
taxonomy's labels) and *chunks*: the sentence cut at punctuation and coordinating words, with lead-ins
such as "experience with" or "熟悉" removed, plus short windows of long chunks (matched by embedding
and lexical similarity).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from service.text import CJK, CJK_CHAR, normalize_phrase

MAX_NGRAM = 8
MAX_CHUNK_TOKENS = 12
WINDOW_FROM = 3

_ABBREV = r"(?:e\.g|i\.e|etc|vs|approx|incl|dept|no|inc|ltd|co|corp|mr|ms|dr|jr|sr)"
# A sentence ends at . ! ? followed by space and an upper-case letter, digit, quote or CJK; at Chinese
# sentence punctuation; at a semicolon; or at a line break.
_SENTENCE_END = re.compile(rf"(?<=[.!?])\s+(?=[A-Z0-9\"'“(\[{CJK}])|(?<=[。！？；;])|\n+")
_ENDS_WITH_ABBREV = re.compile(rf"\b{_ABBREV}\.$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·●◦▪‣–—>]+|\(?\d{1,2}[.)、]|\(?[a-z][.)]|[一二三四五六七八九十]+[、.])\s*")
_TOKEN = re.compile(rf"[{CJK}]+|\.?[^\W_{CJK}]+(?:[.\-/'][^\W_{CJK}]+)*[+#]*", re.UNICODE)
_CHUNK_SPLIT = re.compile(
    r"\s*(?:[,;:()\[\]{}/|、，；：（）【】]|\band\b|\bor\b|\bas well as\b|\bincluding\b|\bsuch as\b"
    r"|\bnor\b|\be\.g\.|\bi\.e\.|和|及|与|或|以及|等)\s*",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(
    r"^(?:\d+\s*\+?\s*(?:years?|yrs)'?\s+(?:of\s+)?)?(?:(?:strong|solid|good|excellent|proven|hands-on|working|basic|deep|in-depth|practical)\s+)*"
    r"(?:experience|knowledge|understanding|proficiency|expertise|familiarity|skills?|ability|"
    r"background|competence)\s+(?:in|of|with|to|using|at)\s+"
    r"|^(?:be\s+)?(?:able|willing)\s+to\s+"
    r"|^(?:you\s+(?:will|can|should|must)\s+)"
    r"|^(?:must|should)\s+(?:be\s+able\s+to\s+|have\s+|know\s+)?"
    r"|^(?:familiar|proficient|experienced|skilled|competent|fluent)\s+(?:in|with|at)\s+"
    r"|^(?:熟练掌握|熟练使用|熟练运用|熟练|熟悉|掌握|了解|精通|具有|具备|能够|能|会|懂得|负责)",
    re.IGNORECASE,
)

# Sentences that carry no skill even when they name one (English and Chinese).
_BOILERPLATE = re.compile(
    r"equal (?:employment )?opportunit|affirmative action|e-verify|without regard to|regardless of"
    r"|\b(?:race|religion|colou?r|national origin|sexual orientation|gender identity|veteran status"
    r"|marital status|genetic information)\b.*\b(?:race|religion|colou?r|national origin|sex|gender"
    r"|age|disability|veteran|marital|genetic)\b"
    r"|reasonable accommodation|we (?:are|were) (?:a|an|the) (?:leading|global|fast[- ]growing|innovative"
    r"|world|premier|trusted|award|proud)|founded in \d{4}|(?:since|established in) \d{4}"
    r"|headquarter(?:ed|s)|our (?:mission|vision|values|culture|story|customers span)|fortune \d+"
    r"|industry[- ]leading|world[- ]class|we (?:offer|provide) (?:a )?(?:competitive|attractive|great)"
    r"|competitive (?:salary|pay|compensation|benefits)|health (?:insurance|benefits)|dental|401\(?k\)?"
    r"|paid (?:time off|leave|vacation)|pension|stock options|bonus(?:es)?\b|annual leave"
    r"|how to apply|apply (?:now|today|online|via|through)|send (?:your|a) (?:cv|resume|résumé)"
    r"|please (?:submit|send|apply)|visit (?:our|us)|www\.|https?://|@\w+\.\w+"
    r"|privacy (?:policy|notice)|recruitment agenc|background check|drug[- ]free"
    r"|平等就业|机会均等|不限(?:性别|民族)|公司简介|公司介绍|成立于|总部位于|我们是(?:一家)?|五险一金"
    r"|带薪(?:年假|休假)|薪资|薪酬|待遇优厚|福利|补贴|年终奖|包吃住|简历(?:投递|发送)|投递简历|联系电话"
    r"|欢迎(?:加入|投递)|上市公司|世界500强|行业领先|领先的|工作时间|上班时间|双休|单休|大小周|作息"
    r"|工作地点|上班地点|月薪|底薪|提成|面议|食宿|包住|包吃|社保|公积金|体检|团建|旅游|节日|联系人|电话"
    r"|微信|邮箱|面试|应聘|有意者|晋升|发展空间|岗前培训|带薪培训|员工宿舍|工作餐|班车|加班费"
    r"|\d\s*元",
    re.IGNORECASE,
)
_HEADING_BOILERPLATE = re.compile(
    r"^(?:about (?:us|the company|the team|[a-z0-9&.\- ]{1,40})|who we are|our company"
    r"|company (?:overview|profile)"
    r"|benefits|perks|what we offer|why (?:join us|work (?:with|for) us)|compensation|salary"
    r"|equal opportunity(?: employer)?|eeo statement|how to apply|application process|contact"
    r"|公司介绍|公司简介|关于我们|福利待遇|薪资福利|薪酬福利|联系方式|投递方式|工作时间|工作地点|我们提供"
    r"|公司福利|职位福利|岗位福利|应聘方式|联系我们|公司地址|薪资待遇|待遇)\s*[:：]?$",
    re.IGNORECASE,
)
_HEADING_CONTENT = re.compile(
    r"^(?:requirements?|qualifications?|responsibilities|duties|what you(?:'ll)? (?:do|bring|need)"
    r"|skills?|must[- ]haves?|nice[- ]to[- ]haves?|preferred|key skills|the role|your role|job description"
    r"|course (?:content|description|outcomes)|learning outcomes|objectives|syllabus|topics"
    r"|任职要求|岗位要求|岗位职责|工作职责|职位描述|任职资格|技能要求|课程内容|课程目标|教学目标|学习成果"
    r"|职位要求|岗位描述|工作内容|任职条件|职位职责|岗位说明|加分项|优先条件|职责描述|主要职责)\s*[:：]?$",
    re.IGNORECASE,
)
_STOP_WORDS = """
a an the and or of to in on for with at by from as is are be been being this that these those we you our
your their its it will can may must should would could has have had do does did not no nor but if so than
then such very more most other some any all each per via into over
"""
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Sentence:
    text: str
    boilerplate: bool


def _lines(text: str) -> list[str]:
    """Logical lines: a hard-wrapped paragraph is joined back into one line; a blank line, a bullet,
    a heading, a short title line or a line that ends a sentence (or a colon) ends it."""
    out: list[str] = []
    open_line = False
    for raw in re.split(r"\r\n|\r|\n", text):
        line = raw.strip()
        if not line:
            open_line = False
            continue
        short_title = bool(out) and len(out[-1].split()) < 6 and not line[:1].islower()
        starts_new = (
            not open_line
            or short_title  # "Warehouse assistant" above the text is a title, not a wrapped line
            or _BULLET.match(raw) is not None
            or _HEADING_BOILERPLATE.match(line) is not None
            or _HEADING_CONTENT.match(line) is not None
        )
        if starts_new:
            out.append(line)
        else:
            joiner = "" if CJK_CHAR.match(out[-1][-1:]) and CJK_CHAR.match(line[:1]) else " "
            out[-1] = f"{out[-1]}{joiner}{line}"
        last = out[-1]
        heading = _HEADING_BOILERPLATE.match(last) or _HEADING_CONTENT.match(last)
        open_line = not (heading or last.endswith((".", "!", "?", "。", "！", "？", ";", "；", ":", "：")))
    return out


def split_sentences(text: str) -> list[Sentence]:
    """The description's sentences in order, each flagged when it is boilerplate."""
    out: list[Sentence] = []
    in_boilerplate_section = False
    for raw_line in _lines(text):
        line = _BULLET.sub("", raw_line).strip()
        if not line:
            continue
        if _HEADING_BOILERPLATE.match(line):
            in_boilerplate_section = True
            continue
        if _HEADING_CONTENT.match(line):
            in_boilerplate_section = False
            continue
        heading, sep, rest = line.partition(":") if ":" in line[:40] else line.partition("：")
        if sep and rest.strip():
            if _HEADING_BOILERPLATE.match(heading.strip()):
                out.extend(Sentence(s, True) for s in _sentences(rest))
                continue
            if _HEADING_CONTENT.match(heading.strip()):
                in_boilerplate_section = False
                line = rest.strip()
        for sentence in _sentences(line):
            out.append(Sentence(sentence, in_boilerplate_section or bool(_BOILERPLATE.search(sentence))))
    return out


def _sentences(line: str) -> list[str]:
    merged: list[str] = []
    for part in _SENTENCE_END.split(line):
        part = part.strip() if part else ""
        if not part:
            continue
        if merged and _ENDS_WITH_ABBREV.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [_BULLET.sub("", p).strip() for p in merged if _BULLET.sub("", p).strip()]


def tokens(sentence: str) -> list[tuple[str, bool]]:
    """(normalised token, written with a capital or digit first) for each token of a sentence."""
    out = []
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", sentence)):
        raw = match.group(0)
        lead = raw.lstrip(".")[:1]
        out.append((normalize_phrase(raw), lead.isupper() or lead.isdigit()))
    return out


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    norm: str
    capitalised: bool
    cjk_piece: bool = False


def spans(sentence: str, max_n: int = MAX_NGRAM) -> list[Span]:
    """Every n-gram of up to ``max_n`` tokens that neither starts nor ends with a stop word (token
    positions, normalised text, whether its first token was capitalised); a CJK run also gives its
    character n-grams (2..8) as ``cjk_piece`` spans."""
    toks = tokens(sentence)
    words = [t for t, _ in toks]
    out: list[Span] = []
    seen: set[tuple[int, int, str]] = set()
    for i, (tok, cap) in enumerate(toks):
        if CJK_CHAR.match(tok):
            for a in range(len(tok)):
                for b in range(a + 2, min(len(tok), a + max_n) + 1):
                    if (i, i + 1, tok[a:b]) not in seen and b - a < len(tok):
                        seen.add((i, i + 1, tok[a:b]))
                        out.append(Span(i, i + 1, tok[a:b], False, cjk_piece=True))
        if tok in _STOP:
            continue
        for j in range(i + 1, min(len(toks), i + max_n) + 1):
            if words[j - 1] in _STOP:
                continue
            out.append(Span(i, j, " ".join(words[i:j]), cap))
    return out


def chunks(sentence: str) -> list[str]:
    """Candidate skill phrases of a sentence for semantic matching (see the module docstring): each
    chunk, and in a chunk of more than ``WINDOW_FROM`` words its windows of 3 and 5 words (every other
    word; none starting or ending with a stop word), so "talk to clients at the counter every day"
    also offers "talk to clients"."""
    out: list[str] = []
    for part in _CHUNK_SPLIT.split(sentence):
        phrase = part.strip(" .!?。！？-–—\"'“”")
        for _ in range(3):
            stripped = _LEAD_IN.sub("", phrase).strip()
            if stripped == phrase:
                break
            phrase = stripped
        words = phrase.split()
        while words and words[-1].lower() in _STOP:
            words.pop()
        while words and words[0].lower() in _STOP:
            words.pop(0)
        if not words:
            continue
        phrase = " ".join(words)
        if len(words) <= MAX_CHUNK_TOKENS:
            out.append(phrase)
        if len(words) > WINDOW_FROM:
            for size in (3, 5):
                if size >= len(words):
                    continue
                for start in range(0, len(words) - size + 1, 2):
                    window = words[start : start + size]
                    if window[0].lower() in _STOP or window[-1].lower().strip(".,") in _STOP:
                        continue
                    out.append(" ".join(window))
    return list(dict.fromkeys(out))


def is_generic_label(norm: str) -> bool:
    """Labels too short or too common to count as an exact mention on their own (e.g. "rs", "it")."""
    return len(norm) <= 2 or norm in _STOP
