"""Status thresholds of the gap report, fitted on curriculum-shaped evidence.

The matching engine's calibration (``models/calibration.json``) turns a fused similarity into a
calibrated coverage; the gap report uses that same coverage. Where its thresholds were derived from
graduate-style skill phrases, the gap report's are derived the same way from curriculum-style
evidence (learning outcomes and tagged course skills): ``bench.gaps --fit`` builds the known-answer
curriculum cases of the *fit* occupations of O*NET (``bench._onet.split``; the benchmark reports on
the other, *eval*, occupations) and writes ``models/gap_thresholds.json``:

- ``covered``: the coverage maximising Youden's J (true-positive rate minus false-positive rate) between
  skills the curriculum really teaches and the rest - the same criterion as the matching engine's
  ``met``;
- ``partial``: the coverage that 95 % of the really taught skills reach - the same criterion as the
  matching engine's ``partial``; below it a skill is a gap.

An encoder with no entry falls back to the matching engine's ``met`` / ``partial``.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from service.gaps.analysis import Thresholds
from service.matching.calibration import Calibration
from service.matching.lexical import MODELS_DIR

log = logging.getLogger(__name__)

GAP_THRESHOLDS_PATH = MODELS_DIR / "gap_thresholds.json"


@lru_cache(maxsize=8)
def _entries(path: Path) -> dict[str, dict[str, float]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: entry["thresholds"] for name, entry in data.get("encoders", {}).items()}


def gap_thresholds(calibration: Calibration, path: Path = GAP_THRESHOLDS_PATH) -> Thresholds:
    """The fitted covered / partial coverage cut-offs for ``calibration.encoder``, or its met / partial."""
    entry = _entries(path).get(calibration.encoder)
    if entry is None:
        log.warning("no gap thresholds fitted for %r; using the matching thresholds", calibration.encoder)
        return Thresholds(met=calibration.met, partial=calibration.partial)
    return Thresholds(met=float(entry["covered"]), partial=float(entry["partial"]))
