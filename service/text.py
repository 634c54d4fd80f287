"""Phrase text: the normal form phrases are compared and cached under, and script detection.

:func:`normalize_phrase` is the one key of a phrase everywhere (the phrase cache, exact label look-ups,
de-duplication). ``CJK`` is the one definition of the CJK scripts (kana, CJK ideographs with their
extensions and compatibility block, Hangul) for the regular expressions that need it as a character
class body; :func:`is_cjk` and :func:`has_cjk` test characters and texts against it.
"""

from __future__ import annotations

import re
import unicodedata

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff"
CJK_CHAR = re.compile(f"[{CJK}]")
_WS = re.compile(r"\s+")


def normalize_phrase(text: str) -> str:
    """The cache key of a phrase: NFKC, case-folded, runs of whitespace collapsed, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def compared_as(text: str | None, code: str | None) -> tuple[str | None, str | None]:
    """(code, comparison key) of a text a classification may name (a region, an industry): the key is
    the ``code`` of the entry it names, else the text's normal form; (None, None) for no text."""
    if not text or not text.strip():
        return None, None
    return (code, code) if code is not None else (None, normalize_phrase(text)[:200])


def is_cjk(char: str) -> bool:
    """Whether the character ``char`` is written in a CJK script."""
    return CJK_CHAR.fullmatch(char) is not None


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any CJK character."""
    return CJK_CHAR.search(text) is not None


def count_cjk(text: str) -> int:
    """How many CJK characters ``text`` holds."""
    return len(CJK_CHAR.findall(text))
