"""Job titles to occupations: character n-gram TF-IDF and a multilingual encoder, fused.

Each occupation is known by its names (label and alternative labels or aliases). A title is cleaned
(:func:`~service.occupations.titles.clean_title`) into a main part and alternatives; each part is
scored against every name by

- ``lexical``: cosine of character 1-3-gram TF-IDF vectors (fitted on the classification's own names,
  per classification), which catches shared characters of Chinese titles and spelling variants;
- ``semantic``: cosine of the multilingual encoder's vectors (paraphrases, other languages);

an occupation's channel score is its best name, the fused score ``w * lexical + (1 - w) * semantic``
with ``w`` per script (CJK or not), an exact name scores 1.0, and an alternative part counts
``alternative_weight`` times its score. The weights come from ``models/occupation_fusion.json``,
fitted by ``python -m training.occupation_fusion`` on O*NET alternate titles and CSCO aliases only.
Pure numpy / scikit-learn: no SQL, no HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from service.occupations.titles import clean_title
from service.paths import runtime_file
from service.text import has_cjk, normalize_phrase

FUSION_FILE = "models/occupation_fusion.json"
FLOAT16_ABOVE = 50_000
QUERY_BLOCK = 64


@dataclass(frozen=True)
class Fusion:
    lexical_weight_cjk: float = 0.5
    lexical_weight_latin: float = 0.5
    alternative_weight: float = 0.9

    def lexical_weight(self, text: str) -> float:
        return self.lexical_weight_cjk if has_cjk(text) else self.lexical_weight_latin


def load_fusion(path: Path | None = None) -> Fusion:
    """The fitted weights (defaults when the file is absent)."""
    path = path or Path(runtime_file(FUSION_FILE))
    if not path.is_file():
        return Fusion()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Fusion(
        lexical_weight_cjk=float(data["lexical_weight_cjk"]),
        lexical_weight_latin=float(data["lexical_weight_latin"]),
        alternative_weight=float(data["alternative_weight"]),
    )


@dataclass(frozen=True)
class Entry:
    occupation_id: str
    taxonomy: str
    code: str | None
    label: str
    names: tuple[str, ...]
    level: int | None = None


@dataclass(frozen=True)
class Hit:
    entry: int
    score: float
    matched: str


Vectors = Callable[[list[str]], np.ndarray]


class _Block:
    """The names of one classification: TF-IDF matrix, encoder vectors, occupation groups."""

    def __init__(self, entries: list[int], names: list[tuple[str, ...]], vectors: Vectors) -> None:
        self.entries = np.asarray(entries, dtype=np.int64)
        norms: list[str] = []
        starts: list[int] = []
        for group in names:
            starts.append(len(norms))
            seen: set[str] = set()
            for name in group:
                norm = normalize_phrase(name)
                if norm and norm not in seen:
                    seen.add(norm)
                    norms.append(norm)
            if len(norms) == starts[-1]:
                norms.append("")  # keeps the group non-empty; scores 0
        self.norms = norms
        self.starts = np.asarray(starts, dtype=np.int64)
        self.owner = np.repeat(np.arange(len(starts)), np.diff(np.append(self.starts, len(norms))))
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32
        )
        self.lexical = sp.csr_matrix(self.vectorizer.fit_transform([n or " " for n in norms]))
        vecs = vectors(norms)
        self.vectors = vecs.astype(np.float16 if len(norms) > FLOAT16_ABOVE else np.float32)
        self.exact: dict[str, list[int]] = {}
        for i, norm in enumerate(norms):
            if norm:
                self.exact.setdefault(norm, []).append(int(self.owner[i]))

    def scores(self, norms: list[str], q_vecs: np.ndarray, fusion: Fusion) -> tuple[np.ndarray, np.ndarray]:
        """(names x queries) fused scores, and (queries x occupations) each occupation's best."""
        lex = np.asarray((self.lexical @ self.vectorizer.transform(norms).T).todense(), dtype=np.float32)
        sem = (self.vectors @ q_vecs.astype(self.vectors.dtype).T).astype(np.float32)
        w = np.asarray([fusion.lexical_weight(n) for n in norms], dtype=np.float32)
        fused_names = lex * w + sem * (1.0 - w)
        best = np.maximum.reduceat(fused_names, self.starts, axis=0).T
        for q, norm in enumerate(norms):
            for occ in self.exact.get(norm, ()):
                best[q, occ] = 1.0
        return fused_names, np.clip(best, 0.0, 1.0)

    def best_name(self, fused_names: np.ndarray, query: int, occ: int) -> str:
        lo = int(self.starts[occ])
        hi = int(self.starts[occ + 1]) if occ + 1 < len(self.starts) else len(self.norms)
        return self.norms[lo + int(np.argmax(fused_names[lo:hi, query]))]


