"""The taxonomy in memory: every label's embedding and lexical vector, kept in step with the database.

One :class:`TaxonomyRuntime` per app (or CLI run) holds a :class:`TaxonomyIndex`. Each use compares the
database's ``taxonomy`` state counter with the one the index was built at and rebuilds the index when
another process (an import, a re-embed) changed it.

Memory grows with the number of labels L: L x dim embeddings (float32, or float16 above 50,000
labels: the full ESCO export's ~110,000 labels take ~85 MB at 384 dims) plus ~60 sparse lexical
features per label. Scoring one query against all labels costs one (L x dim) product and one sparse
product, done in chunks of about 20,000 labels, then a per-skill max.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session

from service import changes
from service.matching import lexical
from service.matching.encoder import Encoder, EncoderUnavailable, normalize_phrase
from service.taxonomy import embedding
from service.taxonomy import repository as repo
from service.taxonomy.scoring import Calibration, calibration_for, combine, segment_max

log = logging.getLogger(__name__)

KIND_CODES = {"preferred": 0, "alt": 1, "hidden": 2}
CHUNK_LABELS = 20_000
FLOAT16_ABOVE = 50_000
ENCODE_AT_LOAD = 5_000
QUERY_CACHE = 20_000
SESSION_INFO_KEY = "taxonomy_runtime"


@dataclass(frozen=True)
class Hit:
    skill: int
    score: float
    label: int


class TaxonomyIndex:
    """Immutable snapshot of the taxonomy's labels (see the module docstring for its cost)."""

    def __init__(
        self,
        *,
        seq: int,
        model: str,
        rows: list[tuple[str, str, str, str, str, str]],
        vectors: dict[str, np.ndarray],
        dim: int,
        multilingual: bool,
        calibration: Calibration,
    ) -> None:
        self.seq = seq
        self.model = model
        self.calibration = calibration
        self.multilingual = multilingual
        self.skill_ids: list[str] = []
        self.skill_labels: list[str] = []
        self.skill_sources: list[str] = []
        self.label_text: list[str] = []
        self.label_norm: list[str] = []
        label_skill: list[int] = []
        label_kind: list[int] = []
        starts: list[int] = []
        for skill_id, preferred, source, label, norm, kind in rows:
            if not self.skill_ids or self.skill_ids[-1] != skill_id:
                self.skill_ids.append(skill_id)
                self.skill_labels.append(preferred)
                self.skill_sources.append(source)
                starts.append(len(self.label_text))
            self.label_text.append(label)
            self.label_norm.append(norm)
            label_skill.append(len(self.skill_ids) - 1)
            label_kind.append(KIND_CODES.get(kind, 1))
        self.skill_pos = {s: i for i, s in enumerate(self.skill_ids)}
        self.label_skill = np.asarray(label_skill, dtype=np.int32)
        self.label_kind = np.asarray(label_kind, dtype=np.int8)
        self.skill_starts = np.asarray(starts, dtype=np.int64)
        n = len(self.label_norm)
        dtype = np.float16 if n > FLOAT16_ABOVE else np.float32
        self.vectors = np.zeros((n, dim), dtype=dtype)
        self.missing_vectors = 0
        for i, norm in enumerate(self.label_norm):
            vec = vectors.get(norm)
            if vec is None:
                self.missing_vectors += 1
            else:
                self.vectors[i] = vec
        model_lex = lexical.default_model()
        self.lexical = model_lex.transform(self.label_norm) if n else sp.csr_matrix((0, lexical.N_FEATURES))
        self.lexical_t = sp.csc_matrix(self.lexical.T)
        self.latin = lexical.latin_share(self.label_norm) if n else np.zeros(0, dtype=np.float32)
        self.exact: dict[str, list[int]] = {}
        for i, norm in enumerate(self.label_norm):
            self.exact.setdefault(norm, []).append(i)
        order = sorted(
            range(n), key=lambda i: (self.label_norm[i], self.label_kind[i], len(self.label_norm[i]))
        )
        self._sorted_norms = [self.label_norm[i] for i in order]
        self._sorted_ids = order

    # -- facts ---------------------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return not self.skill_ids

    def __len__(self) -> int:
        return len(self.skill_ids)

    def labels_of(self, skill: int) -> list[str]:
        start = int(self.skill_starts[skill])
        end = (
            int(self.skill_starts[skill + 1]) if skill + 1 < len(self.skill_starts) else len(self.label_text)
        )
        return self.label_text[start:end]

    def exact_skills(self, norm: str) -> list[tuple[int, int]]:
        """(skill, label) pairs whose label's normalised text is ``norm``; preferred labels first."""
        hits = self.exact.get(norm, [])
        pairs = sorted(((int(self.label_skill[i]), i) for i in hits), key=lambda p: self.label_kind[p[1]])
        seen: set[int] = set()
        out = []
        for skill, label in pairs:
            if skill not in seen:
                seen.add(skill)
                out.append((skill, label))
        return out

    def prefix(self, norm: str, limit: int) -> list[tuple[int, int]]:
        """(skill, label) of labels starting with ``norm``: shortest labels first, one per skill."""
        if not norm:
            return []
        lo = bisect.bisect_left(self._sorted_norms, norm)
        found: list[int] = []
        for pos in range(lo, len(self._sorted_norms)):
            if not self._sorted_norms[pos].startswith(norm) or len(found) >= 2000:
                break
            found.append(self._sorted_ids[pos])
        found.sort(key=lambda i: (len(self.label_norm[i]), self.label_kind[i], self.label_norm[i]))
        out: list[tuple[int, int]] = []
        seen: set[int] = set()
        for label in found:
            skill = int(self.label_skill[label])
            if skill in seen:
                continue
            seen.add(skill)
            out.append((skill, label))
            if len(out) >= limit:
                break
        return out

    # -- scoring -------------------------------------------------------------------------------

    def _chunks(self) -> Iterator[tuple[int, int, int, int]]:
        """(first skill, end skill, first label, end label), cut at skill boundaries."""
        starts = self.skill_starts
        total = len(self.label_norm)
        s0 = 0
        while s0 < len(starts):
            l0 = int(starts[s0])
            s1 = int(np.searchsorted(starts, l0 + CHUNK_LABELS, side="left"))
            s1 = max(s1, s0 + 1)
            l1 = int(starts[s1]) if s1 < len(starts) else total
            yield s0, s1, l0, l1
            s0 = s1

    def skill_scores(
        self, q_vecs: np.ndarray, q_norms: list[str], q_lex: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, S) calibrated scores of every query against every skill (its best label), and (n, S)
        the index of that best label. An exact label match scores 1.0."""
        n = len(q_norms)
        s_count = len(self.skill_ids)
        scores = np.zeros((n, s_count), dtype=np.float32)
        best = np.zeros((n, s_count), dtype=np.int64)
        if n == 0 or s_count == 0:
            return scores, best
        if q_lex is None:
            q_lex = lexical.default_model().transform(q_norms)
        q_latin = lexical.latin_share(q_norms)
        q32 = np.ascontiguousarray(q_vecs, dtype=np.float32)
        for s0, s1, l0, l1 in self._chunks():
            cos = q32 @ self.vectors[l0:l1].astype(np.float32, copy=False).T
            lex = np.asarray((q_lex @ self.lexical_t[:, l0:l1]).toarray(), dtype=np.float32)
            if self.multilingual:
                trust: np.ndarray | float = 1.0
            else:
                trust = np.minimum(q_latin[:, None], self.latin[None, l0:l1])
            combined = combine(cos, lex, trust, self.calibration)
            local_starts = self.skill_starts[s0:s1] - l0
            maxima, arg = segment_max(combined, local_starts)
            scores[:, s0:s1] = maxima
            best[:, s0:s1] = arg + l0
        for i, norm in enumerate(q_norms):
            for skill, label in self.exact_skills(norm):
                scores[i, skill] = 1.0
                best[i, skill] = label
        return scores, best

    def rank(self, q_vecs: np.ndarray, q_norms: list[str], top_k: int) -> list[list[Hit]]:
        scores, best = self.skill_scores(q_vecs, q_norms)
        out: list[list[Hit]] = []
        k = min(top_k, scores.shape[1])
        for i in range(len(q_norms)):
            if k == 0:
                out.append([])
                continue
            row = scores[i]
            top = np.argpartition(-row, k - 1)[:k] if k < row.shape[0] else np.arange(row.shape[0])
            top = top[np.lexsort((top, -row[top]))]
            out.append([Hit(int(s), float(row[s]), int(best[i, s])) for s in top])
        return out


class TaxonomyRuntime:
    """Per-process state: the current index, a query-embedding LRU and a memo of canonical ids."""

    def __init__(self, encoder: Callable[[], Encoder | None]) -> None:
        self._encoder = encoder
        self._lock = threading.Lock()
        self._index: TaxonomyIndex | None = None
        self._queries: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.canonical_memo: dict[str, str | None] = {}

    def encoder(self) -> Encoder:
        enc = self._encoder()
        if enc is None:
            raise EncoderUnavailable("The encoder is not loaded; skills cannot be matched.")
        return enc

    def index(self, session: Session) -> TaxonomyIndex:
        """The index at the database's current taxonomy state (rebuilt when it changed)."""
        encoder = self.encoder()
        seq = changes.current(session, changes.TAXONOMY)
        model = embedding.model_key(encoder)
        current = self._index
        if current is not None and current.seq == seq and current.model == model:
            return current
        with self._lock:
            current = self._index
            if current is not None and current.seq == seq and current.model == model:
                return current
            current = load_index(session, encoder, seq)
            self._index = current
            self.canonical_memo = {}
            return current

    def invalidate(self) -> None:
        with self._lock:
            self._index = None
            self.canonical_memo = {}

    def query_vectors(self, session: Session, norms: list[str], *, store: bool = False) -> np.ndarray:
        """Embeddings of query phrases: from the in-process LRU, then the database cache, then the
        encoder (stored in the database cache only when ``store``: inside a write transaction)."""
        encoder = self.encoder()
        model = embedding.model_key(encoder)
        out = np.zeros((len(norms), encoder.dim), dtype=np.float32)
        todo: list[str] = []
        for norm in dict.fromkeys(norms):
            if (model, norm) not in self._queries:
                todo.append(norm)
        if todo:
            vecs = embedding.vectors_for(session, encoder, todo, store=store)
            for norm, vec in zip(todo, vecs, strict=True):
                self._queries[(model, norm)] = vec
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        for i, norm in enumerate(norms):
            vec = self._queries.get((model, norm))
            if vec is None:  # evicted by a very large batch
                vec = embedding.vectors_for(session, encoder, [norm], store=False)[0]
            else:
                self._queries.move_to_end((model, norm))
            out[i] = vec
        return out


