"""Hub discount: a demanded skill that is close to almost any text needs more than that closeness.

A generic skill ("communication", "data analysis", "problem solving") reaches a fair cosine with nearly
every course sentence, so its best evidence in a curriculum looks as good as the real evidence of a
specific skill. Its *hubness* is measured against a fixed background of O*NET text: the mean of its
``top`` best cosines among ``models/hub_background.npz`` (task statements of the O*NET *fit*
occupations, embedded by the served encoder; built by ``python -m training.hub_background``, manifest
``models/hub_background.json``). A skill's evidence is then discounted by
``weight * (hubness - reference)``, where ``reference`` is the mean hubness of O*NET skill phrases:
a typical skill keeps its similarity, a hub loses some, a very specific skill gains a little.

The encoder's cosine says nothing about Chinese text when the encoder is English-only, so the discount
is scaled by the skill's Latin share. An encoder without a background (the fake test encoder, a
multilingual one) gets no discount.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from service.paths import models_dir

log = logging.getLogger(__name__)

HUB_PATH = models_dir() / "hub_background.json"


@dataclass(frozen=True)
class HubBackground:
    """Background vectors of one encoder and the discount's constants (see the module doc)."""

    encoder: str
    vecs: np.ndarray  # (n, dim) float32, unit rows
    top: int
    weight: float
    reference: float

    def hubness(self, vecs: np.ndarray) -> np.ndarray:
        """(k,) mean of each row's ``top`` best cosines with the background."""
        vecs = np.asarray(vecs, dtype=np.float32)
        if vecs.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        sims = vecs @ self.vecs.T
        n = sims.shape[1]
        top = min(self.top, n)
        best = np.partition(sims, n - top, axis=1)[:, n - top :]
        return best.mean(axis=1).astype(np.float32)

    def discount(self, vecs: np.ndarray, trust: np.ndarray | None = None) -> np.ndarray:
        """(k,) amount to subtract from each skill's similarities: ``weight * (hubness - reference)``,
        times ``trust`` (the skill's Latin share for an English-only encoder) when given."""
        out = np.float32(self.weight) * (self.hubness(vecs) - np.float32(self.reference))
        if trust is not None:
            out *= np.asarray(trust, dtype=np.float32)
        return out.astype(np.float32)


@lru_cache(maxsize=8)
def load_hub_background(encoder_name: str, path: Path = HUB_PATH) -> HubBackground | None:
    """The background built for ``encoder_name``, or None (no discount) when there is none."""
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    entry = manifest.get("encoders", {}).get(encoder_name)
    if entry is None:
        return None
    vec_path = path.parent / entry["file"]
    if not vec_path.is_file():
        log.warning("hub background %s is missing; no hub discount for %r", vec_path, encoder_name)
        return None
    with np.load(vec_path, allow_pickle=False) as data:
        vecs = np.asarray(data["vecs"], dtype=np.float32)
    return HubBackground(
        encoder=encoder_name,
        vecs=vecs,
        top=int(entry["top"]),
        weight=float(entry["weight"]),
        reference=float(entry["reference"]),
    )
