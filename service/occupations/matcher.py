"""Job titles to occupations: character n-gram TF-IDF and sentence encoders, fused.

Each occupation is known by its names (label and alternative labels or aliases). A title is cleaned
(:func:`~service.occupations.titles.clean_title`) into a main part and alternatives; each part is
scored against every occupation through

- ``lexical``: the best cosine of character 1-3-gram TF-IDF vectors over its names (fitted on the
  classification's own names, per classification): shared characters of Chinese titles, spellings;
- one semantic channel per encoder (``multilingual``: multilingual USE, any language; ``english``: the
  service's English encoder, for titles without CJK characters): a mix of the best name's cosine and
  the cosine with the centroid of all its names (``centroid_share``), so an occupation many names
  point to is preferred to one odd alias;

fused as a weighted sum whose weights depend on the script of the title (CJK or not); an exact name
scores 1.0 (when several occupations carry it, 1.0 goes to the one it is the label of, and the others
follow just below in the order of their fused scores: "manufacturing engineer" is the label of one ESCO
occupation and an alias of another), and an alternative part counts ``alternative_weight`` times its
score. The weights come from ``models/occupation_fusion.json``, fitted by
``python -m training.occupation_fusion`` on O*NET reported titles and CSCO aliases only. Pure numpy (the
TF-IDF in :mod:`.char_tfidf`): no SQL, no HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from service.occupations.char_tfidf import CharTfidf
from service.occupations.titles import clean_title
from service.paths import runtime_file
from service.text import has_cjk, normalize_phrase

FUSION_FILE = "models/occupation_fusion.json"
FLOAT16_ABOVE = 50_000
QUERY_BLOCK = 64
# A name several occupations share scores 0.99 to 0.999 (by the fused score) for those it is only an
# alias of; 1.0 for the one it is the label of, and for an occupation no other shares it with.
EXACT_ALIAS = 0.99
EXACT_ALIAS_SPAN = 0.009
LEXICAL = "lexical"
MULTILINGUAL = "multilingual"
ENGLISH = "english"


def _default_weights() -> dict[str, dict[str, float]]:
    return {
        "cjk": {LEXICAL: 0.5, MULTILINGUAL: 0.5, ENGLISH: 0.0},
        "latin": {LEXICAL: 0.4, MULTILINGUAL: 0.3, ENGLISH: 0.3},
    }


@dataclass(frozen=True)
class Fusion:
    """Channel weights per script ("cjk", "latin"), the centroid share and the alternatives' weight."""

    weights: dict[str, dict[str, float]] = field(default_factory=_default_weights)
    centroid_share: dict[str, float] = field(default_factory=lambda: {"cjk": 0.0, "latin": 0.0})
    alternative_weight: float = 0.9

    def share(self, text: str) -> float:
        script = "cjk" if has_cjk(text) else "latin"
        if script in self.centroid_share:
            return float(self.centroid_share[script])
        return float(next(iter(self.centroid_share.values()), 0.0))

    def for_text(
        self, text: str, channels: Sequence[str], names_script: str | None = None
    ) -> dict[str, float]:
        """The weights of ``channels`` (and ``lexical``) for a title, rescaled to sum to 1.

        ``names_script`` ("cjk" or "latin") is the script of the classification's names: a title in the
        other script is scored by the multilingual channel alone, when there is one. Shared characters say
        nothing across scripts (the few Latin aliases of a Chinese classification, "fae", "cto", "ie",
        would catch every English title by its letters), and the English encoder knows no Chinese."""
        script = "cjk" if has_cjk(text) else "latin"
        table = self.weights.get(script) or next(iter(self.weights.values()))
        out = {c: float(table.get(c, 0.0)) for c in (LEXICAL, *channels)}
        if names_script is not None and names_script != script and out.get(MULTILINGUAL, 0.0) > 0:
            out = {c: (w if c == MULTILINGUAL else 0.0) for c, w in out.items()}
        total = sum(out.values())
        return {c: w / total for c, w in out.items()} if total > 0 else {LEXICAL: 1.0}

    @classmethod
    def only(cls, channel: str, alternative_weight: float = 0.9) -> Fusion:
        """One channel alone (the benchmarks' baselines)."""
        table = {LEXICAL: 0.0, MULTILINGUAL: 0.0, ENGLISH: 0.0, channel: 1.0}
        return cls({"cjk": dict(table), "latin": dict(table)}, {}, alternative_weight)


