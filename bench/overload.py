"""Overload on loopback: bursts of parallel matching requests, and how fast health checks answer.

Starts the server (one worker), loads a small consortium, then fires bursts of ``--bursts`` parallel
``POST /v1/demands/{id}/matches`` (default 50, 100, 200) while probing ``/healthz`` and ``/readyz``
every 50 ms. Per burst it prints the answers by status, how many 503s carried ``Retry-After``, the
latency of admitted and shed requests, and the slowest health and readiness answers during the
burst; at the end, ``talentmatch_requests_shed_total`` from ``/metrics``. Exit status 1 if any 5xx
other than a 503 was seen, or a request got no answer in 120 s (status 0). Bounded: about a
minute on a 2-core machine.

Usage::

    python -m bench.overload --db sqlite
    python -m bench.overload --db postgres --bursts 50 100 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.load import load_consortium
from bench.server import Server, create_pg_database, drop_pg_database


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


async def _probe(client: httpx.AsyncClient, path: str, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        with contextlib.suppress(httpx.HTTPError):
            await client.get(path, timeout=120)
        out.append(time.perf_counter() - t0)
        await asyncio.sleep(0.05)


async def burst(base: str, demands: list[tuple[str, str]], n: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=n + 4, max_keepalive_connections=n + 4)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        stop = asyncio.Event()
        health: list[float] = []
        ready: list[float] = []
        probes = [
            asyncio.create_task(_probe(client, "/healthz", stop, health)),
            asyncio.create_task(_probe(client, "/readyz", stop, ready)),
        ]

        async def one(i: int) -> tuple[int, float, bool]:
            key, demand_id = demands[i % len(demands)]
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    f"/v1/demands/{demand_id}/matches",
                    json={"top_k": 10},
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx.HTTPError:  # no answer within the client's 120 s: counted as status 0
                return 0, time.perf_counter() - t0, False
            return r.status_code, time.perf_counter() - t0, "retry-after" in r.headers

        t0 = time.perf_counter()
        answers = await asyncio.gather(*(one(i) for i in range(n)))
        seconds = time.perf_counter() - t0
        stop.set()
        await asyncio.gather(*probes)
    statuses = Counter(s for s, _, _ in answers)
    return {
        "n": n,
        "seconds": round(seconds, 1),
        "statuses": dict(sorted(statuses.items())),
        "retry_after": sum(1 for s, _, ra in answers if s == 503 and ra),
        "admitted_p50_ms": _ms([t for s, t, _ in answers if s == 200], 0.5),
        "admitted_max_ms": _ms([t for s, t, _ in answers if s == 200], 1.0),
        "shed_p50_ms": _ms([t for s, t, _ in answers if s == 503], 0.5),
        "shed_max_ms": _ms([t for s, t, _ in answers if s == 503], 1.0),
        "healthz_max_ms": _ms(health, 1.0),
        "readyz_max_ms": _ms(ready, 1.0),
        "other_5xx": sum(v for s, v in statuses.items() if s >= 500 and s != 503),
        "no_answer": statuses.get(0, 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--bursts", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--graduates", type=int, default=2000)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "TALENTMATCH_CRASH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="talentmatch-overload-"))
    pg_name = None
    if args.db == "sqlite":
        url = f"sqlite:///{workdir / 'overload.db'}"
    else:
        pg_name, url = create_pg_database(args.pg_admin_url)
    from service.migrate import upgrade

    metrics_dir = workdir / "prometheus"
    metrics_dir.mkdir(exist_ok=True)
    server = Server(
        url, workdir, "fake", extra_env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, stop_timeout=30
    )
    failed = False
    try:
        upgrade(url)
        server.start(timeout=300)
        consortium = load_consortium(server.base, args.graduates)
        print(
            f"{args.db}, 1 worker, {args.graduates} graduates, {len(consortium.demands)} demands, "
            f"{os.cpu_count()} CPU(s)"
        )
        for n in args.bursts:
            r = asyncio.run(burst(server.base, consortium.demands, n))
            failed |= r["other_5xx"] > 0 or r["no_answer"] > 0
            print(
                f"  burst {r['n']:4d}: {r['seconds']:5.1f} s  {r['statuses']}  503 with Retry-After "
                f"{r['retry_after']}  admitted p50/max {r['admitted_p50_ms']}/{r['admitted_max_ms']} ms  "
                f"shed p50/max {r['shed_p50_ms']}/{r['shed_max_ms']} ms  "
                f"/healthz max {r['healthz_max_ms']} ms  /readyz max {r['readyz_max_ms']} ms"
            )
        t0 = time.perf_counter()
        ready = httpx.get(server.base + "/readyz", timeout=120).status_code
        print(f"  /readyz after the bursts: {ready} in {round(1000 * (time.perf_counter() - t0), 1)} ms")
        text = httpx.get(server.base + "/metrics", timeout=60).text
        for line in re.findall(r"^talentmatch_requests_shed_total\{.*$", text, re.M):
            print(f"  {line}")
    finally:
        server.stop()
        if pg_name:
            drop_pg_database(args.pg_admin_url, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
