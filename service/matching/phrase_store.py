"""The phrase store: every distinct graduate phrase once, with its vector, lexical row, latin share and
multilingual vector, in the transposed layout the graduate index ranks with (see
:mod:`service.matching.index`). Pure: no SQL."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from service.matching import crosslingual, scoring
from service.matching.calibration import Bridge, Calibration, boost_lexical
from service.matching.lexical import N_FEATURES, LexicalModel, latin_share
from service.matching.synonyms import Synonyms, lift_rows
from service.text import normalize_phrase


class PhraseStore:
    """Distinct phrases (by normalised text) with their vectors, lexical rows and latin share."""

    def __init__(
        self,
        dim: int,
        lexical: LexicalModel,
        capacity: int = 1024,
        ml_dim: int = 0,
        bridge: Bridge | None = None,
    ) -> None:
        self.dim = dim
        self.lexical = lexical
        # the multilingual channel, when on: its vectors as int8 rows (P, ml_dim) and a scale per row
        # (crosslingual.Int8Rows)
        self.ml_dim = ml_dim if bridge is not None else 0
        self.bridge = bridge if self.ml_dim else None
        ml_rows = max(capacity, 1) if self.ml_dim else 0
        self._ml = np.zeros((ml_rows, self.ml_dim), dtype=np.int8)
        self._ml_scale = np.zeros(ml_rows, dtype=np.float32)
        self.texts: list[str] = []
        self._ids: dict[str, int] = {}
        # vectors stored transposed, (dim, capacity): the query is one (k, dim) @ (dim, P) product
        self._vecs_t = np.zeros((dim, max(capacity, 1)), dtype=np.float32)
        self._trust = np.ones(max(capacity, 1), dtype=np.float32)
        self._lex_t = sp.csr_matrix((N_FEATURES, 0), dtype=np.float32)
        self._lex_pending: list[sp.csr_matrix] = []
        self._lock = threading.Lock()
        self.dropped = 0  # ids of erased phrases (zero columns, never reused)
        self._erasures = 0  # drop() calls so far
        # taxonomy skill -> ids of the phrases that are its labels, for one synonyms snapshot:
        # (snapshot key, erasures, phrases looked at so far, the map); appended to as phrases come
        self._synonym_columns: tuple[object, int, int, dict[int, list[int]]] = (None, -1, 0, {})

    def erasures(self) -> int:
        """How many :meth:`drop` calls have finished (waits for one in progress): a reader that holds
        ids across a computation compares this before and after, and retries when it moved."""
        with self._lock:
            return self._erasures

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def vecs(self) -> np.ndarray:
        """(P, dim) view of the vectors (rows are strided; copy before heavy row access)."""
        return self._vecs_t[:, : len(self.texts)].T

    @property
    def vecs_t(self) -> np.ndarray:
        """(dim, P) view of the vectors."""
        return self._vecs_t[:, : len(self.texts)]

    @property
    def trust(self) -> np.ndarray:
        return self._trust[: len(self.texts)]

    @property
    def ml(self) -> np.ndarray | None:
        """(P, ml_dim) float32 multilingual vectors, or None when the channel is off."""
        return self._ml_rows(len(self.texts)).f32() if self.ml_dim else None

    def _ml_rows(self, p: int) -> crosslingual.Int8Rows:
        return crosslingual.Int8Rows(self._ml[:p], self._ml_scale[:p])

    def ids(self, texts: Sequence[str]) -> np.ndarray:
        """Ids of ``texts`` (normalised), -1 for a phrase not in the store."""
        return self.lookup(texts)[0]

    def lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Ids of ``texts`` (-1 where not in the store) and the distinct normalised texts not in the
        store yet. Each distinct raw text is normalised once (graduates repeat their phrases a lot)."""
        memo: dict[str, int] = {}
        absent: dict[str, None] = {}
        out = np.empty(len(texts), dtype=np.int64)
        known = self._ids
        for i, text in enumerate(texts):
            found = memo.get(text)
            if found is None:
                key = normalize_phrase(text)
                found = known.get(key, -1)
                if found < 0:
                    absent[key] = None
                memo[text] = found
            out[i] = found
        return out, list(absent)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct normalised ``texts`` not in the store yet."""
        return self.lookup(texts)[1]

    def add(self, texts: Sequence[str], vecs: np.ndarray, ml: np.ndarray | None = None) -> np.ndarray:
        """Add phrases (texts are normalised; already known ones are kept as they are); returns ids.
        ``ml``: their multilingual vectors, required when the store keeps that channel."""
        if self.ml_dim and ml is None:
            raise ValueError("this phrase store keeps multilingual vectors: pass ml")
        with self._lock:
            keys = [normalize_phrase(t) for t in texts]
            new_rows = [i for i, key in enumerate(keys) if key not in self._ids]
            fresh: list[str] = []
            fresh_rows: list[int] = []
            for i in new_rows:
                if keys[i] not in self._ids:
                    self._ids[keys[i]] = len(self.texts) + len(fresh)
                    fresh.append(keys[i])
                    fresh_rows.append(i)
            if fresh:
                start = len(self.texts)
                end = start + len(fresh)
                if end > self._vecs_t.shape[1]:
                    # grow by a quarter: the matrix is most of the process's memory, so the headroom
                    # is kept small (the copies this costs are a few per doubling of the store)
                    current = self._vecs_t.shape[1]
                    self._resize(max(end, current + current // 4))
                self._vecs_t[:, start:end] = np.asarray(vecs, dtype=np.float32)[fresh_rows].T
                self._trust[start:end] = latin_share(fresh)
                if self.ml_dim and ml is not None:
                    rows = crosslingual.Int8Rows.of(np.asarray(ml, dtype=np.float32)[fresh_rows])
                    self._ml[start:end] = rows.q
                    self._ml_scale[start:end] = rows.scale
                self._lex_pending.append(self.lexical.transform(fresh))
                self.texts.extend(fresh)
            return np.asarray([self._ids[key] for key in keys], dtype=np.int64)

    def drop(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """Erase phrases (an erased graduate's that no one else holds): their text, vector, lexical row
        and latin share are overwritten and their id is never handed out again (the id stays a zero
        column, so the ids of the other phrases do not move). Returns the texts dropped.

        The caller guarantees no live graduate holds them; a later :meth:`add` of the same text gets a
        new id. Cost: one pass over the lexical non-zeros, so it suits erasures, not routine writes."""
        with self._lock:
            drop = sorted({int(i) for i in ids if 0 <= int(i) < len(self.texts) and self.texts[int(i)]})
            if not drop:
                return []
            texts = [self.texts[i] for i in drop]
            for i, text in zip(drop, texts, strict=True):
                self._ids.pop(text, None)
                self.texts[i] = ""
            cols = np.asarray(drop, dtype=np.int64)
            self._vecs_t[:, cols] = 0.0
            self._trust[cols] = 1.0
            if self.ml_dim:
                self._ml[cols] = 0
                self._ml_scale[cols] = 0.0
            lex = self._merge_lexical().copy()  # readers may hold the old matrix: never edit in place
            lex.data[np.isin(lex.indices, cols)] = 0.0
            lex.eliminate_zeros()
            self._lex_t = lex
            self.dropped += len(drop)
            self._erasures += 1
            return texts

    def _resize(self, cap: int) -> None:
        n = len(self.texts)
        vecs_new = np.zeros((self.dim, max(cap, n, 1)), dtype=np.float32)
        vecs_new[:, :n] = self._vecs_t[:, :n]
        trust_new = np.ones(max(cap, n, 1), dtype=np.float32)
        trust_new[:n] = self._trust[:n]
        self._vecs_t, self._trust = vecs_new, trust_new
        if self.ml_dim:
            ml_new = np.zeros((max(cap, n, 1), self.ml_dim), dtype=np.int8)
            ml_new[:n] = self._ml[:n]
            scale_new = np.zeros(max(cap, n, 1), dtype=np.float32)
            scale_new[:n] = self._ml_scale[:n]
            self._ml, self._ml_scale = ml_new, scale_new

    def shrink(self, headroom: int = 1024) -> None:
        """Give back the unused capacity (after a bulk load), keeping ``headroom`` free slots."""
        with self._lock:
            if self._vecs_t.shape[1] > len(self.texts) + headroom:
                self._resize(len(self.texts) + headroom)

    def lexical_t(self) -> sp.csr_matrix:
        """Lexical rows of all phrases, transposed: (N_FEATURES, P) CSR; phrases added since the last
        call are appended as columns (one pass over the non-zeros)."""
        with self._lock:
            return self._merge_lexical()

    def _merge_lexical(self) -> sp.csr_matrix:
        if self._lex_pending:
            new_t = sp.vstack(self._lex_pending).T
            self._lex_t = sp.csr_matrix(sp.hstack([self._lex_t, new_t], format="csr"), dtype=np.float32)
            self._lex_t.sort_indices()
            self._lex_pending = []
        return self._lex_t

    def similarity(
        self, demand: scoring.DemandSkills, calibration: Calibration, multilingual: bool
    ) -> np.ndarray:
        """(k, P) fused similarity of the demanded skills with every stored phrase."""
        p = len(self.texts)
        if p == 0 or demand.k == 0:
            return np.zeros((demand.k, p), dtype=np.float32)
        lex_t = self.lexical_t()
        out = demand.vecs @ self.vecs_t
        lex = sp.coo_matrix(demand.lex @ lex_t)
        rows, cols = lex.row, lex.col
        glex = boost_lexical(lex.data.astype(np.float32), calibration.gamma)
        # the same as scoring.fuse, touching only the (few) cells where the lexical channel is non-zero
        # and the rows and columns of texts an English-only encoder cannot read
        low_rows = np.flatnonzero(demand.trust < 1.0) if not multilingual else np.zeros(0, dtype=np.int64)
        low_cols = np.flatnonzero(self.trust < 1.0) if not multilingual else np.zeros(0, dtype=np.int64)
        if low_rows.size or low_cols.size:
            lex_dense = np.zeros((demand.k, p), dtype=np.float32)
            lex_dense[rows, cols] = glex
            trust_cols = self.trust[:p]
            if low_rows.size:
                t = np.minimum(demand.trust[low_rows][:, None], trust_cols[None, :])
                block = lex_dense[low_rows]
                out[low_rows] = t * np.maximum(out[low_rows], block) + (1 - t) * block
            other_rows = np.setdiff1d(np.arange(demand.k), low_rows)
            if low_cols.size and other_rows.size:
                cells = np.ix_(other_rows, low_cols)
                t = np.minimum(demand.trust[other_rows][:, None], trust_cols[low_cols][None, :])
                block = lex_dense[cells]
                out[cells] = t * np.maximum(out[cells], block) + (1 - t) * block
            keep = ~np.isin(rows, low_rows) & ~np.isin(cols, low_cols)
            rows, cols, glex = rows[keep], cols[keep], glex[keep]
        out[rows, cols] = np.maximum(out[rows, cols], glex)
        np.clip(out, 0.0, 1.0, out=out)
        if self.bridge is not None and demand.ml is not None:
            ml = self._ml_rows(p)
            crosslingual.cross_lingual(out, self.bridge, demand.ml, demand.trust, ml, self.trust[:p])
        if demand.synonyms is not None:
            wanted = demand.synonyms.of(demand.names)
            if any(wanted):
                lift_rows(out, wanted, self.synonym_columns(demand.synonyms))
        return out

    def synonym_columns(self, synonyms: Synonyms) -> dict[int, list[int]]:
        """Taxonomy skill -> ids of the stored phrases that are its labels (kept per snapshot and
        extended as phrases are added; rebuilt after an erasure). Readers may see ids past the
        similarity they computed: :func:`lift_rows` skips them."""
        with self._lock:
            key, erasures, done, columns = self._synonym_columns
            if key != synonyms.key or erasures != self._erasures:
                done, columns = 0, {}
            n = len(self.texts)
            synonyms.columns(self.texts[done:n], start=done, into=columns)
            self._synonym_columns = (synonyms.key, self._erasures, n, columns)
            return columns

    def nbytes(self) -> int:
        lex = self._lex_t.data.nbytes + self._lex_t.indices.nbytes + self._lex_t.indptr.nbytes
        return int(self._vecs_t.nbytes + self._trust.nbytes + self._ml.nbytes + self._ml_scale.nbytes + lex)