def load_index(session: Session, encoder: Encoder, seq: int) -> TaxonomyIndex:
    rows = repo.all_labels(session)
    norms = list(dict.fromkeys(r[4] for r in rows))
    vectors = embedding.load_cached(session, encoder, norms)
    missing = [n for n in norms if n not in vectors]
    if missing and len(missing) <= ENCODE_AT_LOAD:
        vectors.update(zip(missing, encoder.encode(missing), strict=True))
    elif missing:
        log.warning(
            "%d taxonomy labels have no cached embedding for %s; they match lexically only until "
            "`talentmatch reembed` runs",
            len(missing),
            embedding.model_key(encoder),
        )
    index = TaxonomyIndex(
        seq=seq,
        model=embedding.model_key(encoder),
        rows=rows,
        vectors=vectors,
        dim=encoder.dim,
        multilingual=bool(getattr(encoder, "multilingual", False)),
        calibration=calibration_for(encoder.name),
    )
    log.info("taxonomy index: %d skills, %d labels (state %d)", len(index), len(index.label_norm), seq)
    return index


def runtime_for(session: Session) -> TaxonomyRuntime | None:
    runtime = session.info.get(SESSION_INFO_KEY)
    return runtime if isinstance(runtime, TaxonomyRuntime) else None


def attach(sessionmakers: list[object], runtime: TaxonomyRuntime) -> None:
    """Make ``runtime`` reachable from every session these sessionmakers create (``session.info``)."""
    for maker in sessionmakers:
        kw = getattr(maker, "kw", {})
        info = dict(kw.get("info") or {})
        info[SESSION_INFO_KEY] = runtime
        maker.configure(info=info)  # type: ignore[attr-defined]


def norms_of(texts: list[str]) -> list[str]:
    return [normalize_phrase(t) for t in texts]
