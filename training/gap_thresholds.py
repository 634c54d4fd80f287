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


def best_gap_cut(similarity: np.ndarray, covered: np.ndarray) -> float:
    """The similarity below which calling a skill a gap maximises gap F1 (midpoints between values)."""
    order = np.argsort(similarity, kind="stable")
    s, gap = similarity[order], ~covered[order].astype(bool)
    n_gap = int(gap.sum())
    # cutting just above s[i] flags the i + 1 lowest: true positives = gaps among them
    tp = np.cumsum(gap)
    flagged = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (flagged + n_gap)
    last = np.r_[s[1:] != s[:-1], True]  # only cut between distinct values
    f1 = np.where(last, f1, -1.0)
    i = int(np.argmax(f1))
    return float((s[i] + s[i + 1]) / 2) if i + 1 < len(s) else float(s[i] + 1e-6)


def fit_status_thresholds(
    similarity: np.ndarray, covered: np.ndarray, calibration: Any, plain: np.ndarray | None = None
) -> dict[str, Any]:
    """Covered / partial cut-offs from fit-split cases: ``covered`` maximises Youden's J (the matching
    calibration's criterion for ``met``); ``partial`` is the cut below which calling a skill a gap
    maximises gap F1, capped at ``covered``: a skill is a gap where that is the best call, and partial
    only between the two cuts. ``similarity`` is the score the statuses apply to (the fused similarity
    after competition and the hub discount; the coverage curve is monotone in it); stored in both
    scales."""
    fpr, tpr, thr = roc_curve(covered.astype(int), similarity)
    j = int(np.argmax(tpr - fpr))
    covered_at = float(min(thr[j], 1.0))
    partial_at = float(min(best_gap_cut(similarity, covered), covered_at))
    same: dict[str, float] = {}
    if plain is not None:  # where one phrase clearly covers another, before competition and discount
        fpr_p, tpr_p, thr_p = roc_curve(covered.astype(int), plain)
        same["same_skill"] = round(float(min(thr_p[int(np.argmax(tpr_p - fpr_p))], 1.0)), 4)
    return {
        "thresholds_similarity": {"covered": round(covered_at, 4), "partial": round(partial_at, 4), **same},
        "thresholds": {
            "covered": round(coverage_at(calibration, covered_at), 4),
            "partial": round(coverage_at(calibration, partial_at), 4),
        },
        "calibration": {"gamma": calibration.gamma, "a": calibration.a, "b": calibration.b},
        "derivation": {
            "covered": "coverage maximising Youden's J (TPR - FPR) between taught skills and the rest",
            "partial": "coverage under which calling a skill a gap maximises gap F1 (capped at covered); "
            "below it: gap",
            "same_skill": "Youden's J on the plain fused similarity of the best item (before competition "
            "and hub discount): grouping of wordings and the competition gate",
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
