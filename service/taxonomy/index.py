"""The taxonomy in memory: every label's embedding and lexical vector.

One :class:`~service.taxonomy.runtime.TaxonomyRuntime` per app (or CLI run) holds a
:class:`TaxonomyIndex` and keeps it in step with the database.

Memory grows with the number of labels L: L x dim embeddings (float32, or float16 above 50,000
labels: the full ESCO export's ~110,000 labels take ~85 MB at 384 dims) plus ~60 sparse lexical
features per label. Scoring one query against all labels costs one (L x dim) product (in chunks of
20,000 labels) to pick candidate labels, a small sparse product on rare lexical features for more,
then exact scores for the candidates only (see :meth:`TaxonomyIndex.search`).
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from service.matching import lexical
from service.matching.synonyms import Synonyms
from service.taxonomy.scoring import Calibration, combine

log = logging.getLogger(__name__)

KIND_CODES = {"preferred": 0, "alt": 1, "hidden": 2}
CHUNK_LABELS = 20_000
QUERY_BLOCK = 128
CANDIDATES = 64
RARE_DF_MIN = 50
RARE_DF_SHARE = 500
FLOAT16_ABOVE = 50_000


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
        self.rare_limit = max(RARE_DF_MIN, n // RARE_DF_SHARE)
        self.rare_cap = max(4 * self.rare_limit, 1000)
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
        parts = [model_lex.transform(self.label_norm[i : i + 5000]) for i in range(0, n, 5000)]
        self.lexical = (
            sp.csr_matrix(sp.vstack(parts), dtype=np.float32)
            if parts
            else sp.csr_matrix((0, lexical.N_FEATURES), dtype=np.float32)
        )
        self.feature_df = np.bincount(self.lexical.indices, minlength=lexical.N_FEATURES).astype(np.int32)
        # Features x labels, for candidate search: only features found in few labels (see
        # _lexical_candidates), which keeps it a small fraction of the full matrix.
        rare = self.lexical.copy()
        rare.data[self.feature_df[rare.indices] > self.rare_cap] = 0.0
        rare.eliminate_zeros()
        self.lexical_t = sp.csr_matrix(rare.T)
        self.latin = lexical.latin_share(self.label_norm) if n else np.zeros(0, dtype=np.float32)
        self.exact: dict[str, list[int]] = {}
        for i, norm in enumerate(self.label_norm):
            self.exact.setdefault(norm, []).append(i)
        order = sorted(
            range(n), key=lambda i: (self.label_norm[i], self.label_kind[i], len(self.label_norm[i]))
        )
        self._sorted_norms = [self.label_norm[i] for i in order]
        self._sorted_ids = order
        self._synonyms = (
            None
            if not self.skill_ids
            else Synonyms(
                key=("taxonomy", seq, model),
                lookup=self._skills_labelled,
                describe=lambda skill: (self.skill_ids[skill], self.skill_labels[skill]),
            )
        )

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

    def synonyms(self) -> Synonyms | None:
        """The matcher's view of the labels (:mod:`service.matching.synonyms`); None when empty."""
        return self._synonyms

    def _skills_labelled(self, norm: str) -> list[int]:
        return sorted({int(self.label_skill[i]) for i in self.exact.get(norm, ())})

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

    def _dense_candidates(self, q32: np.ndarray, m: int) -> np.ndarray:
        """(b, <=m) label indices with the highest embedding cosine, per query."""
        n_labels = len(self.label_norm)
        best_idx = np.zeros((q32.shape[0], 0), dtype=np.int64)
        best_val = np.zeros((q32.shape[0], 0), dtype=np.float32)
        for l0 in range(0, n_labels, CHUNK_LABELS):
            l1 = min(l0 + CHUNK_LABELS, n_labels)
            cos = q32 @ self.vectors[l0:l1].astype(np.float32, copy=False).T
            k = min(m, l1 - l0)
            part = (
                np.argpartition(-cos, k - 1, axis=1)[:, :k]
                if k < l1 - l0
                else np.tile(np.arange(l1 - l0), (q32.shape[0], 1))
            )
            vals = np.take_along_axis(cos, part, axis=1)
            best_idx = np.concatenate([best_idx, part + l0], axis=1)
            best_val = np.concatenate([best_val, vals], axis=1)
            if best_idx.shape[1] > m:
                keep = np.argpartition(-best_val, m - 1, axis=1)[:, :m]
                best_idx = np.take_along_axis(best_idx, keep, axis=1)
                best_val = np.take_along_axis(best_val, keep, axis=1)
        return best_idx

    def _lexical_candidates(self, q_lex: sp.csr_matrix, m: int) -> list[np.ndarray]:
        """Per query, up to m labels sharing its rarest lexical features (acronyms, tool names,
        Chinese bigrams): only features found in at most ``rare_limit`` labels, plus the query's three
        rarest (if found in at most ``rare_cap`` labels), take part, so the sparse product stays small."""
        limit = self.rare_limit
        q = q_lex.tocsr(copy=True)
        for i in range(q.shape[0]):
            lo, hi = q.indptr[i], q.indptr[i + 1]
            if hi == lo:
                continue
            df = self.feature_df[q.indices[lo:hi]]
            keep = df <= limit
            keep[np.argsort(df, kind="stable")[:3]] = True
            keep &= (df > 0) & (df <= self.rare_cap)
            q.data[lo:hi] = np.where(keep, q.data[lo:hi], 0.0)
        q.eliminate_zeros()
        partial = sp.csr_matrix(q @ self.lexical_t)
        out = []
        for i in range(partial.shape[0]):
            lo, hi = partial.indptr[i], partial.indptr[i + 1]
            cols, vals = partial.indices[lo:hi], partial.data[lo:hi]
            if len(cols) > m:
                cols = cols[np.argpartition(-vals, m - 1)[:m]]
            out.append(cols.astype(np.int64))
        return out

    def search(self, q_vecs: np.ndarray, q_norms: list[str], top_k: int) -> list[list[Hit]]:
        """The ``top_k`` skills for each query, best first, each with its best label.

        Two stages: candidate labels by embedding (top ``CANDIDATES`` by cosine), by rare lexical
        features and by exact text; then every candidate is scored exactly (calibrated cosine and
        lexical similarity, :func:`combine`; an exact label match scores 1.0) and the best label of
        each skill counts. Cost: one (queries x labels x dim) product plus small sparse products;
        the candidate scoring is linear in queries x candidates.
        """
        n = len(q_norms)
        if n == 0 or not self.skill_ids:
            return [[] for _ in range(n)]
        m = max(CANDIDATES, 4 * top_k)
        q_lex_all = lexical.default_model().transform(q_norms)
        q_latin_all = lexical.latin_share(q_norms)
        q_all = np.ascontiguousarray(q_vecs, dtype=np.float32)
        out: list[list[Hit]] = []
        for b0 in range(0, n, QUERY_BLOCK):
            b1 = min(b0 + QUERY_BLOCK, n)
            q32, q_lex = q_all[b0:b1], q_lex_all[b0:b1]
            dense = self._dense_candidates(q32, m)
            lexc = self._lexical_candidates(q_lex, m)
            rows_list, cols_list, exact_list = [], [], []
            for i in range(b1 - b0):
                exact = np.asarray(self.exact.get(q_norms[b0 + i], []), dtype=np.int64)
                cols = np.unique(np.concatenate([dense[i], lexc[i], exact]))
                rows_list.append(np.full(len(cols), i, dtype=np.int64))
                cols_list.append(cols)
                exact_list.append(np.isin(cols, exact))
            rows = np.concatenate(rows_list)
            cols = np.concatenate(cols_list)
            is_exact = np.concatenate(exact_list)
            cos = np.einsum("ij,ij->i", q32[rows], self.vectors[cols].astype(np.float32, copy=False))
            lex = np.asarray(q_lex[rows].multiply(self.lexical[cols]).sum(axis=1), dtype=np.float32).ravel()
            if self.multilingual:
                trust: np.ndarray | float = 1.0
            else:
                trust = np.minimum(q_latin_all[b0:b1][rows], self.latin[cols])
            score = combine(cos, lex, trust, self.calibration)
            score[is_exact] = 1.0
            start = 0
            for i in range(b1 - b0):
                count = len(cols_list[i])
                c = cols[start : start + count]
                sc = score[start : start + count]
                start += count
                skills = self.label_skill[c]
                order = np.lexsort((-sc, skills))  # by skill, best label first
                first = order[np.r_[True, skills[order][1:] != skills[order][:-1]]]
                top = first[np.argsort(-sc[first], kind="stable")][:top_k]
                out.append([Hit(int(skills[j]), float(sc[j]), int(c[j])) for j in top])
        return out
