"""Job titles to occupations: the service's matcher against simple baselines, on real titles.

- ``../shared/data/csco/titles_dev.csv``: Chinese job titles -> CSCO 2022 code, acc@1 and MRR@10 (a
  detailed occupation inside a coarser gold group counts as right). Target acc@1 >= 0.52.
- ``../shared/data/eval-dev/titles_esco.csv``: vacancy titles -> ESCO v1.1.1 occupation (the full
  export in ``../shared/data/esco_v1.1.1``), MRR@10. Target >= 0.42.

The classifications are read with the importers the CLI uses, and titles are ranked by the same
:class:`~service.occupations.matcher.TitleMatcher` the API builds (its label vectors from the
multilingual encoder). Baselines, computed in the same run: character 1-3-gram TF-IDF over names and
aliases (no cleaning), the multilingual encoder alone over the same names (no cleaning). Nothing here
is fitted: the fusion weights come from ``models/occupation_fusion.json``
(``python -m training.occupation_fusion``, O*NET and CSCO aliases only).

    python -m bench.titles [--limit N]      (make bench-titles)
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from service.embeddings.loader import load_encoder
from service.embeddings.multilingual import load_multilingual
from service.occupations.importers import parse_csco, parse_esco_occupations
from service.occupations.matcher import (
    ENGLISH,
    LEXICAL,
    MULTILINGUAL,
    Entry,
    Fusion,
    TitleMatcher,
    load_fusion,
)
from service.occupations.service import entries_of
from training.onet import REPO_ROOT, EmbeddingCache

DATA = Path(os.environ.get("TALENTMATCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
CSCO_TARGET = 0.52
ESCO_TARGET = 0.42


def csco_hit(predicted: str | None, gold: str) -> bool:
    """Right when equal, or when the gold code is a group (``2-02-30-00``) holding the prediction."""
    if predicted is None:
        return False
    if predicted == gold:
        return True
    parts = gold.split("-")
    while parts and parts[-1] == "00":
        parts.pop()
    return bool(parts) and len(parts) < 4 and predicted.split("-")[: len(parts)] == parts


def scores(ranked: list[list[str]], gold: list[str], same: Callable[[str, str], bool]) -> tuple[float, float]:
    acc = mrr = 0.0
    for preds, g in zip(ranked, gold, strict=True):
        for rank, p in enumerate(preds[:10], start=1):
            if same(p, g):
                mrr += 1.0 / rank
                acc += rank == 1
                break
    return acc / len(gold), mrr / len(gold)


def _read(path: Path, title: str, gold: str, limit: int | None) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if limit:
        rows = rows[:: max(1, len(rows) // limit)][:limit]
    return [r[title] for r in rows], [r[gold] for r in rows]


def evaluate(
    name: str,
    entries: list[Entry],
    titles: list[str],
    gold: list[str],
    same: Callable[[str, str], bool],
    key: Callable[[Entry], str],
    *,
    english: bool,
    english_path: str | None = None,
) -> dict[str, tuple[float, float]]:
    caches = {MULTILINGUAL: EmbeddingCache(load_multilingual())}
    if english:
        runtime = "torch" if english_path else "auto"
        caches[ENGLISH] = EmbeddingCache(load_encoder("real", path=english_path, runtime=runtime))
    channels = {c: cache.embed for c, cache in caches.items()}
    fitted = load_fusion()
    runs = {
        "TF-IDF char 1-3 (names+aliases)": (Fusion.only(LEXICAL), False),
        "multilingual USE (names+aliases)": (Fusion.only(MULTILINGUAL), False),
        **({"all-MiniLM-L6-v2 (names+aliases)": (Fusion.only(ENGLISH), False)} if english else {}),
        "service (cleaning + fusion)": (fitted, True),
    }
    out: dict[str, tuple[float, float]] = {}
    began = time.perf_counter()
    matcher = TitleMatcher(entries, channels, fitted)
    for cache in caches.values():
        cache.save()
    print(
        f"{name}: {len(matcher.entries):,} occupations indexed in {time.perf_counter() - began:.1f} s "
        f"(channels: {', '.join(channels)})",
        flush=True,
    )
    for label, (fusion, clean) in runs.items():
        matcher.fusion = fusion
        t0 = time.perf_counter()
        ranked = matcher.rank(titles, channels, top_k=10, clean=clean)
        for cache in caches.values():
            cache.save()
        ids = [[key(matcher.entries[h.entry]) for h in hits] for hits in ranked]
        out[label] = scores(ids, gold, same)
        per = (time.perf_counter() - t0) / max(len(titles), 1) * 1000
        print(f"  {label:<36} acc@1 {out[label][0]:.3f}  MRR@10 {out[label][1]:.3f}  ({per:.1f} ms/title)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="score an even subset of N titles per set")
    parser.add_argument("--only", choices=("csco", "esco"), default=None)
    parser.add_argument(
        "--english-path",
        help="a sentence-transformers folder for the English channel instead of the served encoder "
        "(e.g. one trained by python -m training.encoder); the fusion weights stay as fitted",
    )
    args = parser.parse_args(argv)
    failed = False
    csco_file, csco_titles = DATA / "csco" / "csco22.csv", DATA / "csco" / "titles_dev.csv"
    if args.only != "esco":
        if csco_file.is_file() and csco_titles.is_file():
            parsed = parse_csco(csco_file)
            titles, gold = _read(csco_titles, "job_title", "csco_code", args.limit)
            print(f"CSCO {parsed.version}: {len(titles):,} real Chinese job titles ({csco_titles})")
            res = evaluate(
                "CSCO",
                entries_of(parsed.records),
                titles,
                gold,
                csco_hit,
                lambda e: e.code or "",
                english=False,
            )
            acc = res["service (cleaning + fusion)"][0]
            print(
                f"  target acc@1 >= {CSCO_TARGET}: {'met' if acc >= CSCO_TARGET else 'NOT met'} ({acc:.3f})"
            )
            failed |= acc < CSCO_TARGET
        else:
            print(f"skipped CSCO: {csco_file} or {csco_titles} is absent")
    esco_dir, esco_titles = DATA / "esco_v1.1.1", DATA / "eval-dev" / "titles_esco.csv"
    if args.only != "csco":
        if (esco_dir / "occupations_en.csv").is_file() and esco_titles.is_file():
            parsed = parse_esco_occupations(esco_dir)
            titles, gold = _read(esco_titles, "job_title", "esco_occupation_uri", args.limit)
            print(f"ESCO {parsed.version}: {len(titles):,} real vacancy titles ({esco_titles})")
            res = evaluate(
                "ESCO",
                entries_of(parsed.records),
                titles,
                gold,
                lambda p, g: p == g,
                lambda e: e.occupation_id,
                english=True,
                english_path=args.english_path,
            )
            mrr = res["service (cleaning + fusion)"][1]
            print(
                f"  target MRR@10 >= {ESCO_TARGET}: {'met' if mrr >= ESCO_TARGET else 'NOT met'} ({mrr:.3f})"
            )
            failed |= mrr < ESCO_TARGET
        else:
            print(f"skipped ESCO: {esco_dir}/occupations_en.csv or {esco_titles} is absent")
    return 1 if failed and not args.limit else 0


if __name__ == "__main__":
    sys.exit(main())
