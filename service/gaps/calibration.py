"""Status thresholds of the gap report, fitted on curriculum-shaped evidence.

The matching engine's calibration (``models/calibration.json``) turns a fused similarity into a
calibrated coverage; the gap report uses that same coverage. Where its thresholds were derived from
graduate-style skill phrases, the gap report's are derived the same way from curriculum-style
evidence (learning outcomes and tagged course skills): ``bench.gaps --fit`` builds the known-answer
curriculum cases of the *fit* occupations of O*NET (``training.onet.split``; the benchmark reports on
the other, *eval*, occupations) and writes ``models/gap_thresholds.json``:

- ``covered``: the coverage maximising Youden's J (true-positive rate minus false-positive rate) between
  skills the curriculum really teaches and the rest - the same criterion as the matching engine's
  ``met``;
- ``partial``: the coverage under which calling a skill a gap maximises gap F1, capped at ``covered``;
  below it a skill is a gap, and partial lies between the two cuts (on O*NET they coincide);
- ``same_skill``: Youden's J on the plain fused similarity of the best item (before competition and the
  hub discount): where one phrase clearly covers another. Wordings that reach it share a line in
  region scope, and evidence that reaches it for another demanded skill competes.

``covered`` and ``partial`` apply to the score after competition and the hub discount.

Both are stored as fused *similarities* (and, for reading, as the coverages they had): the service
converts them through the current coverage curve, so a refit of the matching calibration's curve
keeps their meaning; a changed fusion weight (``gamma``) is logged as a reason to refit. An encoder
with no entry falls back to the matching engine's ``met`` / ``partial``.
"""

from __future__ import annotations

import json
import logging
import math
from functools import lru_cache
from pathlib import Path

from service.gaps.analysis import Thresholds
from service.matching.calibration import Bridge, Calibration
from service.paths import models_dir

log = logging.getLogger(__name__)

GAP_THRESHOLDS_PATH = models_dir() / "gap_thresholds.json"
REBUILD = "python -m bench.gaps --fit --encoder real && python -m bench.gaps --fit --encoder fake"
_warned: set[str] = set()


@lru_cache(maxsize=8)
def _fitted(path: Path) -> dict[str, dict[str, float]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: {**entry["thresholds_similarity"], "gamma": float(entry["calibration"]["gamma"])}
        for name, entry in data.get("encoders", {}).items()
        if "thresholds_similarity" in entry and "calibration" in entry
    }


def reload_thresholds() -> None:
    """Forget the thresholds read so far (after the file was refitted)."""
    _fitted.cache_clear()


def coverage_at(calibration: Calibration, similarity: float) -> float:
    """The calibrated coverage of a fused similarity (the curve, without the evidence floor)."""
    return 1.0 / (1.0 + math.exp(-(calibration.a * similarity + calibration.b)))


def across_languages(calibration: Calibration, bridge: Bridge | None) -> float:
    """Where the best item is in another language than the demanded wording: the coverage from which
    the line is ``partial``. The matching calibration's partial cut (95 % of real O*NET matches reach
    it; the multilingual channel counts as evidence from there), raised to the coverage of
    ``bridge.unrelated_cos`` (what 1 in 100 random Chinese/English pairs reach): weaker evidence across
    languages is noise, and the line is a gap."""
    across = calibration.partial
    if bridge is not None and bridge.unrelated_cos > 0:
        across = max(across, coverage_at(calibration, bridge.similarity_of(bridge.unrelated_cos)))
    return round(across, 4)


def gap_thresholds(
    calibration: Calibration, path: Path = GAP_THRESHOLDS_PATH, bridge: Bridge | None = None
) -> Thresholds:
    """The fitted covered / partial coverage cut-offs for ``calibration.encoder``, or its met / partial;
    ``across`` from :func:`across_languages`."""
    entry = _fitted(path).get(calibration.encoder)
    if entry is None:
        if calibration.encoder not in _warned:
            _warned.add(calibration.encoder)
            log.warning("no gap thresholds fitted for %r; using the matching ones", calibration.encoder)
        return Thresholds(
            met=calibration.met, partial=calibration.partial, across=across_languages(calibration, bridge)
        )
    if abs(entry["gamma"] - calibration.gamma) > 1e-9 and calibration.encoder not in _warned:
        _warned.add(calibration.encoder)
        log.warning(
            "gap thresholds for %r were fitted with gamma %s, the calibration now has %s; refit with %s",
            calibration.encoder,
            entry["gamma"],
            calibration.gamma,
            REBUILD,
        )
    same = entry.get("same_skill")
    return Thresholds(
        met=round(coverage_at(calibration, entry["covered"]), 4),
        partial=round(coverage_at(calibration, entry["partial"]), 4),
        same=None if same is None else round(coverage_at(calibration, same), 4),
        across=across_languages(calibration, bridge),
    )
