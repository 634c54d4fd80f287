"""Recognise typed skill names as canonical taxonomy skills.

``canonical_ids`` is called when demands, graduates and courses are written: each typed name keeps
its text and gains the taxonomy's ``skill_id`` when the name is recognised confidently: it equals a
preferred, alternative or hidden label (after normalisation: case, width, spaces), or it is a
near-match (embedding + lexical, see :mod:`service.taxonomy.scoring`) that scores at least
``CANONICAL_MIN`` with a clear margin over the next skill. Results are memoised per process until the
taxonomy changes, so a bulk write pays for each distinct name once.

Sessions made by the app or the CLI carry a :class:`~service.taxonomy.runtime.TaxonomyRuntime` (the
in-memory index and the encoder). A bare session (a script) gets exact label matches from SQL only.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.taxonomy import repository as repo
from service.taxonomy.runtime import runtime_for
from service.taxonomy.service import canonical
from service.text import normalize_phrase

_KIND_ORDER = {"preferred": 0, "alt": 1, "hidden": 2}


def canonical_ids(session: Session, names: list[str]) -> list[str | None]:
    """The canonical skill id for each name, or None where the taxonomy does not know it."""
    if not names:
        return []
    runtime = runtime_for(session)
    if runtime is not None:
        return canonical(session, runtime, names)
    norms = [normalize_phrase(n) for n in names]
    best: dict[str, tuple[int, str]] = {}
    for norm, skill_id, kind in repo.exact_labels(session, [n for n in norms if n]):
        rank = (_KIND_ORDER.get(kind, 3), skill_id)
        known = best.get(norm)
        if known is None or rank < (known[0], known[1]):
            best[norm] = (rank[0], skill_id)
    return [best[n][1] if n in best else None for n in norms]
