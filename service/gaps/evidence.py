"""What a curriculum offers as evidence of a skill, the pure part: no SQL, no HTTP, no encoder.

:func:`curriculum_evidence` lists what a curriculum offers as evidence: each course's title, its
learning outcomes and its tagged skills. A learning outcome is usually a sentence that teaches
several things ("Students will be able to set up and operate CNC lathes, and read drawings to
check parts"), while a demanded skill is a short phrase; comparing the phrase with the whole
sentence dilutes both the embedding and the lexical channel. So each outcome is also scored
through its *units* (:func:`outcome_units`): the outcome without its generic lead-in ("Students
will be able to", "能够", "掌握"), its parts between punctuation (and Chinese 并) except those
that only elaborate the previous part (", such as ...", ", and other ...", ", using ..."), and
the head of each part before a subordinate clause ("... to check parts", "... such as ...").
The evidence shown is always the whole outcome; ``matched`` names the unit that matched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.text import CJK, count_cjk


@dataclass(frozen=True)
class EvidenceItem:
    """Something a curriculum offers as evidence of a skill: ``unit`` is the text scored, ``text`` the
    course title, learning outcome or tagged skill it comes from."""

    course_index: int
    course_id: str | None
    course_title: str
    text: str
    kind: str  # "title" | "outcome" | "skill"
    unit: str = ""

    @property
    def scored(self) -> str:
        return self.unit or self.text


# Generic lead-ins of learning outcomes, English and Chinese (removed before scoring a unit).
_LEAD_IN = re.compile(
    r"^(?:(?:students|learners|graduates|trainees|participants)\s+)?"
    r"(?:(?:will|should|shall|are|can|must)\s+)?(?:be\s+)?"
    r"(?:(?:able|expected)\s+to|can|know\s+how\s+to|(?:learn|practi[sc]e)(?:\s+how)?\s+to)\s+"
    r"|^(?:学生|学员|毕业生)?(?:应|将)?(?:能够|能|会|熟练掌握|掌握|熟悉|了解|具备|学会)",
    re.IGNORECASE,
)
_PARTS = re.compile(rf"\s*(?:[,;:，；：、。！？!?]|(?<=[{CJK}])并(?:能)?)\s*")
_CLAUSE = re.compile(
    r"\s+(?:to|in\s+order\s+to|so\s+that|such\s+as|including|according\s+to|which|that|for)\s+",
    re.IGNORECASE,
)
_CONJUNCTION = re.compile(
    r"^(?:and|or|then|also|as\s+well\s+as)\s+|^(?:并且|并|和|及|以及|且)", re.IGNORECASE
)
# A part after a comma that starts like this elaborates the previous part ("..., such as X",
# "..., and other data", "..., using Y"); it is not scored on its own.
_CONTINUATION = re.compile(
    r"^(?:such\s+as|including|include|e\.g\.|for\s+example|especially|particularly|like|using|with|"
    r"by|from|in|on|at|of|for|to|as|other|etc|which|who|whose|where|when|while|whether|if|"
    r"such|these|those|this|it|them|its|their)\b",
    re.IGNORECASE,
)


def _substantial(text: str) -> bool:
    """Long enough to stand as a unit: two words, or two CJK characters."""
    return len(text.split()) >= 2 or count_cjk(text) >= 2


def outcome_units(text: str) -> list[str]:
    """The texts an outcome is scored through: itself, then its shorter units (see module doc)."""
    text = " ".join(text.split())
    units = [text]
    body = _LEAD_IN.sub("", text, count=1).strip()
    if body and body != text and _substantial(body):
        units.append(body)
    for i, raw in enumerate(_PARTS.split(body or text)):
        part = _CONJUNCTION.sub("", raw.strip(), count=1)
        if i > 0 and _CONTINUATION.match(part):
            continue
        part = _LEAD_IN.sub("", part, count=1).strip()
        if _substantial(part):
            units.append(part)
            head = _CLAUSE.split(part, maxsplit=1)[0].strip()
            if head != part and _substantial(head):
                units.append(head)
    return list(dict.fromkeys(u for u in units if u))


def curriculum_evidence(courses: Sequence[dict[str, Any]]) -> list[EvidenceItem]:
    """Evidence items of a curriculum; ``courses`` are dicts with ``title``, ``learning_outcomes``,
    ``skills`` (names or ``{"name"}`` dicts) and optionally ``id``. Empty texts are skipped."""
    items: list[EvidenceItem] = []
    for index, course in enumerate(courses):
        cid = course.get("id")
        title = str(course.get("title") or "").strip()
        if title:
            items.append(EvidenceItem(index, cid, title, title, "title"))
        for outcome in course.get("learning_outcomes") or []:
            text = str(outcome).strip()
            if text:
                for unit in outcome_units(text):
                    items.append(EvidenceItem(index, cid, title, text, "outcome", unit))
        for skill in course.get("skills") or []:
            text = str(skill.get("name") if isinstance(skill, dict) else skill).strip()
            if text:
                items.append(EvidenceItem(index, cid, title, text, "skill"))
    return items
