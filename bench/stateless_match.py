"""Stateless matching speed: ``python -m bench.stateless_match``.

``POST /v1/match`` with 1,000 candidates of 15 skills (about 14,000 distinct phrases, O*NET task
fragments and technology examples) against a 15-skill demand, through the API in process (FastAPI's
test client, a fresh SQLite database, the real encoder): first with every phrase new to the process,
then the same call again (served from the bounded in-memory memory of recent phrase vectors,
``service.embeddings.cache.RECENT``), then with a fifth of the candidates replaced by new ones. After
the calls the script checks that the database holds no candidate phrase.

Targets: repeated call <= 0.5 s; all phrases new <= 5 s (this one is bound by the encoder's speed).
``--candidates`` and ``--skills`` change the size; ``--encoder fake`` runs without the model.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any


def phrase_pool(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct phrases from O*NET (task fragments and technology examples)."""
    from training.onet import load_onet, task_fragment

    onet = load_onet()
    seen: dict[str, None] = {}
    for occ in onet.occupations.values():
        for t in occ.tech:
            seen.setdefault(t.example, None)
        for task in occ.tasks:
            for variant in range(3):
                seen.setdefault(task_fragment(task.text, variant), None)
    pool = list(seen)
    random.Random(seed).shuffle(pool)
    if len(pool) < n:
        raise SystemExit(f"only {len(pool)} distinct O*NET phrases; ask for fewer")
    return pool[:n]


def candidates(pool: list[str], n: int, skills: int, start: int) -> list[dict[str, Any]]:
    """``n`` candidates taking ``skills`` consecutive phrases each from ``pool`` (wrapping)."""
    out = []
    for i in range(n):
        names = [pool[(start + i * skills + j) % len(pool)] for j in range(skills)]
        out.append({"id": f"c{start + i}", "skills": [{"name": s} for s in names]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--skills", type=int, default=15)
    parser.add_argument("--encoder", choices=("real", "fake"), default="real")
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from bench.zh import service_client
    from service.orm import PhraseEmbedding

    n, k = args.candidates, args.skills
    pool = phrase_pool(n * k + n * k // 5 + k)
    demand = [{"name": name, "importance": 3} for name in pool[-k:]]
    first = candidates(pool, n, k, 0)
    mixed = [*first[n // 5 :], *candidates(pool, n // 5, k, n * k)]
    settings = {
        "encoder_backend": args.encoder,
        "max_body_bytes": 50 * 1024 * 1024,
        "match_timeout_seconds": 600,  # measure the all-new call however long the encoder takes
    }
    with service_client(**settings) as (client, headers):
        # The demand's own phrases once, so that every call below costs only its candidates.
        warm = {
            "demand": {"skills": demand},
            "candidates": [{"id": "w", "skills": [{"name": s["name"]} for s in demand]}],
            "top_k": 1,
        }
        r = client.post("/v1/match", json=warm, headers=headers)
        assert r.status_code == 200, r.text

        rows = []
        for label, cands in (
            ("all phrases new", first),
            ("the same call again", first),
            ("a fifth of the candidates new", mixed),
        ):
            body = {"demand": {"skills": demand}, "candidates": cands, "top_k": 10}
            started = time.perf_counter()
            r = client.post("/v1/match", json=body, headers=headers)
            seconds = time.perf_counter() - started
            assert r.status_code == 200, r.text[:500]
            distinct = len({s["name"].lower() for c in cands for s in c["skills"]})
            rows.append((label, len(cands), distinct, seconds))
        with client.app.state.read_sessions() as session:  # type: ignore[attr-defined]
            stored = session.scalar(select(func.count()).select_from(PhraseEmbedding)) or 0
    print(f"POST /v1/match, {n} candidates x {k} skills against a {k}-skill demand ({args.encoder} encoder)")
    print(f"{'call':32} {'candidates':>10} {'phrases':>8} {'seconds':>8}")
    for label, m, distinct, seconds in rows:
        print(f"{label:32} {m:10d} {distinct:8d} {seconds:8.2f}")
    print(f"phrase vectors in the database afterwards: {stored} (the demand's {k} skills only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
