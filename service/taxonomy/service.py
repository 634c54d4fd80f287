"""Skills taxonomy: the version in force, normalisation, autocomplete, extraction, canonical ids.

The import is :mod:`service.taxonomy.importing`, re-embedding :mod:`service.taxonomy.reembed`. These
functions never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.errors import Unprocessable
from service.orm import TaxonomyVersion
from service.taxonomy import extraction, zh_extraction
from service.taxonomy import repository as repo
from service.taxonomy.index import TaxonomyIndex
from service.taxonomy.runtime import TaxonomyRuntime, runtime_for
from service.text import has_cjk, normalize_phrase

CANONICAL_MIN = 0.8
CANONICAL_MARGIN = 0.05
EXTRACT_MIN = 0.5
SINGLE_WORD_MIN = 0.9
AS_WRITTEN = 0.6  # a Chinese skill phrase no taxonomy label matches, kept as written
SEARCH_MIN = 0.35
EXACT_CONFIDENCE = 1.0
HIDDEN_CONFIDENCE = 0.95
MEMO_LIMIT = 200_000
VERSION_LENGTH = 64


def current_version(session: Session) -> str | None:
    """The taxonomy in force, e.g. ``esco@v1.1.1+onet@29.2`` (stored with matches); None if empty."""
    parts = []
    for source in repo.sources_present(session):
        latest = repo.latest_version(session, source)
        parts.append(f"{source}@{latest.version if latest else 'unknown'}")
    if not parts:
        return None
    value = "+".join(parts)
    return value if len(value) <= VERSION_LENGTH else value[: VERSION_LENGTH - 1] + "…"


def versions(session: Session) -> list[TaxonomyVersion]:
    return repo.versions(session)


# -- matching texts to skills ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    skill_id: str
    label: str
    score: float
    matched_label: str
    source: str


def _candidate(index: TaxonomyIndex, skill: int, score: float, label: int) -> Candidate:
    return Candidate(
        skill_id=index.skill_ids[skill],
        label=index.skill_labels[skill],
        score=round(float(score), 4),
        matched_label=index.label_text[label],
        source=index.skill_sources[skill],
    )


def require_runtime(session: Session) -> TaxonomyRuntime:
    runtime = runtime_for(session)
    if runtime is None:  # pragma: no cover - every app and CLI session carries one
        raise RuntimeError("no taxonomy runtime is attached to this session")
    return runtime


def normalize(
    session: Session, texts: list[str], *, top_k: int = 5, min_score: float = 0.0
) -> list[tuple[str, list[Candidate]]]:
    """Rank canonical skills for each text (preferred, alternative and hidden labels all count)."""
    runtime = require_runtime(session)
    index = runtime.index(session)
    norms = [normalize_phrase(t) for t in texts]
    unique = [n for n in dict.fromkeys(norms) if n]
    results: dict[str, list[Candidate]] = {}
    if unique and not index.empty:
        vecs = runtime.query_vectors(session, unique)
        for norm, hits in zip(unique, index.search(vecs, unique, top_k), strict=True):
            results[norm] = [
                _candidate(index, h.skill, h.score, h.label) for h in hits if h.score >= min_score
            ]
    return [(text, results.get(norm, [])) for text, norm in zip(texts, norms, strict=True)]


def search(session: Session, q: str, *, limit: int = 20) -> list[tuple[Candidate, str]]:
    """Autocomplete: labels starting with ``q`` (shortest first), then semantic and lexical neighbours."""
    runtime = require_runtime(session)
    index = runtime.index(session)
    norm = normalize_phrase(q)
    if not norm or index.empty:
        return []
    out: list[tuple[Candidate, str]] = []
    seen: set[int] = set()
    for skill, label in index.exact_skills(norm)[:limit]:
        out.append((_candidate(index, skill, 1.0, label), "exact"))
        seen.add(skill)
    for skill, label in index.prefix(norm, limit + len(seen)):
        if skill in seen or len(out) >= limit:
            continue
        score = 0.5 + 0.5 * len(norm) / max(len(index.label_norm[label]), 1)
        out.append((_candidate(index, skill, score, label), "prefix"))
        seen.add(skill)
    if len(out) < limit:
        vecs = runtime.query_vectors(session, [norm])
        (hits,) = index.search(vecs, [norm], limit + len(seen))
        for hit in hits:
            if len(out) >= limit:
                break
            if hit.skill in seen or hit.score < SEARCH_MIN:
                continue
            out.append((_candidate(index, hit.skill, hit.score, hit.label), "semantic"))
            seen.add(hit.skill)
    return out


@dataclass(frozen=True)
class Extracted:
    skill_id: str | None
    label: str
    score: float
    evidence: str
    matched: str
    source: str | None


def extract(
    session: Session, text: str, *, min_score: float = EXTRACT_MIN, max_skills: int = 50
) -> list[Extracted]:
    """Skills a free-text description asks for, each with the sentence that evidences it.

    Boilerplate sentences (company blurb, equal-opportunity statement, benefits) are dropped first.
    A label found verbatim in a sentence scores 1.0; otherwise each chunk of a sentence is scored
    against all labels (embedding + lexical) and kept above ``min_score``. A sentence with Chinese
    text gives its skill phrases (:func:`zh_extraction.phrases`) instead of chunks: each is the
    taxonomy's skill when a label is that phrase or matches it confidently (``CANONICAL_MIN`` with a
    margin, as for typed names), else the phrase as written (no ``skill_id``, score ``AS_WRITTEN``),
    with or without an imported taxonomy.
    """
    runtime = require_runtime(session)
    index = runtime.index(session)
    sentences = [s.text for s in extraction.split_sentences(text) if not s.boilerplate]
    best: dict[int, tuple[float, int, int, str]] = {}  # skill -> (score, order, label, evidence)
    written: dict[str, tuple[int, str, str]] = {}  # norm -> (order, phrase, evidence)

    def offer(skill: int, score: float, order: int, label: int, sentence: str) -> None:
        known = best.get(skill)
        if known is None or score > known[0]:
            best[skill] = (score, order if known is None else min(order, known[1]), label, sentence)

    chunk_sources: dict[str, tuple[int, str]] = {}
    zh_sources: dict[str, tuple[int, str, str]] = {}
    for k, sentence in enumerate(sentences):
        if has_cjk(sentence):
            for j, phrase in enumerate(zh_extraction.phrases(sentence)):
                zh_sources.setdefault(normalize_phrase(phrase), (k * 1000 + 500 + j, phrase, sentence))
        if index.empty:
            continue
        accepted: list[tuple[int, int]] = []
        for span in sorted(extraction.spans(sentence), key=lambda sp: sp.start - sp.end):
            if extraction.is_generic_label(span.norm):
                continue
            pairs = index.exact_skills(span.norm)
            if not pairs:
                continue
            skill, label = pairs[0]
            hidden = index.label_kind[label] == 2
            if hidden and span.end - span.start == 1 and not span.capitalised and not span.cjk_piece:
                continue  # "Excel" names the product; "excel" is a verb
            if not span.cjk_piece:
                if any(span.start < b and a < span.end for a, b in accepted):
                    continue  # inside a longer label already found
                accepted.append((span.start, span.end))
            conf = HIDDEN_CONFIDENCE if hidden else EXACT_CONFIDENCE
            offer(skill, conf, k * 1000 + span.start, label, sentence)
        for chunk in extraction.chunks(sentence):
            norm = normalize_phrase(chunk)
            if has_cjk(norm) or (has_cjk(sentence) and len(norm.split()) < 2):
                continue  # Chinese is read by zh_extraction, which keeps Latin names as written
            if norm and norm not in chunk_sources and not index.exact_skills(norm):
                chunk_sources[norm] = (k * 1000 + 999, sentence)
    zh_todo: list[str] = []
    for norm, (order, phrase, sentence) in zh_sources.items():
        pairs = [] if index.empty else index.exact_skills(norm)
        if pairs:
            offer(pairs[0][0], EXACT_CONFIDENCE, order, pairs[0][1], sentence)
        elif index.empty:
            written[norm] = (order, phrase, sentence)
        else:
            zh_todo.append(norm)
    if zh_todo:
        vecs = runtime.query_vectors(session, zh_todo)
        for norm, hits in zip(zh_todo, index.search(vecs, zh_todo, 2), strict=True):
            order, phrase, sentence = zh_sources[norm]
            top = hits[0].score if hits else 0.0
            second = hits[1].score if len(hits) > 1 else 0.0
            if top >= max(CANONICAL_MIN, min_score) and top - second >= CANONICAL_MARGIN:
                offer(hits[0].skill, top, order, hits[0].label, sentence)
            else:
                written[norm] = (order, phrase, sentence)
    norms = list(chunk_sources)
    if norms:
        vecs = runtime.query_vectors(session, norms)
        for norm, hits in zip(norms, index.search(vecs, norms, 2), strict=True):
            if not hits or hits[0].score < min_score:
                continue
            order, sentence = chunk_sources[norm]
            single_word = len(norm.split()) == 1 and not has_cjk(norm)
            for hit in hits:
                if hit.score < min_score or hit.score < hits[0].score - 0.1:
                    continue
                if (
                    single_word
                    and len(index.label_norm[hit.label].split()) > 1
                    and hit.score < SINGLE_WORD_MIN
                ):
                    continue  # "interfaces" alone does not name "Interface definition language IDL"
                offer(hit.skill, hit.score, order, hit.label, sentence)
    found = [
        (
            score,
            order,
            Extracted(
                skill_id=index.skill_ids[skill],
                label=index.skill_labels[skill],
                score=round(score, 4),
                evidence=sentence,
                matched=index.label_text[label],
                source=index.skill_sources[skill],
            ),
        )
        for skill, (score, order, label, sentence) in best.items()
    ]
    taken = {normalize_phrase(e.label) for _, _, e in found} | {
        normalize_phrase(e.matched) for _, _, e in found
    }
    if min_score <= AS_WRITTEN:
        found += [
            (AS_WRITTEN, order, Extracted(None, phrase, AS_WRITTEN, sentence, phrase, None))
            for norm, (order, phrase, sentence) in written.items()
            if norm not in taken
        ]
    found.sort(key=lambda t: (-t[0], t[1]))
    return [e for _, _, e in found[:max_skills]]


def inferred_skill_rows(session: Session, description: str) -> list[dict[str, Any]]:
    """Demand skill rows inferred from a description (marked ``inferred``); 422 when none is found.
    A Chinese phrase no taxonomy skill matches is kept as written, without a ``skill_id``."""
    found = extract(session, description, max_skills=20)
    if not found:
        raise Unprocessable(
            "No taxonomy skill could be inferred from the description; give `skills` explicitly "
            "(or import a taxonomy: talentmatch taxonomy import esco DIR).",
            extra={
                "errors": [{"loc": ["body", "skills"], "msg": "no skills inferred", "type": "value_error"}]
            },
        )
    return [
        {
            "name": e.label,
            "importance": 3,
            "level": None,
            "required": False,
            "skill_id": e.skill_id,
            "inferred": True,
        }
        for e in found
    ]


# -- canonical ids -----------------------------------------------------------------------------


def canonical(session: Session, runtime: TaxonomyRuntime, names: list[str]) -> list[str | None]:
    """The canonical skill id of each typed name, or None unless the taxonomy recognises it confidently:
    an exact label (preferred first), or a near-match scoring ≥ CANONICAL_MIN with a clear margin."""
    index = runtime.index(session)
    if index.empty:
        return [None] * len(names)
    memo = runtime.canonical_memo
    norms = [normalize_phrase(n) for n in names]
    todo = [n for n in dict.fromkeys(norms) if n and n not in memo]
    if todo:
        if len(memo) + len(todo) > MEMO_LIMIT:
            memo.clear()
        fuzzy = []
        for norm in todo:
            pairs = index.exact_skills(norm)
            if pairs:
                memo[norm] = index.skill_ids[pairs[0][0]]
            else:
                fuzzy.append(norm)
        if fuzzy:
            vecs = runtime.query_vectors(session, fuzzy, store=True)
            for norm, hits in zip(fuzzy, index.search(vecs, fuzzy, 2), strict=True):
                top = hits[0].score if hits else 0.0
                second = hits[1].score if len(hits) > 1 else 0.0
                confident = top >= CANONICAL_MIN and top - second >= CANONICAL_MARGIN
                memo[norm] = index.skill_ids[hits[0].skill] if confident else None
    return [memo.get(n) if n else None for n in norms]
