"""Fit the title matcher's fusion weights (``models/occupation_fusion.json``) on data we may fit on.

- Titles without CJK characters: O*NET 29.2. Index: each occupation's title and one half of its
  ``Sample of Reported Titles``; queries: the other half (real titles people reported), and the other
  way round (two folds).
- Chinese titles: the CSCO 2022 classification text. Index: each detailed occupation's name and one
  half of its aliases; queries: the other half, two folds.

The grid: the lexical channel's weight, the English encoder's share of the semantic weight (Latin
script only; Chinese titles use the multilingual encoder alone) and the centroid share; the objective
is MRR@10. Nothing of ESCO, of job-title evaluation files or of eval-dev is read.

    python -m training.occupation_fusion [--write]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from service.embeddings.loader import load_encoder
from service.embeddings.multilingual import load_multilingual
from service.occupations.importers import parse_csco
from service.occupations.matcher import (
    ENGLISH,
    FUSION_FILE,
    LEXICAL,
    MULTILINGUAL,
    Entry,
    Fusion,
    TitleMatcher,
    Vectors,
)
from training.onet import REPO_ROOT, EmbeddingCache, onet_dir

LEXICAL_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
ENGLISH_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
CENTROID_GRID = (0.0, 0.4, 0.8, 0.9, 1.0)
ALTERNATIVE_WEIGHT = 0.9  # a priori: an alternative part counts a little less than the main one
FOLDS = 2


def _halves(names: list[str], fold: int) -> tuple[list[str], list[str]]:
    """(indexed, queries) of one fold: every other name."""
    indexed = [n for i, n in enumerate(names) if i % FOLDS != fold]
    queries = [n for i, n in enumerate(names) if i % FOLDS == fold]
    return indexed, queries


def onet_cases(fold: int) -> tuple[list[Entry], list[str], list[int]]:
    base = onet_dir()
    titles: dict[str, str] = {}
    with (base / "Occupation Data.txt").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            titles[row["O*NET-SOC Code"]] = row["Title"]
    reported: dict[str, list[str]] = {}
    with (base / "Sample of Reported Titles.txt").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            reported.setdefault(row["O*NET-SOC Code"], []).append(row["Reported Job Title"])
    entries: list[Entry] = []
    queries: list[str] = []
    gold: list[int] = []
    for code, title in sorted(titles.items()):
        indexed, asked = _halves(reported.get(code, []), fold)
        gold.extend([len(entries)] * len(asked))
        queries.extend(asked)
        entries.append(Entry(code, "onet", code, title, (title, *indexed)))
    return entries, queries, gold


def csco_cases(path: Path, fold: int) -> tuple[list[Entry], list[str], list[int]]:
    entries: list[Entry] = []
    queries: list[str] = []
    gold: list[int] = []
    for record in parse_csco(path).records:
        if record.level != 4:
            continue
        indexed, asked = _halves(list(record.alt_labels), fold)
        gold.extend([len(entries)] * len(asked))
        queries.extend(asked)
        entries.append(
            Entry(record.occupation_id, "csco", record.code, record.label, (record.label, *indexed))
        )
    return entries, queries, gold


def mrr(best: np.ndarray, gold: list[int]) -> float:
    """MRR@10 of (queries x occupations) scores."""
    total = 0.0
    for q, g in enumerate(gold):
        rank = int(np.sum(best[q] > best[q, g])) + 1
        total += 1.0 / rank if rank <= 10 else 0.0
    return total


def grid(script: str, with_english: bool) -> list[Fusion]:
    out = []
    for lexical in LEXICAL_GRID:
        for english in ENGLISH_GRID if with_english else (0.0,):
            for centroid in CENTROID_GRID:
                semantic = 1.0 - lexical
                table = {
                    LEXICAL: lexical,
                    MULTILINGUAL: semantic * (1 - english),
                    ENGLISH: semantic * english,
                }
                out.append(Fusion({script: table}, {script: centroid}, ALTERNATIVE_WEIGHT))
    return out


def evaluate(
    cases: list[tuple[list[Entry], list[str], list[int]]],
    channels: Mapping[str, Vectors],
    fusions: list[Fusion],
) -> np.ndarray:
    """Summed MRR@10 of each fusion over the folds, and the number of queries."""
    totals = np.zeros(len(fusions))
    count = 0
    for entries, queries, gold in cases:
        matcher = TitleMatcher(entries, channels, fusions[0])
        block = next(iter(matcher.blocks.values()))
        norms = [v[0] for v in matcher.variants(queries, clean=False)]
        for start in range(0, len(norms), 256):
            chunk = norms[start : start + 256]
            q_vecs = {
                name: np.asarray(vectors(chunk), dtype=np.float32) for name, vectors in channels.items()
            }
            scores = block.channel_scores(chunk, q_vecs)
            for i, fusion in enumerate(fusions):
                _, best = block.fuse(chunk, scores, fusion)
                totals[i] += mrr(best, gold[start : start + 256])
        count += len(norms)
    return totals / max(count, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {FUSION_FILE}")
    parser.add_argument(
        "--csco", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "csco" / "csco22.csv"
    )
    args = parser.parse_args(argv)
    multilingual = EmbeddingCache(load_multilingual())
    english = EmbeddingCache(load_encoder("real"))
    result: dict[str, tuple[Fusion, float]] = {}
    try:
        for script, cases, channels in (
            (
                "latin",
                [onet_cases(f) for f in range(FOLDS)],
                {MULTILINGUAL: multilingual.embed, ENGLISH: english.embed},
            ),
            ("cjk", [csco_cases(args.csco, f) for f in range(FOLDS)], {MULTILINGUAL: multilingual.embed}),
        ):
            fusions = grid(script, ENGLISH in channels)
            scores = evaluate(cases, channels, fusions)
            best = int(np.argmax(scores))
            result[script] = (fusions[best], float(scores[best]))
            print(
                f"{script}: {sum(len(c[1]) for c in cases):,} queries; best MRR@10 {scores[best]:.3f} with "
                f"{fusions[best].weights[script]} centroid {fusions[best].centroid_share[script]}",
                flush=True,
            )
            for name in (LEXICAL, MULTILINGUAL, ENGLISH):
                alone = [i for i, f in enumerate(fusions) if f.weights[script].get(name) == 1.0]
                if alone:
                    print(f"  {name} alone: {max(scores[i] for i in alone):.3f}")
    finally:
        multilingual.save()
        english.save()
    data = {
        "weights": {s: {k: round(v, 4) for k, v in f.weights[s].items()} for s, (f, _) in result.items()},
        "centroid_share": {s: f.centroid_share[s] for s, (f, _) in result.items()},
        "alternative_weight": ALTERNATIVE_WEIGHT,
        "fit_mrr_at_10": {s: round(m, 4) for s, (_, m) in result.items()},
        "source": "O*NET 29.2 Sample of Reported Titles (latin); CSCO 2022 aliases (cjk); two folds each",
        "fitted_at": datetime.now(UTC).date().isoformat(),
        "command": "python -m training.occupation_fusion --write",
    }
    print(json.dumps(data, ensure_ascii=False, indent=2))
    if args.write:
        path = REPO_ROOT / FUSION_FILE
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
