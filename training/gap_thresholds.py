"""Fitting ``models/gap_thresholds.json``: the covered / partial cut-offs of the gap report.

The cases are ``bench.gaps``'s known-answer curriculum cases of the *fit* occupations
(``python -m bench.gaps --fit``); the service reads the file through
:func:`service.gaps.calibration.gap_thresholds`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_curve

from service.gaps.calibration import GAP_THRESHOLDS_PATH, coverage_at, reload_thresholds
from training.onet import ATTRIBUTION


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (ties count half): probability a covered skill outscores a gap."""
    pos = positive.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fit_status_thresholds(similarity: np.ndarray, covered: np.ndarray, calibration: Any) -> dict[str, Any]:
    """Covered / partial cut-offs from fit-split cases, by the matching calibration's criteria:
    ``covered`` maximises Youden's J, ``partial`` is reached by 95 % of the really taught skills.
    Fitted on the fused similarity (the coverage curve is monotone in it) and stored in both scales."""
    fpr, tpr, thr = roc_curve(covered.astype(int), similarity)
    j = int(np.argmax(tpr - fpr))
    covered_at = float(min(thr[j], 1.0))
    partial_at = float(min(np.quantile(similarity[covered], 0.05), covered_at))
    return {
        "thresholds_similarity": {"covered": round(covered_at, 4), "partial": round(partial_at, 4)},
        "thresholds": {
            "covered": round(coverage_at(calibration, covered_at), 4),
            "partial": round(coverage_at(calibration, partial_at), 4),
        },
        "calibration": {"gamma": calibration.gamma, "a": calibration.a, "b": calibration.b},
        "derivation": {
            "covered": "coverage maximising Youden's J (TPR - FPR) between taught skills and the rest",
            "partial": "coverage reached by 95 % of the taught skills (5th percentile); below it: gap",
        },
        "metrics": {
            "skills": len(covered),
            "taught": int(covered.sum()),
            "youden_j": round(float(tpr[j] - fpr[j]), 4),
            "auroc": round(auroc(similarity, covered), 4),
        },
    }


def write_thresholds(encoder: Any, fitted: dict[str, Any], n_cases: int) -> None:
    data: dict[str, Any] = {"encoders": {}}
    if GAP_THRESHOLDS_PATH.is_file():
        data = json.loads(GAP_THRESHOLDS_PATH.read_text(encoding="utf-8"))
    data["encoders"][encoder.name] = {
        "encoder": {"name": encoder.name, "version": encoder.version},
        **fitted,
    }
    data["data"] = {
        "source": "O*NET 29.2 (../shared/data/onet_29.2)",
        "cases": f"{n_cases} known-answer curriculum cases (bench.gaps) of the 'fit' occupations "
        "(training.onet.split), disjoint from the 'eval' occupations the benchmark reports on",
        "attribution": ATTRIBUTION,
    }
    data["rebuild"] = "python -m bench.gaps --fit --encoder real && python -m bench.gaps --fit --encoder fake"
    GAP_THRESHOLDS_PATH.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    reload_thresholds()
