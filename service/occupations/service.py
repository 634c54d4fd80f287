"""Occupations: title normalisation, look-up, and the skills a demand posted for an occupation is
proposed. The import of a classification is :mod:`service.occupations.importing`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from service import changes
from service.embeddings import cache as phrase_cache
from service.embeddings.encoder import Encoder, EncoderUnavailable
from service.errors import Unprocessable
from service.memory import release_memory
from service.occupations import repository as repo
from service.occupations.importers import OccupationRecord
from service.occupations.matcher import ENGLISH, MULTILINGUAL, Entry, Hit, TitleMatcher, Vectors
from service.orm import Occupation
from service.text import normalize_phrase

SESSION_INFO_KEY = "occupation_runtime"
INFER_MIN = 0.6
INFER_MAX_SKILLS = 30
ESSENTIAL_IMPORTANCE = 4
TASK_IMPORTANCE = 3
MAX_SKILL_NAME = 200


# -- the in-memory matcher ---------------------------------------------------------------------


def entries_of(records: Sequence[OccupationRecord]) -> list[Entry]:
    return [Entry(r.occupation_id, r.taxonomy, r.code, r.label, r.names(), r.level) for r in records]


class OccupationRuntime:
    """Per-process state: the title matcher at the database's ``occupation`` state, for its encoders.

    ``encoder`` gives the multilingual encoder (every title); ``english`` the service's English encoder
    when it is another one (titles without CJK characters), or None."""

    def __init__(
        self, encoder: Callable[[], Encoder | None], english: Callable[[], Encoder | None] | None = None
    ) -> None:
        self._encoder = encoder
        self._english = english or (lambda: None)
        self._lock = threading.Lock()
        self._matcher: tuple[int, str, TitleMatcher] | None = None

    def encoder(self) -> Encoder:
        enc = self._encoder()
        if enc is None:
            raise EncoderUnavailable("The encoder is not loaded; job titles cannot be matched.")
        return enc

    def encoders(self) -> dict[str, Encoder]:
        """The matcher's channels: ``multilingual`` and, when there is another one, ``english``."""
        out = {MULTILINGUAL: self.encoder()}
        english = self._english()
        if english is not None and phrase_cache.model_key(english) != phrase_cache.model_key(
            out[MULTILINGUAL]
        ):
            out[ENGLISH] = english
        return out

    def matcher(self, session: Session) -> TitleMatcher:
        encoders = self.encoders()
        model = "+".join(phrase_cache.model_key(e) for e in encoders.values())
        seq = changes.current(session, changes.OCCUPATION)
        current = self._matcher
        if current is not None and current[0] == seq and current[1] == model:
            return current[2]
        with self._lock:
            current = self._matcher
            if current is not None and current[0] == seq and current[1] == model:
                return current[2]
            rows = repo.all_occupations(session)
            entries = [
                Entry(occ, tax, code, label, (label, *(str(a) for a in alts or ())), level)
                for occ, tax, code, label, alts, _definition, level in rows
            ]

            def label_vectors(encoder: Encoder) -> Vectors:
                def vectors(norms: list[str]) -> np.ndarray:
                    found = phrase_cache.load_cached(session, encoder, norms)
                    missing = [n for n in dict.fromkeys(norms) if n and n not in found]
                    if missing:
                        found.update(zip(missing, encoder.encode(missing), strict=True))
                    out = np.zeros((len(norms), encoder.dim), dtype=np.float32)
                    for i, n in enumerate(norms):
                        if n in found:
                            out[i] = found[n]
                    return out

                return vectors

            matcher = TitleMatcher(entries, {name: label_vectors(enc) for name, enc in encoders.items()})
            release_memory()
            self._matcher = (seq, model, matcher)
            return matcher

    def query_channels(self, session: Session) -> dict[str, Vectors]:
        def channel(encoder: Encoder) -> Vectors:
            return lambda norms: phrase_cache.vectors_for(session, encoder, norms, store=False)

        return {name: channel(enc) for name, enc in self.encoders().items()}


def runtime_for(session: Session) -> OccupationRuntime | None:
    runtime = session.info.get(SESSION_INFO_KEY)
    return runtime if isinstance(runtime, OccupationRuntime) else None


def attach(sessionmakers: list[object], runtime: OccupationRuntime) -> None:
    """Make ``runtime`` reachable from every session these sessionmakers create (``session.info``)."""
    for maker in sessionmakers:
        kw = getattr(maker, "kw", {})
        info = dict(kw.get("info") or {})
        info[SESSION_INFO_KEY] = runtime
        maker.configure(info=info)  # type: ignore[attr-defined]


def _runtime(session: Session) -> OccupationRuntime:
    runtime = runtime_for(session)
    if runtime is None:  # pragma: no cover - every app session carries one
        raise RuntimeError("no occupation runtime is attached to this session")
    return runtime


@dataclass(frozen=True)
class Match:
    occupation_id: str
    code: str | None
    label: str
    taxonomy: str
    score: float
    matched_label: str


