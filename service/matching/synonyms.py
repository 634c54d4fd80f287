"""Synonyms from an imported taxonomy: two texts that are labels of one taxonomy skill are one skill.

ESCO lists "CAD" and "computer-aided design" as alternative labels of *use CAD software*, O*NET "Excel"
beside "Microsoft Excel". Where a demanded skill and a phrase on the other side (a graduate's skill, a
course's learning outcome) both equal, after normalisation, a preferred, alternative or hidden label of
the same taxonomy skill, the pair's fused similarity is lifted to 1.0, as if the texts were written
alike: the taxonomy says so, whatever the encoder makes of the two wordings. Only exact labels count (a
near-match to a label is the encoder's judgement, already in the similarity).

Pure: a :class:`Synonyms` snapshot is built by the taxonomy package from its index
(:meth:`service.taxonomy.index.TaxonomyIndex.synonyms`) and reaches the matcher through the session
(:func:`service.matching.engine.synonyms_for`); no taxonomy imported means no snapshot and nothing
changes. The evidence of such a pair names the taxonomy skill (``same_skill``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from service.text import normalize_phrase

SAME_SKILL = 1.0  # the fused similarity of two labels of one taxonomy skill (that of identical texts)
SESSION_INFO_KEY = "synonyms_provider"  # where sessions carry the provider (set by the taxonomy package)


@dataclass(frozen=True)
class Synonyms:
    """The taxonomy skills each normalised text is a label of, at one taxonomy state.

    ``lookup(norm)`` returns the skill numbers (ints, any numbering fixed for the snapshot) whose
    labels include ``norm``; ``describe(n)`` the stable id and preferred label of skill ``n``; ``key``
    identifies the taxonomy state (memos built from one snapshot are rebuilt for another).
    """

    key: Hashable
    lookup: Callable[[str], Sequence[int]]
    describe: Callable[[int], tuple[str, str]]

    def of(self, texts: Sequence[str]) -> list[frozenset[int]]:
        """The taxonomy skills of each text (empty where it is no label)."""
        return [frozenset(self.lookup(normalize_phrase(t))) for t in texts]

    def shared(self, a: str, b: str) -> tuple[str, str] | None:
        """(skill id, preferred label) of a taxonomy skill both texts are labels of, else None."""
        common = set(self.lookup(normalize_phrase(a))) & set(self.lookup(normalize_phrase(b)))
        return self.describe(min(common)) if common else None

    def same_skill(self, wanted: str, matched: str) -> dict[str, str] | None:
        """The evidence's ``same_skill`` entry: set when ``matched`` is *another* label of a taxonomy
        skill ``wanted`` is a label of (the same text needs no explanation)."""
        if normalize_phrase(wanted) == normalize_phrase(matched):
            return None
        same = self.shared(wanted, matched)
        return None if same is None else {"skill_id": same[0], "label": same[1]}

    def columns(
        self, texts: Sequence[str], start: int = 0, into: dict[int, list[int]] | None = None
    ) -> dict[int, list[int]]:
        """Taxonomy skill -> positions (from ``start``) of the ``texts`` that are its labels, added to
        ``into`` when given."""
        out: dict[int, list[int]] = {} if into is None else into
        for p, skills in enumerate(self.of(texts), start=start):
            for s in skills:
                out.setdefault(s, []).append(p)
        return out

    def lift(self, sim: np.ndarray, demand_texts: Sequence[str], phrase_texts: Sequence[str]) -> np.ndarray:
        """In place on ``sim`` (k, P): :data:`SAME_SKILL` where the demanded skill and the phrase are
        labels of one taxonomy skill. Cost: a dictionary look-up per text."""
        wanted = self.of(demand_texts)
        if not any(wanted):
            return sim
        return lift_rows(sim, wanted, self.columns(phrase_texts))


def lift_rows(
    sim: np.ndarray, wanted: Sequence[frozenset[int]], by_skill: dict[int, list[int]]
) -> np.ndarray:
    """:meth:`Synonyms.lift` given each row's taxonomy skills and the columns of each skill."""
    for j, skills in enumerate(wanted):
        # columns past the matrix: phrases added to a store after this similarity was computed
        cols = sorted({p for s in skills for p in by_skill.get(s, ()) if p < sim.shape[1]})
        if cols:
            sim[j, cols] = SAME_SKILL
    return sim
