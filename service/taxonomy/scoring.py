"""How sure are we that a typed phrase names a taxonomy label? Pure numpy, no SQL, no HTTP.

Two channels, each turned into a probability-like value by a logistic curve, then combined by noisy-or:

- semantic: the embedding cosine, trusted only as far as both texts are in a language the encoder
  knows (for an English-only encoder, the share of non-Chinese letters of the less Latin side);
- lexical: the character n-gram TF-IDF cosine of :mod:`service.matching.lexical` (acronyms, versions,
  tool names, Chinese).

An exact match of normalised text (preferred, alternative or hidden label) scores 1.0. The curves are
set by hand (all-MiniLM-L6-v2: paraphrases of one skill have cosines of about 0.7-0.9). Curves fitted by
log-loss on held-out ESCO labels were tried and rejected: they sharpen the semantic curve so much that
ranking on the O*NET benchmark got worse (R@1 0.39 -> 0.36 on alternate titles), and an English label
set makes the lexical channel look useless, which it is not for Chinese. The thresholds that use the
score (a confident canonical id, an extracted skill) are checked instead: ``python -m bench.normalize``
prints how often a top-1 candidate above each threshold is right on real ESCO labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    sem_slope: float = 14.0
    sem_mid: float = 0.72
    lex_slope: float = 10.0
    lex_mid: float = 0.62


DEFAULT = Calibration()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


def combine(cos: np.ndarray, lex: np.ndarray, trust: np.ndarray | float, cal: Calibration) -> np.ndarray:
    """Probability-like score in [0, 1] from cosine, lexical similarity and semantic trust (broadcast)."""
    p_sem = _sigmoid(cal.sem_slope * (cos - cal.sem_mid)) * trust
    p_lex = _sigmoid(cal.lex_slope * (lex - cal.lex_mid))
    return (1.0 - (1.0 - p_sem) * (1.0 - p_lex)).astype(np.float32, copy=False)