def normalize(
    session: Session, texts: list[str], *, top_k: int = 5, taxonomy: str | None = None
) -> list[tuple[str, list[Match]]]:
    """The ``top_k`` occupations each job title names, best first."""
    runtime = _runtime(session)
    matcher = runtime.matcher(session)
    if not matcher.entries:
        return [(t, []) for t in texts]

    ranked = matcher.rank(texts, runtime.query_channels(session), top_k=top_k, taxonomy=taxonomy)
    return [(t, [_match(matcher, h) for h in hits]) for t, hits in zip(texts, ranked, strict=True)]


def _match(matcher: TitleMatcher, hit: Hit) -> Match:
    e = matcher.entries[hit.entry]
    return Match(e.occupation_id, e.code, e.label, e.taxonomy, hit.score, hit.matched)


def search(session: Session, q: str, *, taxonomy: str | None, limit: int) -> list[Match]:
    """Autocomplete: names starting with ``q`` first (shortest first), then the title matcher's."""
    runtime = _runtime(session)
    matcher = runtime.matcher(session)
    norm = normalize_phrase(q)
    if not norm or not matcher.entries:
        return []
    out: list[Match] = []
    seen: set[int] = set()
    prefixed = sorted(
        (
            (len(nn), i, n)
            for i, e in enumerate(matcher.entries)
            if taxonomy is None or e.taxonomy == taxonomy
            for n in e.names
            if (nn := normalize_phrase(n)).startswith(norm)
        ),
        key=lambda x: (x[0], x[1]),
    )
    for length, i, name in prefixed:
        if i in seen:
            continue
        seen.add(i)
        e = matcher.entries[i]
        score = 1.0 if length == len(norm) else round(0.5 + 0.5 * len(norm) / length, 4)
        out.append(Match(e.occupation_id, e.code, e.label, e.taxonomy, score, name))
        if len(out) >= limit:
            return out
    (hits,) = matcher.rank([q], runtime.query_channels(session), top_k=limit * 2, taxonomy=taxonomy)
    for hit in hits:
        if hit.entry not in seen and len(out) < limit:
            seen.add(hit.entry)
            out.append(_match(matcher, hit))
    return out


def get(session: Session, occupation_id: str) -> Occupation | None:
    """One occupation by its id (an ESCO URI or a CSCO code), or by its classification code."""
    return repo.get(session, occupation_id) or repo.by_code(session, occupation_id)


@dataclass(frozen=True)
class OccupationSkill:
    skill_id: str
    label: str | None
    relation: str
    skill_type: str | None


def skills_of(session: Session, occupation: Occupation) -> list[OccupationSkill]:
    return [
        OccupationSkill(s, label, r, t)
        for s, r, t, label in repo.skills_of(session, occupation.occupation_id)
    ]


def list_page(session: Session, *, limit: int, after: str | None, taxonomy: str | None) -> list[Occupation]:
    return repo.list_page(session, limit=limit, after=after, taxonomy=taxonomy)


# -- demands from an occupation or a title -----------------------------------------------------


def _no_skills(message: str, field_name: str) -> Unprocessable:
    return Unprocessable(
        message,
        extra={"errors": [{"loc": ["body", field_name], "msg": message, "type": "value_error"}]},
    )


def proposed_skills(session: Session, occupation: Occupation) -> list[dict[str, Any]]:
    """Demand skill rows for an occupation (marked ``inferred``): its essential skills (ESCO, those
    whose labels the imported skills taxonomy knows) or its tasks (CSCO)."""
    rows: list[dict[str, Any]] = []
    if occupation.taxonomy == "esco":
        for s in skills_of(session, occupation):
            if s.relation == "essential" and s.label:
                rows.append(_skill(s.label[:MAX_SKILL_NAME], ESSENTIAL_IMPORTANCE, s.skill_id))
    else:
        rows = [_skill(str(t)[:MAX_SKILL_NAME], TASK_IMPORTANCE, None) for t in occupation.tasks or []]
    seen: set[str] = set()
    unique = []
    for row in rows:
        norm = normalize_phrase(row["name"])
        if norm and norm not in seen:
            seen.add(norm)
            unique.append(row)
    return unique[:INFER_MAX_SKILLS]


def _skill(name: str, importance: int, skill_id: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "importance": importance,
        "level": None,
        "required": False,
        "skill_id": skill_id,
        "inferred": True,
    }


def occupation_for_demand(session: Session, occupation_id: str) -> Occupation:
    """The occupation a demand names; 422 when it is not an imported one."""
    occupation = get(session, occupation_id)
    if occupation is None:
        raise _no_skills(
            f"No imported occupation {occupation_id!r} (import one: talentmatch taxonomy import csco FILE, "
            "or the ESCO export with occupations_en.csv).",
            "occupation_id",
        )
    return occupation


def occupation_from_title(session: Session, title: str) -> Occupation | None:
    """The occupation a demand's title names when the matcher is confident (score >= INFER_MIN)."""
    runtime = runtime_for(session)
    if runtime is None:
        return None
    ((_, hits),) = normalize(session, [title], top_k=1)
    if not hits or hits[0].score < INFER_MIN:
        return None
    return get(session, hits[0].occupation_id)


def skills_for_occupation(session: Session, occupation: Occupation) -> list[dict[str, Any]]:
    rows = proposed_skills(session, occupation)
    if not rows:
        raise _no_skills(
            f"The occupation {occupation.occupation_id!r} has no skills or tasks to propose; give `skills`.",
            "skills",
        )
    return rows
