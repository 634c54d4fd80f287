"""How sure are we that a typed phrase names a taxonomy label? Pure numpy, no SQL, no HTTP.

Two channels, each turned into a probability by a logistic curve, then combined by noisy-or:

- semantic: the embedding cosine, trusted only as far as both texts are in a language the encoder
  knows (for an English-only encoder, the share of non-Chinese letters of the less Latin side);
- lexical: the character n-gram TF-IDF cosine of :mod:`service.matching.lexical` (acronyms, versions,
  tool names, Chinese).

An exact match of normalised text (preferred, alternative or hidden label) scores 1.0. The curve
parameters are fitted by ``python -m bench.normalize --fit`` on the *fit* part of O*NET (never on the
benchmark's cases) and stored in ``models/taxonomy_calibration.json``; without that file the defaults
below are used.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

CALIBRATION_PATH = Path(__file__).resolve().parents[2] / "models" / "taxonomy_calibration.json"


@dataclass(frozen=True)
class Calibration:
    sem_slope: float = 14.0
    sem_mid: float = 0.72
    lex_slope: float = 10.0
    lex_mid: float = 0.62

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


def combine(cos: np.ndarray, lex: np.ndarray, trust: np.ndarray | float, cal: Calibration) -> np.ndarray:
    """Probability-like score in [0, 1] from cosine, lexical similarity and semantic trust (broadcast)."""
    p_sem = _sigmoid(cal.sem_slope * (cos - cal.sem_mid)) * trust
    p_lex = _sigmoid(cal.lex_slope * (lex - cal.lex_mid))
    return (1.0 - (1.0 - p_sem) * (1.0 - p_lex)).astype(np.float32, copy=False)


@lru_cache(maxsize=8)
def calibration_for(encoder_name: str, path: Path = CALIBRATION_PATH) -> Calibration:
    """The fitted curves for an encoder (by name), or the defaults."""
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        entry = data.get("encoders", {}).get(encoder_name)
        if entry:
            return Calibration(**{k: float(v) for k, v in entry.items() if k in Calibration.__annotations__})
    return Calibration()


def save_calibration(encoder_name: str, cal: Calibration, note: str, path: Path = CALIBRATION_PATH) -> None:
    data: dict[str, object] = {"encoders": {}}
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
    encoders = data.setdefault("encoders", {})
    assert isinstance(encoders, dict)
    encoders[encoder_name] = cal.to_json()
    data["how"] = note
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    calibration_for.cache_clear()
