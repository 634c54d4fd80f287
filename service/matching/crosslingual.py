"""The multilingual channel of the scoring, pure numpy: where a demanded skill or a phrase holds CJK
characters, the multilingual encoder's cosine (bridged onto the main channel's curve) can lift the fused
similarity of :func:`service.matching.scoring.combined_similarity`; its vectors are kept as bfloat16.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from service.matching.calibration import Bridge
from service.matching.lexical import latin_share


def to_bf16(vectors: np.ndarray) -> np.ndarray:
    """float32 rows as bfloat16 bits (uint16: the upper half of each float32, rounded to nearest):
    half the memory, and back to float32 by a shift (:func:`from_bf16`), 2-3x cheaper than float16's
    conversion. Cosines of unit vectors move by about 1e-3."""
    bits = np.ascontiguousarray(vectors, dtype=np.float32).view(np.uint32)
    return ((bits + np.uint32(0x8000)) >> np.uint32(16)).astype(np.uint16)


def from_bf16(bits: np.ndarray) -> np.ndarray:
    """float32 values of bfloat16 bits (:func:`to_bf16`)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _as_f32(rows: np.ndarray) -> np.ndarray:
    return from_bf16(rows) if rows.dtype == np.uint16 else np.asarray(rows, dtype=np.float32)


def cross_lingual(
    out: np.ndarray,
    bridge: Bridge,
    demand_ml: np.ndarray,
    demand_trust: np.ndarray,
    phrase_ml: np.ndarray,
    phrase_trust: np.ndarray,
) -> np.ndarray:
    """The multilingual channel, in place on the fused ``out`` (k, P): wherever the demanded skill or
    the phrase holds CJK characters (latin share < 1), ``max(out, bridge(multilingual cosine))``,
    clipped to [0, 1]. Cells of two texts without CJK keep their value exactly.

    ``phrase_ml`` may be bfloat16 bits (uint16, :func:`to_bf16`: a store keeps it so); it is multiplied
    in float32 blocks. Cost: a
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
            u = rows @ _as_f32(phrase_ml[start:stop]).T
            out[cjk_rows, start:stop] = np.maximum(out[cjk_rows, start:stop], bridge.similarity(u))
    other = np.setdiff1d(np.arange(k), cjk_rows)
    if other.size and cjk_cols.size:
        u = d_ml[other] @ _as_f32(phrase_ml[cjk_cols]).T
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
