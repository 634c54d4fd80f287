"""Fitting the multilingual channel's curve: multilingual USE cosine -> probability a skill is covered.

``python -m training.multilingual_calibration`` adds (or replaces) the entry
``universal-sentence-encoder-multilingual-3`` of ``models/calibration.json``; the service reads it
through :func:`service.matching.calibration.load_bridge`, which puts the curve on the main encoder's
scale (a multilingual cosine counts as the fused similarity of equal coverage).

Data (nothing from ESCO, job titles or ``eval-dev``):

- **O*NET 29.2, fit split** (English): the cases of :func:`training.calibration.build_cases` (a demanded
  skill and a 15-phrase profile, balanced positives and negatives), scored by the best multilingual
  cosine in the profile.
- **CSCO 2022** (``../shared/data/csco/csco22.csv``, Chinese; override with ``TALENTMATCH_CSCO_FILE``):
  a detailed occupation's name and each of its aliases (its other names in job postings) are the same
  thing written differently: "车工" for "车削加工人员". Cases are built the same way: the name (or an alias)
  as the demand, a 15-phrase profile of other occupations' names and aliases, with one other name of the
  same occupation in the positive profile; half of the negatives come from the same minor group
  (``6-18-01``: related work), half from anywhere. Only occupations whose code hashes into the *fit*
  share (the same 30 % rule as O*NET, :func:`csco_part`) are used.

Both sources weigh the same in a logistic regression of the label on the best cosine (the curve's
``a``, ``b``). ``floor``, ``partial`` and ``met`` are derived as for the main curve and reported, but
the service applies the main curve's thresholds to the bridged value.

``unrelated_p99`` is the noise level across languages: the 99th percentile of the cosine between a
Chinese CSCO name (fit share) and an English O*NET task fragment (fit split) drawn at random, pairs that
are nearly all unrelated. The gap report calls a Chinese skill evidenced only by English text (or the
other way) ``partial`` only above it (:func:`service.gaps.calibration.gap_thresholds`): an item no
closer than 1 in 100 unrelated pairs is no evidence.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from service.embeddings.multilingual import load_multilingual
from service.matching.calibration import CALIBRATION_PATH
from training.calibration import SEED, build_cases
from training.onet import FIT_SHARE, REPO_ROOT, EmbeddingCache, load_onet, task_fragment

DEFAULT_CSCO_FILE = REPO_ROOT.parent / "shared" / "data" / "csco" / "csco22.csv"


def csco_file() -> Path:
    return Path(os.environ.get("TALENTMATCH_CSCO_FILE", DEFAULT_CSCO_FILE))


def csco_part(code: str) -> str:
    """``fit`` for about ``FIT_SHARE`` of the occupations (by a hash of the code), else ``eval``."""
    digest = int(hashlib.sha256(code.encode("utf-8")).hexdigest()[:8], 16)
    return "fit" if digest / 0xFFFFFFFF < FIT_SHARE else "eval"


@dataclass
class Occupation:
    code: str
    names: list[str]  # the name first, then the aliases that differ from it


def load_csco(path: Path | None = None) -> list[Occupation]:
    """Detailed occupations (level 4) with their name and distinct aliases."""
    out: list[Occupation] = []
    with (path or csco_file()).open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["level"] != "4":
                continue
            name = row["name"].strip().rstrip("SL").strip() or row["name"].strip()
            names = [name]
            for alias in (row.get("alias") or "").replace("，", ",").replace("、", ",").split(","):
                alias = alias.strip()
                if alias and alias not in names:
                    names.append(alias)
            out.append(Occupation(row["code"], names))
    return out


@dataclass
class Pair:
    demand: str
    profile: list[str]
    label: int
    source: str


def csco_cases(seed: int = SEED, profile_size: int = 15) -> list[Pair]:
    rng = random.Random(seed)
    occupations = load_csco()
    fit = [o for o in occupations if csco_part(o.code) == "fit"]
    by_group: dict[str, list[Occupation]] = {}
    for o in fit:
        by_group.setdefault(o.code[:7], []).append(o)
    cases: list[Pair] = []
    for occ in fit:
        if len(occ.names) < 2:
            continue
        for demand, evidence in [
            (occ.names[0], rng.choice(occ.names[1:])),
            (rng.choice(occ.names[1:]), occ.names[0]),
        ]:
            siblings = [o for o in by_group[occ.code[:7]] if o.code != occ.code]
            others = siblings if siblings and rng.random() < 0.5 else [o for o in fit if o.code != occ.code]
            pool = list(dict.fromkeys(n for o in rng.sample(others, min(len(others), 12)) for n in o.names))
            while len(pool) < profile_size:
                pool.extend(n for n in rng.choice(fit).names if n not in occ.names)
            profile = rng.sample(pool, profile_size)
            cases.append(Pair(demand, [*profile[: profile_size - 1], evidence], 1, "csco"))
            cases.append(Pair(demand, profile, 0, "csco"))
    return cases


def onet_cases(seed: int = SEED) -> list[Pair]:
    return [Pair(c.demand, c.profile, c.label, "onet") for c in build_cases(seed)]


def best_cosines(cases: list[Pair], encoder: Any) -> np.ndarray:
    texts = sorted({c.demand for c in cases} | {p for c in cases for p in c.profile})
    cache = EmbeddingCache(encoder)
    vecs = cache.embed(texts)
    cache.save()
    index = {t: i for i, t in enumerate(texts)}
    return np.asarray(
        [float((vecs[[index[p] for p in c.profile]] @ vecs[index[c.demand]]).max()) for c in cases]
    )


def unrelated_cosines(encoder: Any, seed: int = SEED, n: int = 1000) -> np.ndarray:
    """Cosines of ``n`` x ``n`` random cross-language pairs: CSCO names (fit share, Chinese) against
    O*NET task fragments (fit split, English)."""
    rng = random.Random(seed)
    chinese = sorted({o.names[0] for o in load_csco() if csco_part(o.code) == "fit"})
    english = sorted({task_fragment(t.text, 0) for occ in load_onet().part("fit") for t in occ.tasks})
    zh, en = rng.sample(chinese, min(n, len(chinese))), rng.sample(english, min(n, len(english)))
    cache = EmbeddingCache(encoder)
    a, b = cache.embed(zh), cache.embed(en)
    cache.save()
    return np.asarray(a @ b.T, dtype=np.float64).ravel()


def fit(seed: int = SEED) -> dict[str, Any]:
    encoder = load_multilingual()
    cases = onet_cases(seed) + csco_cases(seed)
    y = np.asarray([c.label for c in cases])
    source = np.asarray([c.source for c in cases])
    s = best_cosines(cases, encoder)
    # each source weighs the same in the fit, whatever its number of cases
    weight = np.where(source == "onet", 1.0 / (source == "onet").sum(), 1.0 / (source == "csco").sum())
    model = LogisticRegression(C=1e6, max_iter=1000).fit(s[:, None], y, sample_weight=weight * len(y))
    a, b = float(model.coef_[0][0]), float(model.intercept_[0])

    def cov_at(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-(a * x + b)))

    fpr, tpr, thr = roc_curve(y, s, sample_weight=weight)
    met_sim = float(thr[int(np.argmax(tpr - fpr))])
    partial_sim = float(np.quantile(s[y == 1], 0.05))
    floor_sim = float(np.quantile(s[y == 1], 0.01))
    unrelated_p99 = float(np.quantile(unrelated_cosines(encoder, seed), 0.99))
    return {
        "encoder": {"name": encoder.name, "version": encoder.version, "dim": encoder.dim},
        "role": (
            "second channel: applied only to pairs where either text holds CJK characters, bridged onto "
            "the main encoder's curve (service.matching.calibration.load_bridge); floor/partial/met below "
            "are reported, the main curve's thresholds apply"
        ),
        "params": {
            "gamma": 1.0,
            "a": round(a, 6),
            "b": round(b, 6),
            "floor": round(cov_at(floor_sim), 4),
            "partial": round(cov_at(partial_sim), 4),
            "met": round(cov_at(met_sim), 4),
        },
        "thresholds_similarity": {
            "floor": round(floor_sim, 4),
            "partial": round(partial_sim, 4),
            "met": round(met_sim, 4),
            "unrelated_p99": round(unrelated_p99, 4),
        },
        "derivation": {
            "curve": "logistic regression of the label on the best multilingual cosine of the profile; "
            "O*NET and CSCO cases weigh the same in total",
            "data": "O*NET 29.2 fit split (training.calibration.build_cases) and CSCO 2022 detailed "
            "occupations of the fit share (name / alias cases, training.multilingual_calibration)",
            "unrelated_p99": "99th percentile of the cosine of random CSCO name (Chinese, fit share) x "
            "O*NET task fragment (English, fit split) pairs: the noise level across languages, under which "
            "the gap report calls no cross-language evidence partial",
            "seed": seed,
            "rebuild": "python -m training.multilingual_calibration",
        },
        "metrics": {
            "cases": {src: int((source == src).sum()) for src in ("onet", "csco")},
            "roc_auc": {
                src: round(float(roc_auc_score(y[source == src], s[source == src])), 4)
                for src in ("onet", "csco")
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Fit the multilingual channel's curve (O*NET + CSCO).")
    parser.add_argument("--out", type=Path, default=CALIBRATION_PATH)
    args = parser.parse_args()
    entry = fit()
    data = json.loads(args.out.read_text(encoding="utf-8"))
    data["encoders"][entry["encoder"]["name"]] = entry
    data.setdefault("fitted_at_by_encoder", {})[entry["encoder"]["name"]] = datetime.now(UTC).isoformat(
        timespec="seconds"
    )
    args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(entry["params"]), json.dumps(entry["metrics"]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