def load_fusion(path: Path | None = None) -> Fusion:
    """The fitted weights (defaults when the file is absent)."""
    path = path or Path(runtime_file(FUSION_FILE))
    if not path.is_file():
        return Fusion()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Fusion(
        weights={k: {c: float(w) for c, w in v.items()} for k, v in data["weights"].items()},
        centroid_share={k: float(v) for k, v in data["centroid_share"].items()},
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


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


class _Block:
    """The names of one classification: TF-IDF matrix, each channel's vectors and centroids."""

    def __init__(
        self, entries: list[int], names: list[tuple[str, ...]], channels: Mapping[str, Vectors]
    ) -> None:
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
        sizes = np.diff(np.append(self.starts, len(norms)))
        self.owner = np.repeat(np.arange(len(starts)), sizes)
        self.vectorizer = CharTfidf([n or " " for n in norms])
        self.lexical = self.vectorizer.matrix
        dtype = np.float16 if len(norms) > FLOAT16_ABOVE else np.float32
        self.vectors: dict[str, np.ndarray] = {}
        self.centroids: dict[str, np.ndarray] = {}
        for name, vectors in channels.items():
            vecs = np.asarray(vectors(norms), dtype=np.float32)
            sums = np.add.reduceat(vecs, self.starts, axis=0)
            self.centroids[name] = _unit(sums).astype(np.float32)
            self.vectors[name] = vecs.astype(dtype)
        # exact names: occupation -> whether the name is its label (the first of its names)
        # the script of the classification's names: most of them with CJK characters or not
        written = [n for n in norms if n]
        self.script = "cjk" if 2 * sum(has_cjk(n) for n in written) > len(written) else "latin"
        self.exact: dict[str, dict[int, bool]] = {}
        first = set(self.starts.tolist())
        for i, norm in enumerate(norms):
            if norm:
                owners = self.exact.setdefault(norm, {})
                owner = int(self.owner[i])
                owners[owner] = owners.get(owner, False) or i in first

    def channel_scores(
        self, norms: list[str], q_vecs: Mapping[str, np.ndarray]
    ) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """Per channel: (names x queries) cosines and (queries x occupations) centroid cosines."""
        lex = np.asarray((self.lexical @ self.vectorizer.transform(norms).T).todense(), dtype=np.float32)
        out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {LEXICAL: (lex, None)}
        for name, vecs in self.vectors.items():
            q = q_vecs[name]
            out[name] = (
                (vecs @ q.astype(vecs.dtype).T).astype(np.float32),
                (q @ self.centroids[name].T).astype(np.float32),
            )
        return out

    def fuse(
        self, norms: list[str], scores: Mapping[str, tuple[np.ndarray, np.ndarray | None]], fusion: Fusion
    ) -> tuple[np.ndarray, np.ndarray]:
        """(names x queries) fused name scores and (queries x occupations) occupation scores."""
        channels = [c for c in scores if c != LEXICAL]
        weights = [fusion.for_text(n, channels, self.script) for n in norms]
        fused_names = np.zeros((len(self.norms), len(norms)), dtype=np.float32)
        centroid = np.zeros((len(norms), len(self.starts)), dtype=np.float32)
        share = np.asarray([fusion.share(n) for n in norms], dtype=np.float32)
        for channel, (per_name, per_centroid) in scores.items():
            w = np.asarray([wt[channel] for wt in weights], dtype=np.float32)
            if per_centroid is None:
                fused_names += per_name * w
            else:
                fused_names += per_name * (w * (1.0 - share))
                centroid += per_centroid * (w * share)[:, None]
        best = np.clip(np.maximum.reduceat(fused_names, self.starts, axis=0).T + centroid, 0.0, 1.0)
        for q, norm in enumerate(norms):
            owners = self.exact.get(norm, {})
            for occ, is_label in owners.items():
                # a name of one occupation only, or its label: 1.0; a name several occupations share
                # ranks the one it is the label of first, then the others by their fused scores
                alone = is_label or len(owners) == 1
                best[q, occ] = 1.0 if alone else EXACT_ALIAS + EXACT_ALIAS_SPAN * best[q, occ]
        return fused_names, best

    def best_name(self, fused_names: np.ndarray, query: int, occ: int) -> str:
        lo = int(self.starts[occ])
        hi = int(self.starts[occ + 1]) if occ + 1 < len(self.starts) else len(self.norms)
        return self.norms[lo + int(np.argmax(fused_names[lo:hi, query]))]


class TitleMatcher:
    """Occupations of one or more classifications, ready to rank job titles.

    ``channels`` name the encoders (``multilingual``, ``english``) and give the vectors of names; the
    same names must be given to :meth:`rank` for the titles. Only detailed occupations are candidates:
    CSCO groups (levels 1-3) are left out (a detailed occupation inside a group is as right, and
    more useful)."""

    def __init__(
        self, entries: Sequence[Entry], channels: Mapping[str, Vectors], fusion: Fusion | None = None
    ) -> None:
        self.entries = [e for e in entries if e.level in (None, 4)]
        self.fusion = fusion or load_fusion()
        self.blocks: dict[str, _Block] = {}
        by_taxonomy: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            by_taxonomy.setdefault(entry.taxonomy, []).append(i)
        for taxonomy, idx in sorted(by_taxonomy.items()):
            self.blocks[taxonomy] = _Block(idx, [self.entries[i].names for i in idx], channels)

    def variants(self, titles: list[str], clean: bool = True) -> list[tuple[str, ...]]:
        """Each title's normalised parts: the cleaned main part first (the raw title without ``clean``)."""
        return [
            (tuple(n for n in (normalize_phrase(v) for v in clean_title(t).variants()) if n) if clean else ())
            or (normalize_phrase(t),)
            for t in titles
        ]

    def rank(
        self,
        titles: list[str],
        channels: Mapping[str, Vectors],
        *,
        top_k: int = 5,
        taxonomy: str | None = None,
        clean: bool = True,
    ) -> list[list[Hit]]:
        """The ``top_k`` occupations of each title, best first (of ``taxonomy`` only, when given).
        ``clean=False`` scores the raw title (the benchmarks' baselines)."""
        out: list[list[Hit]] = []
        for start in range(0, len(titles), QUERY_BLOCK):
            chunk = titles[start : start + QUERY_BLOCK]
            out.extend(self._rank(self.variants(chunk, clean), channels, top_k, taxonomy))
        return out

    def _rank(
        self,
        variants: list[tuple[str, ...]],
        channels: Mapping[str, Vectors],
        top_k: int,
        taxonomy: str | None,
    ) -> list[list[Hit]]:
        unique = [n for n in dict.fromkeys(n for vs in variants for n in vs) if n]
        if not unique:
            return [[] for _ in variants]
        q_vecs = {name: np.asarray(vectors(unique), dtype=np.float32) for name, vectors in channels.items()}
        pos = {n: i for i, n in enumerate(unique)}
        blocks = []
        for name, block in self.blocks.items():
            if taxonomy is None or name == taxonomy:
                fused_names, best = block.fuse(unique, block.channel_scores(unique, q_vecs), self.fusion)
                blocks.append((block, fused_names, best))
        out: list[list[Hit]] = []
        for vs in variants:
            rows = [pos[n] for n in vs if n in pos]
            candidates: list[Hit] = []
            for block, fused_names, best in blocks:
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