class TitleMatcher:
    """Occupations of one or more classifications, ready to rank job titles (immutable)."""

    def __init__(self, entries: Sequence[Entry], vectors: Vectors, fusion: Fusion | None = None) -> None:
        self.entries = list(entries)
        self.fusion = fusion or load_fusion()
        self.vectors_model = ""
        self.blocks: dict[str, _Block] = {}
        by_taxonomy: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            by_taxonomy.setdefault(entry.taxonomy, []).append(i)
        for taxonomy, idx in sorted(by_taxonomy.items()):
            self.blocks[taxonomy] = _Block(idx, [self.entries[i].names for i in idx], vectors)
        self.by_id = {e.occupation_id: i for i, e in enumerate(self.entries)}

    @property
    def taxonomies(self) -> list[str]:
        return list(self.blocks)

    def rank(
        self,
        titles: list[str],
        vectors: Vectors,
        *,
        top_k: int = 5,
        taxonomy: str | None = None,
        clean: bool = True,
    ) -> list[list[Hit]]:
        """The ``top_k`` occupations of each title, best first (of ``taxonomy`` only, when given).
        ``clean=False`` scores the raw title (the benchmarks' baselines)."""
        out: list[list[Hit]] = []
        for start in range(0, len(titles), QUERY_BLOCK):
            out.extend(self._rank(titles[start : start + QUERY_BLOCK], vectors, top_k, taxonomy, clean))
        return out

    def _rank(
        self, titles: list[str], vectors: Vectors, top_k: int, taxonomy: str | None, clean: bool
    ) -> list[list[Hit]]:
        variants = [
            (tuple(n for n in (normalize_phrase(v) for v in clean_title(t).variants()) if n) if clean else ())
            or (normalize_phrase(t),)
            for t in titles
        ]
        unique = [n for n in dict.fromkeys(n for vs in variants for n in vs) if n]
        if not unique:
            return [[] for _ in titles]
        q_vecs = vectors(unique).astype(np.float32)
        pos = {n: i for i, n in enumerate(unique)}
        blocks = {
            name: (block, *block.scores(unique, q_vecs, self.fusion))
            for name, block in self.blocks.items()
            if taxonomy is None or name == taxonomy
        }
        out: list[list[Hit]] = []
        for vs in variants:
            rows = [pos[n] for n in vs if n in pos]
            candidates: list[Hit] = []
            for block, fused_names, best in blocks.values():
                if not rows:
                    continue
                combined = best[rows[0]].copy()
                source = np.full(combined.shape, rows[0], dtype=np.int64)
                for r in rows[1:]:
                    alt = best[r] * self.fusion.alternative_weight
                    better = alt > combined
                    combined = np.where(better, alt, combined)
                    source = np.where(better, r, source)
                k = min(top_k, len(combined))
                top = np.argpartition(-combined, k - 1)[:k]
                for occ in top[np.argsort(-combined[top], kind="stable")]:
                    name = block.best_name(fused_names, int(source[occ]), int(occ))
                    candidates.append(Hit(int(block.entries[occ]), round(float(combined[occ]), 4), name))
            candidates.sort(key=lambda h: -h.score)
            out.append(candidates[:top_k])
        return out
