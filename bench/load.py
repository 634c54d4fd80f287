"""Load test on loopback: throughput, p50/p99 latency and errors under concurrent clients.

Starts the server (``uvicorn --workers N``), loads a consortium (``--graduates`` profiles, default
10,000, over five schools; enterprises with open demands; programmes; a few training orders), then
drives it for ``--duration`` seconds from ``--concurrency`` concurrent clients with a mix of:

- ``POST /v1/demands/{id}/matches`` (rank the graduates for a demand; when the route exists) and
  ``GET /v1/demands/{id}/matches`` (the last stored result);
- list calls: ``GET /v1/graduates?limit=100``, ``GET /v1/demands``, ``GET /v1/programs``,
  ``GET /v1/training-orders``, ``GET /v1/insights/skills`` (when they exist).

Prints requests/s, p50/p99 per endpoint and overall, the error rate and the number of 5xx (which
must be 0). A 503 ``overloaded`` with ``Retry-After`` is the service shedding expensive work past its
per-process limit: it is counted apart (``shed``), not as an error, its latency is left out of the
percentiles, and the client waits ``Retry-After`` before its next request, as a client should.
Exit status 1 if any other 5xx was seen.

Usage::

    python -m bench.load --db postgres --workers 1 --duration 60
    python -m bench.load --db postgres --workers 2 --duration 60 --redis redis://127.0.0.1:6379/0
    python -m bench.load --db sqlite --workers 1 --duration 60

The load generator runs on the same machine (asyncio + httpx, one process): on a 2-core machine it
competes with the server for CPU, so the figures are a floor, not the service's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.server import ADMIN_KEY, Server, create_pg_database, drop_pg_database

SKILLS = [
    "CNC machining",
    "G-code programming",
    "read engineering drawings",
    "quality inspection",
    "PLC programming",
    "industrial robot operation",
    "welding",
    "TIG welding",
    "MIG welding",
    "SolidWorks",
    "AutoCAD",
    "3D printing",
    "electrical wiring",
    "hydraulics",
    "pneumatics",
    "lean manufacturing",
    "Six Sigma",
    "statistical process control",
    "metrology",
    "CMM measurement",
    "sheet metal fabrication",
    "injection molding",
    "mold design",
    "assembly line operation",
    "preventive maintenance",
    "troubleshooting",
    "motor control",
    "sensor calibration",
    "embedded C",
    "Python",
    "Java",
    "SQL",
    "data analysis",
    "Excel",
    "ERP systems",
    "SAP",
    "supply chain management",
    "inventory control",
    "forklift operation",
    "safety procedures",
    "ISO 9001",
    "technical documentation",
    "team leadership",
    "English communication",
    "customer service",
    "project management",
    "battery assembly",
    "EV powertrain",
    "HVAC",
    "semiconductor packaging",
    "cleanroom procedures",
    "SMT soldering",
    "PCB inspection",
    "machine vision",
    "automation testing",
    "Linux administration",
    "network configuration",
    "cloud computing",
    "cybersecurity basics",
    "数控加工",
    "工业机器人",
    "焊接",
    "电气控制",
]


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# -- server ----------------------------------------------------------------------------------------


# -- data ------------------------------------------------------------------------------------------


@dataclass
class Consortium:
    schools: list[dict[str, str]] = field(default_factory=list)
    enterprises: list[dict[str, str]] = field(default_factory=list)
    demands: list[tuple[str, str]] = field(default_factory=list)  # (enterprise key, demand id)
    paths: set[tuple[str, str]] = field(default_factory=set)


def load_consortium(base: str, graduates: int, seed: int = 1) -> Consortium:
    rng = random.Random(seed)
    c = Consortium()
    with httpx.Client(base_url=base, timeout=600) as client:
        spec = client.get("/openapi.json").json()["paths"]
        c.paths = {(m.upper(), p) for p, item in spec.items() for m in item}
        for kind, count, out in (("school", 5, c.schools), ("enterprise", 3, c.enterprises)):
            for i in range(count):
                r = client.post(
                    "/v1/organizations",
                    json={"name": f"{kind} {i}", "kind": kind, "region": "Hefei"},
                    headers=_headers(ADMIN_KEY),
                )
                r.raise_for_status()
                out.append({"id": r.json()["id"], "key": r.json()["api_key"]})
        for i, school in enumerate(c.schools):
            r = client.post(
                "/v1/programs",
                json={
                    "name": f"Programme {i}",
                    "courses": [
                        {"title": s, "learning_outcomes": [f"apply {s}"], "skills": [s]}
                        for s in rng.sample(SKILLS, 8)
                    ],
                },
                headers=_headers(school["key"]),
            )
            r.raise_for_status()
        per_school = graduates // len(c.schools)
        for s, school in enumerate(c.schools):
            for start in range(0, per_school, 1000):
                rows = [
                    {
                        "external_ref": f"S{s}-{n:06d}",
                        "graduation_year": 2026,
                        "skills": [
                            {"name": name, "level": rng.randint(1, 5)} for name in rng.sample(SKILLS, 15)
                        ],
                    }
                    for n in range(start, min(start + 1000, per_school))
                ]
                r = client.post(
                    "/v1/graduates/bulk", json={"graduates": rows}, headers=_headers(school["key"])
                )
                r.raise_for_status()
        for e, ent in enumerate(c.enterprises):
            for d in range(4):
                skills = [
                    {"name": name, "importance": rng.randint(1, 5), "required": rng.random() < 0.2}
                    for name in rng.sample(SKILLS, 15)
                ]
                r = client.post(
                    "/v1/demands",
                    json={"title": f"demand {e}-{d}", "headcount": 5, "region": "Hefei", "skills": skills},
                    headers=_headers(ent["key"]),
                )
                r.raise_for_status()
                c.demands.append((ent["key"], r.json()["id"]))
            if ("POST", "/v1/training-orders") in c.paths:
                client.post(
                    "/v1/training-orders",
                    json={"school_id": c.schools[e]["id"], "headcount": 3},
                    headers=_headers(ent["key"]),
                ).raise_for_status()
        if ("POST", "/v1/demands/{demand_id}/matches") in c.paths:
            for key, demand_id in c.demands:  # one stored result each, and a warm cache
                client.post(
                    f"/v1/demands/{demand_id}/matches", json={"top_k": 10}, headers=_headers(key)
                ).raise_for_status()
    return c


# -- load ------------------------------------------------------------------------------------------


Request = tuple[str, str, str, dict[str, Any] | None, dict[str, str]]  # label, method, url, json, headers


def request_mix(c: Consortium) -> list[tuple[float, Any]]:
    """(weight, factory) pairs; each factory returns one request."""
    mix: list[tuple[float, Any]] = []
    if ("POST", "/v1/demands/{demand_id}/matches") in c.paths:

        def rank(rng: random.Random) -> Request:
            key, demand_id = rng.choice(c.demands)
            return ("POST matches", "POST", f"/v1/demands/{demand_id}/matches", {"top_k": 10}, _headers(key))

        mix.append((3.0, rank))
    if ("GET", "/v1/demands/{demand_id}/matches") in c.paths:

        def last(rng: random.Random) -> Request:
            key, demand_id = rng.choice(c.demands)
            return ("GET matches", "GET", f"/v1/demands/{demand_id}/matches", None, _headers(key))

        mix.append((1.0, last))

    def graduates(rng: random.Random) -> Request:
        school = rng.choice(c.schools)
        return ("GET graduates", "GET", "/v1/graduates?limit=100", None, _headers(school["key"]))

    def demands(rng: random.Random) -> Request:
        ent = rng.choice(c.enterprises)
        return ("GET demands", "GET", "/v1/demands?limit=20", None, _headers(ent["key"]))

    def programs(rng: random.Random) -> Request:
        school = rng.choice(c.schools)
        return ("GET programs", "GET", "/v1/programs?limit=20", None, _headers(school["key"]))

    mix += [(2.0, graduates), (1.0, demands), (1.0, programs)]
    if ("GET", "/v1/training-orders") in c.paths:

        def orders(rng: random.Random) -> Request:
            ent = rng.choice(c.enterprises)
            return ("GET orders", "GET", "/v1/training-orders", None, _headers(ent["key"]))

        mix.append((0.5, orders))
    return mix


async def drive(base: str, mix: list[tuple[float, Any]], duration: float, concurrency: int) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    failures: dict[str, int] = defaultdict(int)
    shed: dict[str, int] = defaultdict(int)
    weights = [w for w, _ in mix]
    factories = [f for _, f in mix]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    end = time.monotonic() + duration

    async def client_loop(n: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(n)
        while time.monotonic() < end:
            label, method, url, body, headers = rng.choices(factories, weights)[0](rng)
            started = time.perf_counter()
            try:
                r = await client.request(method, url, json=body, headers=headers)
            except httpx.HTTPError:
                failures[label] += 1
                continue
            if _is_shed(r):
                shed[label] += 1
                wait = float(r.headers["Retry-After"])
                await asyncio.sleep(max(0.0, min(wait, end - time.monotonic())))
                continue
            statuses[label][r.status_code] += 1
            latencies[label].append(time.perf_counter() - started)

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(n, client) for n in range(concurrency)))
    elapsed = time.monotonic() - started
    return {
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "failures": failures,
        "shed": shed,
    }


def _is_shed(r: httpx.Response) -> bool:
    """A 503 ``overloaded`` with ``Retry-After``: work refused at once past the concurrency limit."""
    if r.status_code != 503 or "Retry-After" not in r.headers:
        return False
    try:
        return str(r.json().get("type", "")).endswith("/overloaded")
    except ValueError:
        return False


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"endpoints": {}}
    every: list[float] = []
    total = errors = server_errors = shed_total = 0
    shed_by = raw.get("shed", {})
    for label in sorted(set(raw["statuses"]) | set(raw["failures"]) | set(shed_by)):
        lat = raw["latencies"].get(label, [])
        st = raw["statuses"].get(label, {})
        shed = shed_by.get(label, 0)
        n = sum(st.values()) + raw["failures"].get(label, 0)
        err = sum(v for k, v in st.items() if k >= 400) + raw["failures"].get(label, 0)
        five = sum(v for k, v in st.items() if k >= 500)
        out["endpoints"][label] = {
            "requests": n,
            "rps": round(n / raw["elapsed"], 1),
            "p50_ms": round(_pct(lat, 0.5), 1),
            "p99_ms": round(_pct(lat, 0.99), 1),
            "errors": err,
            "5xx": five,
            "shed": shed,
            "statuses": dict(sorted(st.items())),
        }
        every += lat
        shed_total += shed
        total += n
        errors += err
        server_errors += five
    out.update(
        requests=total,
        seconds=round(raw["elapsed"], 1),
        rps=round(total / raw["elapsed"], 1),
        p50_ms=round(_pct(every, 0.5), 1),
        p99_ms=round(_pct(every, 0.99), 1),
        mean_ms=round(statistics.fmean(every) * 1000, 1) if every else None,
        error_rate=round(errors / total, 5) if total else None,
        server_errors=server_errors,
        shed=shed_total,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--graduates", type=int, default=10_000)
    parser.add_argument("--encoder", choices=["fake", "real"], default="real")
    parser.add_argument("--redis", default=None, help="share the rate limit through Redis (several workers)")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "TALENTMATCH_CRASH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="talentmatch-load-"))
    pg_name = None
    if args.db == "sqlite":
        url = f"sqlite:///{workdir / 'load.db'}"
    else:
        pg_name, url = create_pg_database(args.pg_admin_url)
    from service.migrate import upgrade

    metrics_dir = workdir / "prometheus"
    metrics_dir.mkdir(exist_ok=True)
    extra_env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    if args.redis:
        extra_env["TALENTMATCH_REDIS_URL"] = args.redis
    server = Server(url, workdir, args.encoder, workers=args.workers, extra_env=extra_env, stop_timeout=30)
    try:
        upgrade(url)
        server.start(timeout=300)
        t0 = time.monotonic()
        consortium = load_consortium(server.base, args.graduates)
        load_s = time.monotonic() - t0
        mix = request_mix(consortium)
        raw = asyncio.run(drive(server.base, mix, args.duration, args.concurrency))
        result = summarise(raw)
        result.update(
            db=args.db,
            workers=args.workers,
            concurrency=args.concurrency,
            graduates=args.graduates,
            encoder=args.encoder,
            load_seconds=round(load_s, 1),
        )
    finally:
        server.stop()
        if pg_name:
            drop_pg_database(args.pg_admin_url, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.db}, {args.workers} worker(s), {args.concurrency} clients, {args.graduates} graduates "
            f"({args.encoder} encoder; loaded in {result['load_seconds']} s): {result['requests']} requests "
            f"in {result['seconds']} s = {result['rps']} req/s; p50 {result['p50_ms']} ms, "
            f"p99 {result['p99_ms']} ms; error rate {result['error_rate']}; 5xx {result['server_errors']}; "
            f"shed (503 overloaded, then Retry-After waited) {result['shed']}"
        )
        for label, e in result["endpoints"].items():
            print(
                f"  {label:15s} {e['rps']:8.1f} req/s  p50 {e['p50_ms']:7.1f} ms  p99 {e['p99_ms']:7.1f} ms"
                f"  errors {e['errors']}  shed {e['shed']}  {e['statuses']}"
            )
    return 1 if result["server_errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
