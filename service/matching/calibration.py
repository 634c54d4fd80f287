"""Calibration: fused similarity -> probability that a demanded skill is really covered.

Runtime: :func:`load_calibration` reads ``models/calibration.json`` (one entry per encoder name) into a
:class:`Calibration`; ``coverage(sim) = sigmoid(a * sim + b)``, set to 0 under ``floor``.

Fitted by :mod:`training.calibration` (``python -m training.calibration --encoder all``); the
service only loads the file.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from service.paths import models_dir

log = logging.getLogger(__name__)

CALIBRATION_PATH = models_dir() / "calibration.json"
DEFAULT_ENCODER = "all-MiniLM-L6-v2"
REQUIRED_MISSING_FACTOR = 0.5


def boost_lexical(lex: np.ndarray, gamma: float) -> np.ndarray:
    """``lex ** (1 / gamma)``: the lexical channel's weight in the fusion (a copy unless gamma is 1)."""
    if gamma == 1.0:
        return lex
    return np.power(np.maximum(lex, 0.0), np.float32(1.0 / gamma), dtype=np.float32)


@dataclass(frozen=True)
class Calibration:
    """Fitted parameters of the fusion and the coverage curve for one encoder."""

    encoder: str
    gamma: float
    a: float
    b: float
    floor: float
    partial: float
    met: float
    required_missing_factor: float = REQUIRED_MISSING_FACTOR

    def similarity_at(self, cov: float) -> float:
        """The fused similarity whose coverage is ``cov`` (inverse of the curve)."""
        cov = min(max(cov, 1e-6), 1 - 1e-6)
        return (math.log(cov / (1 - cov)) - self.b) / self.a

    @property
    def floor_similarity(self) -> float:
        return self.similarity_at(self.floor)

    def coverage(self, sim: np.ndarray) -> np.ndarray:
        """``sigmoid(a * sim + b)`` where ``sim`` is over the floor's similarity, else 0 (float32)."""
        sim = np.asarray(sim, dtype=np.float32)
        out = np.zeros(sim.shape, dtype=np.float32)
        # most cells are under the floor: index the others (cheaper than boolean-mask gather/scatter)
        flat = sim.reshape(-1)
        idx = np.flatnonzero(flat > np.float32(self.floor_similarity))
        if idx.size:
            z = flat[idx] * np.float32(-self.a) - np.float32(self.b)
            np.exp(z, out=z)
            z += np.float32(1.0)
            np.reciprocal(z, out=z)
            out.reshape(-1)[idx] = z
        return out

    def status(self, cov: float) -> str:
        if cov >= self.met:
            return "met"
        if cov >= self.partial:
            return "partial"
        return "missing"


@lru_cache(maxsize=8)
def load_calibration(encoder_name: str = DEFAULT_ENCODER, path: Path = CALIBRATION_PATH) -> Calibration:
    """The calibration fitted for ``encoder_name``; falls back to the bundled encoder's, with a warning."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entries: dict[str, Any] = data["encoders"]
    entry = entries.get(encoder_name)
    if entry is None:
        log.warning(
            "no calibration fitted for encoder %r; using the one of %r (rebuild with "
            "python -m service.matching.calibration --encoder-path ...)",
            encoder_name,
            DEFAULT_ENCODER,
        )
        entry = entries[DEFAULT_ENCODER]
    p = entry["params"]
    return Calibration(
        encoder=encoder_name,
        gamma=float(p["gamma"]),
        a=float(p["a"]),
        b=float(p["b"]),
        floor=float(p["floor"]),
        partial=float(p["partial"]),
        met=float(p["met"]),
        required_missing_factor=float(p.get("required_missing_factor", REQUIRED_MISSING_FACTOR)),
    )


@dataclass(frozen=True)
class Bridge:
    """The multilingual channel on the main channel's scale: a multilingual cosine ``u`` counts as the
    fused similarity ``scale * u + shift``, the one whose calibrated coverage (main curve) equals the
    multilingual curve's ``sigmoid(a_m * u + b_m)``. Used only where a text holds CJK characters
    (:func:`service.matching.crosslingual.cross_lingual`). A cosine under ``floor_cos`` is no evidence: 0
    (:func:`load_bridge` sets it where the bridged value reaches the main curve's ``partial``).
    ``unrelated_cos``: the cosine that only 1 in 100 random cross-language pairs reaches (0: not fitted);
    the gap report needs more than it before it calls cross-language evidence partial."""

    encoder: str
    scale: float
    shift: float
    floor_cos: float = 0.0
    unrelated_cos: float = 0.0

    def similarity_of(self, cos: float) -> float:
        """:meth:`similarity` of one cosine, without the floor."""
        return self.scale * cos + self.shift

    def similarity(self, cos: np.ndarray) -> np.ndarray:
        """Main-scale similarity of multilingual cosines (float32, same shape)."""
        cos = np.asarray(cos, dtype=np.float32)
        out = cos * np.float32(self.scale)
        out += np.float32(self.shift)
        out[cos < np.float32(self.floor_cos)] = 0.0
        return out


def load_bridge(main: Calibration, multilingual_name: str, path: Path = CALIBRATION_PATH) -> Bridge | None:
    """The :class:`Bridge` of the multilingual encoder ``multilingual_name`` onto ``main``'s curve, or
    None (with a warning) when ``calibration.json`` has no curve fitted for it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data["encoders"].get(multilingual_name)
    if entry is None:
        log.warning("no calibration fitted for the multilingual encoder %r; channel off", multilingual_name)
        return None
    a_m, b_m = float(entry["params"]["a"]), float(entry["params"]["b"])
    scale, shift = a_m / main.a, (b_m - main.b) / main.a
    # Evidence from this channel starts at the main curve's partial level: under it, the many loose
    # cosines of unrelated phrases (a fifth of random pairs pass the multilingual curve's own floor)
    # would each add a little coverage to every candidate and slow ranking down.
    at_partial = (main.similarity_at(main.partial) - shift) / scale
    fitted = entry.get("thresholds_similarity", {})
    floor_cos = max(float(fitted.get("floor", 0.0)), at_partial)
    unrelated = float(fitted.get("unrelated_p99", 0.0))
    return Bridge(multilingual_name, scale=scale, shift=shift, floor_cos=floor_cos, unrelated_cos=unrelated)
