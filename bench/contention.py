"""Writers that meet on the same rows and locks, through HTTP: ``python -m bench.contention``.

Starts the server (one uvicorn worker, the real encoders by default) on a fresh SQLite file or
PostgreSQL database and runs two scenarios from threads of plain HTTP clients:

1. **Erasure under matching load.** A school has ``--graduates`` profiles; three clients keep asking
   for a stored match of a demand (``POST /v1/demands/{id}/matches``) and for stateless matches with
   phrases never seen before (``POST /v1/match``, whose new phrase vectors the service caches in
   short writes of their own), while a fourth erases the graduates one by one
   (``DELETE /v1/graduates/{id}``). Prints the statuses, the DELETE latency (median, max) and, on
   SQLite, the size of the write-ahead log once the run has settled (erasure truncates it).
2. **One object, many writers.** Four clients match one demand and read the stored run while two
   others add graduates and change the demand's headcount with ``If-Match: *`` (no version check
   asked for). Prints the statuses.

Exit status 1 on any 5xx, a DELETE that is not 204, or a change with ``If-Match: *`` refused (412).

Usage::

    python -m bench.contention --db sqlite
    python -m bench.contention --db postgres
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.server import ADMIN_KEY, Server, create_pg_database, drop_pg_database

WORDS = ["焊接", "数控加工", "PLC编程", "welding", "CNC machining", "industrial robot programming", "AutoCAD"]


class Client:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=120)
        self.admin = {"Authorization": f"Bearer {ADMIN_KEY}"}

    def org(self, kind: str, name: str) -> dict[str, str]:
        r = self.http.post("/v1/organizations", json={"name": name, "kind": kind}, headers=self.admin)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['api_key']}"}

    def demand(self, enterprise: dict[str, str], skills: list[str]) -> str:
        body = {"title": "bench demand", "headcount": 2, "skills": [{"name": s} for s in skills]}
        r = self.http.post("/v1/demands", json=body, headers=enterprise)
        r.raise_for_status()
        return str(r.json()["id"])


def _run_threads(targets: list[Any]) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def erasure_under_load(base: str, graduates: int) -> dict[str, Any]:
    c = Client(base)
    school = c.org("school", "Erasure Vocational College")
    enterprise = c.org("enterprise", "Matching Load Co")
    ids = []
    for i in range(graduates):
        skills = [{"name": f"{WORDS[(i + j) % len(WORDS)]} {i}-{j}", "level": 3} for j in range(5)]
        r = c.http.post("/v1/graduates", json={"external_ref": f"E{i}", "skills": skills}, headers=school)
        r.raise_for_status()
        ids.append(r.json()["id"])
    demand = c.demand(enterprise, ["焊接", "PLC编程"])
    done = threading.Event()
    others: list[int] = []
    deletes: list[tuple[int, float]] = []

    def load(n: int) -> None:
        http = httpx.Client(base_url=base, timeout=120)
        k = 0
        while not done.is_set():
            k += 1
            if k % 2:
                r = http.post(f"/v1/demands/{demand}/matches", json={"top_k": 5}, headers=enterprise)
            else:
                body = {
                    "demand": {"skills": [{"name": f"新技能 {n}-{k} 焊接"}]},
                    "candidates": [{"id": "x", "skills": [{"name": f"candidate {n}-{k} welding"}]}],
                }
                r = http.post("/v1/match", json=body, headers=enterprise)
            others.append(r.status_code)

    def erase() -> None:
        for gid in ids:
            t0 = time.perf_counter()
            r = c.http.delete(f"/v1/graduates/{gid}", headers=school)
            deletes.append((r.status_code, time.perf_counter() - t0))
        done.set()

    _run_threads([lambda n=n: load(n) for n in range(3)] + [erase])
    seconds = [s for _, s in deletes]
    return {
        "delete_statuses": Counter(code for code, _ in deletes),
        "delete_median_s": statistics.median(seconds),
        "delete_max_s": max(seconds),
        "other_statuses": Counter(others),
    }


def one_object(base: str, rounds: int) -> dict[str, Any]:
    c = Client(base)
    school = c.org("school", "Same Object School")
    enterprise = c.org("enterprise", "Same Object Co")
    demand = c.demand(enterprise, ["电气控制", "PLC编程"])
    done = threading.Event()
    seen: list[tuple[str, int]] = []

    def matcher() -> None:
        http = httpx.Client(base_url=base, timeout=120)
        while not done.is_set():
            r = http.post(f"/v1/demands/{demand}/matches", json={"top_k": 5}, headers=enterprise)
            seen.append(("POST matches", r.status_code))
            r = http.get(f"/v1/demands/{demand}/matches", headers=enterprise)
            seen.append(("GET matches", r.status_code))

    def writer(n: int) -> None:
        http = httpx.Client(base_url=base, timeout=120)
        for i in range(rounds):
            skills = [{"name": f"{WORDS[i % len(WORDS)]} {n}-{i}", "level": 2}]
            r = http.post(
                "/v1/graduates", json={"external_ref": f"W{n}-{i}", "skills": skills}, headers=school
            )
            seen.append(("POST graduates", r.status_code))
            r = http.patch(
                f"/v1/demands/{demand}",
                json={"headcount": 1 + (i + n) % 5},
                headers={**enterprise, "If-Match": "*"},
            )
            seen.append(("PATCH If-Match: *", r.status_code))

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    matchers = [threading.Thread(target=matcher) for _ in range(4)]
    for t in writers + matchers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in matchers:
        t.join()
    return {"statuses": Counter(seen)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contention", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--graduates", type=int, default=40, help="graduates erased in scenario 1")
    parser.add_argument("--rounds", type=int, default=25, help="changes per writer in scenario 2")
    parser.add_argument("--encoder", choices=["fake", "real"], default="real")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "TALENTMATCH_CRASH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="talentmatch-contention-"))
    pg_name = None
    if args.db == "sqlite":
        db_file = workdir / "contention.db"
        url = f"sqlite:///{db_file}"
    else:
        pg_name, url = create_pg_database(args.pg_admin_url, prefix="talentmatch_contention")
    from service.migrate import upgrade

    server = Server(url, workdir, args.encoder)
    try:
        upgrade(url)
        server.start(timeout=300)
        first = erasure_under_load(server.base, args.graduates)
        time.sleep(2)  # a deferred WAL truncation finishes once the readers are gone
        wal = Path(f"{db_file}-wal") if args.db == "sqlite" else None
        wal_bytes = wal.stat().st_size if wal is not None and wal.exists() else None
        second = one_object(server.base, args.rounds)
    finally:
        server.stop()
        if pg_name:
            drop_pg_database(args.pg_admin_url, pg_name)
        log_tail = server.log.read_text(errors="replace")[-4000:] if server.log.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{args.db}, {args.encoder} encoder, one worker")
    print(
        f"1. erasure under matching load: DELETE {dict(first['delete_statuses'])}, median "
        f"{first['delete_median_s']:.3f} s, max {first['delete_max_s']:.2f} s; other requests "
        f"{dict(first['other_statuses'])}"
        + (f"; WAL {wal_bytes} bytes afterwards" if args.db == "sqlite" else "")
    )
    print(f"2. one object, many writers: {dict(second['statuses'])}")
    statuses = list(first["other_statuses"]) + [code for _, code in second["statuses"]]
    failed = (
        any(code >= 500 for code in statuses)
        or set(first["delete_statuses"]) != {204}
        or second["statuses"][("PATCH If-Match: *", 412)] > 0
    )
    if failed:
        print("FAILED: a 5xx, a DELETE that was not 204, or a change with If-Match: * refused")
        print("the server's log ends with:\n" + log_tail)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
