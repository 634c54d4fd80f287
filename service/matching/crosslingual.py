"""The multilingual channel of the scoring, pure numpy: where a demanded skill or a phrase holds CJK
characters, the multilingual encoder's cosine (bridged onto the main channel's curve) can lift the fused
similarity of :func:`service.matching.scoring.combined_similarity`; a phrase store keeps its vectors as
int8 rows (:class:`Int8Rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from service.matching.calibration import Bridge
from service.matching.lexical import latin_share


@dataclass(frozen=True)
class Int8Rows:
    """Rows quantised to int8 with one float32 scale per row (the row's largest magnitude / 127): a
    quarter of float32's memory. A cosine of unit vectors moves by at most 1.4e-3 (mean 2e-4,
    measured on 1,000 O*NET x 1,000 CSCO texts)."""

    q: np.ndarray  # (n, dim) int8
    scale: np.ndarray  # (n,) float32

    @classmethod
    def of(cls, vectors: np.ndarray) -> Int8Rows:
        v = np.asarray(vectors, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError("Int8Rows.of takes a 2-d array")
        scale = (np.abs(v).max(axis=1) / 127.0).astype(np.float32) if v.size else np.zeros(len(v), np.float32)
        safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
        q = np.clip(np.rint(v / safe[:, None]), -127, 127).astype(np.int8)
        return cls(q, scale)

    def rows(self, index: slice | np.ndarray) -> Int8Rows:
        return Int8Rows(self.q[index], self.scale[index])

    def f32(self) -> np.ndarray:
        """The rows as float32."""
        return self.q.astype(np.float32) * self.scale[:, None]

    def dot_t(self, left: np.ndarray) -> np.ndarray:
        """``left @ rows.T`` (left: (m, dim) float32): one float32 product, the scales applied after."""
        return (np.asarray(left, dtype=np.float32) @ self.q.astype(np.float32).T) * self.scale[None, :]


def _dot_t(left: np.ndarray, rows: np.ndarray | Int8Rows, index: slice | np.ndarray) -> np.ndarray:
    """``left @ rows[index].T`` in float32, for float rows or :class:`Int8Rows`."""
    if isinstance(rows, Int8Rows):
        return rows.rows(index).dot_t(left)
    return left @ np.asarray(rows[index], dtype=np.float32).T


def cross_lingual(
    out: np.ndarray,
    bridge: Bridge,
    demand_ml: np.ndarray,
    demand_trust: np.ndarray,
    phrase_ml: np.ndarray | Int8Rows,
    phrase_trust: np.ndarray,
) -> np.ndarray:
    """The multilingual channel, in place on the fused ``out`` (k, P): wherever the demanded skill or
    the phrase holds CJK characters (latin share < 1), ``max(out, bridge(multilingual cosine))``,
    clipped to [0, 1]. Cells of two texts without CJK keep their value exactly.

    ``phrase_ml`` may be :class:`Int8Rows` (a store keeps it so); it is multiplied in float32 blocks.
    Cost: a
    (k_cjk x ml_dim) @ (ml_dim x P) product for the CJK demanded skills, and the other skills against
    the CJK phrases only.
    """
    k, p = out.shape
    if k == 0 or p == 0:
        return out
    cjk_rows = np.flatnonzero(demand_trust < 1.0)
    cjk_cols = np.flatnonzero(phrase_trust < 1.0)
    d_ml = np.asarray(demand_ml, dtype=np.float32)
    if cjk_rows.size:
        block = 8192
        rows = d_ml[cjk_rows]
        for start in range(0, p, block):
            stop = min(p, start + block)
            u = _dot_t(rows, phrase_ml, slice(start, stop))
            out[cjk_rows, start:stop] = np.maximum(out[cjk_rows, start:stop], bridge.similarity(u))
    other = np.setdiff1d(np.arange(k), cjk_rows)
    if other.size and cjk_cols.size:
        u = _dot_t(d_ml[other], phrase_ml, cjk_cols)
        grid = np.ix_(other, cjk_cols)
        out[grid] = np.maximum(out[grid], bridge.similarity(u))
    np.clip(out, 0.0, 1.0, out=out)
    return out


def ml_needed(
    embed: Callable[[list[str]], np.ndarray], dim: int, demand_trust: np.ndarray, texts: Sequence[str]
) -> np.ndarray:
    """Multilingual vectors of ``texts`` for :func:`cross_lingual`: all of them when a demanded skill
    holds CJK characters, else only those of the texts that hold some (the others stay zero rows,
    never read), so an English demand against English text embeds nothing more."""
    texts = list(texts)
    if bool((np.asarray(demand_trust) < 1.0).any()):
        return embed(texts)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    rows = np.flatnonzero(latin_share(texts) < 1.0) if texts else np.zeros(0, dtype=np.int64)
    if rows.size:
        out[rows] = embed([texts[i] for i in rows])
    return out
