"""What the shortlist of a large stateless match costs: ``python -m bench.shortlist``.

``POST /v1/match`` with more candidates than ``SHORTLIST_MIN`` (or ``SHORTLIST_PER_RESULT`` x top_k)
first ranks them with the encoder's static vectors and scores only the shortlist in full
(``service.matching.service``). This script sends the same calls through the API in process twice, with
the shortlist and with every candidate scored in full, and prints how often the top 10 is the same, how
many of the full top 10 the shortlist kept, and nDCG@10 both ways:

- **O*NET**: ``bench.quality``'s construction (graduates and demands of one split part: ``fit``, where
  the sizes were chosen, and ``eval``), at most 1,000 graduates per call (a seeded sample);
- **ranking_esco** (``../shared/data/eval-dev``, when present; checked, never fitted): its 60 demands
  against 1,000 of its 1,200 graduates (a seeded sample; every graded graduate is kept).

``--min`` and ``--per-result`` try other sizes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

import numpy as np

Case = tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]  # demand, candidates, relevance


def onet_cases(split: str, limit: int, seed: int = 11) -> list[Case]:
    from bench.quality import build, relevance

    graduates, demands, related = build(seed, 3, limit, split=split)
    rng = random.Random(seed)
    cases = []
    for d in demands:
        rel = relevance(d, graduates, related)
        pool = list(range(len(graduates)))
        if len(pool) > 1000:
            graded = [i for i in pool if rel[i] > 0]
            rest = rng.sample([i for i in pool if rel[i] == 0], 1000 - len(graded))
            pool = sorted(graded + rest)
        cands = [{"id": graduates[i].key, "skills": [{"name": s} for s in graduates[i].skills]} for i in pool]
        skills = [{"name": s, "importance": 3} for s in d.skills]
        cases.append((skills, cands, {graduates[i].key: int(rel[i]) for i in pool if rel[i] > 0}))
    return cases


def esco_cases(seed: int = 11) -> list[Case]:
    from bench.heldout import eval_dir, load_sets

    folder = eval_dir()
    if not (folder / "ranking_esco.json").is_file():
        return []
    data = load_sets(folder)["ranking_esco"]
    graduates = {g["external_ref"]: g for g in data["graduates"]}
    rng = random.Random(seed)
    cases = []
    for d in data["demands"]:
        relevance = {str(k): int(v) for k, v in data["relevance"][d["id"]].items() if int(v) > 0}
        graded = [k for k in graduates if k in relevance]
        rest = rng.sample(sorted(k for k in graduates if k not in relevance), 1000 - len(graded))
        cands = [
            {
                "id": k,
                "skills": [{"name": s["name"], "level": s.get("level")} for s in graduates[k]["skills"]],
            }
            for k in sorted(graded + rest)
        ]
        cases.append((d["skills"], cands, relevance))
    return cases


def client() -> Any:
    from bench.zh import service_client

    return service_client(max_body_bytes=50 * 1024 * 1024, match_timeout_seconds=600)


def run(cases: list[Case], c: Any, headers: dict[str, str], top_k: int = 10) -> dict[str, float]:
    from bench.heldout import ndcg_at
    from service.matching import service

    same, kept, with_list, full = [], [], [], []
    seconds = {"shortlist": 0.0, "full": 0.0}
    for skills, cands, relevance in cases:
        body = {"demand": {"skills": skills}, "candidates": cands, "top_k": top_k}
        ranked = {}
        for mode in ("full", "shortlist"):  # full first: both then read the same cached vectors
            saved = service.SHORTLIST_MIN
            if mode == "full":
                service.SHORTLIST_MIN = 10**9
            try:
                started = time.perf_counter()
                r = c.post("/v1/match", json=body, headers=headers)
                seconds[mode] += time.perf_counter() - started
            finally:
                service.SHORTLIST_MIN = saved
            assert r.status_code == 200, r.text[:300]
            ranked[mode] = [m["id"] for m in r.json()["matches"]]
        same.append(ranked["full"] == ranked["shortlist"])
        kept.append(len(set(ranked["full"]) & set(ranked["shortlist"])) / max(1, len(ranked["full"])))
        with_list.append(ndcg_at(ranked["shortlist"], relevance))
        full.append(ndcg_at(ranked["full"], relevance))
    return {
        "demands": len(cases),
        "same_top": float(np.mean(same)),
        "kept": float(np.mean(kept)),
        "worst_kept": float(np.min(kept)),
        "ndcg_shortlist": float(np.mean(with_list)),
        "ndcg_full": float(np.mean(full)),
        **{f"seconds_{k}": v / max(1, len(cases)) for k, v in seconds.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demands", type=int, default=100, help="O*NET demands per split part")
    parser.add_argument("--min", type=int, help="SHORTLIST_MIN to try")
    parser.add_argument("--per-result", type=int, help="SHORTLIST_PER_RESULT to try")
    parser.add_argument("--sets", default="fit,eval,esco", help="any of fit, eval, esco")
    args = parser.parse_args(argv)
    from service.matching import service

    if args.min is not None:
        service.SHORTLIST_MIN = args.min
    if args.per_result is not None:
        service.SHORTLIST_PER_RESULT = args.per_result
    print(
        f"shortlist: max({service.SHORTLIST_MIN}, {service.SHORTLIST_PER_RESULT} x top_k) candidates, "
        "top_k 10; seconds are per call after the phrases were seen (the full call encodes them first)"
    )
    print(
        f"{'set':22} {'demands':>7} {'same top 10':>11} {'kept':>6} {'worst':>6} "
        f"{'nDCG@10 short':>13} {'full':>6} {'s short':>8} {'s full':>7}"
    )
    with client() as (c, headers):
        for name in args.sets.split(","):
            if name == "esco":
                cases = esco_cases()
                label = "ranking_esco (eval-dev)"
                if not cases:
                    print("ranking_esco: skipped, ../shared/data/eval-dev is absent")
                    continue
            else:
                cases = onet_cases(name, args.demands)
                label = f"O*NET {name}"
            f = run(cases, c, headers)
            print(
                f"{label:22} {f['demands']:7d} {f['same_top']:11.3f} {f['kept']:6.3f} {f['worst_kept']:6.2f} "
                f"{f['ndcg_shortlist']:13.4f} {f['ndcg_full']:6.4f} {f['seconds_shortlist']:8.2f} "
                f"{f['seconds_full']:7.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
