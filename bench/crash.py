"""Crash safety: SIGKILL the server at random moments during writes, restart it, check what survived.

Each round starts the server (uvicorn, one process), drives writes at it from several threads and
kills it with SIGKILL after a random delay. Then it starts it again and checks:

1. every request that was answered 2xx is stored (bulk imports with the ids they returned, demands
   created and patched, training orders created and moved through their lifecycle);
2. no bulk batch is half-stored: every batch's rows are all there (with that batch's content) or
   none are, whether or not it was answered;
3. SQLite: ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` is empty;
4. re-sending the interrupted requests (same body, same ``Idempotency-Key``) completes them and
   creates no duplicates (one row per ``external_ref``, one order per key).

Usage::

    python -m bench.crash --db sqlite --rounds 20
    python -m bench.crash --db postgres --rounds 20 [--pg-admin-url postgresql://postgres@127.0.0.1/postgres]
    python -m bench.crash --db postgres --rounds 5 --kill postgres   # stop PostgreSQL itself (-m immediate)

``--kill postgres`` runs ``pg_ctlcluster <version> main stop -m immediate`` and starts it again: it
interrupts every client of that server, so use it only where nobody else is using it.
Exit status 0 when every check of every round passed. The encoder is the fake one unless
``--encoder real`` (the checks are about storage, not about embeddings).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.server import ADMIN_KEY, Server, create_pg_database, drop_pg_database

BATCH = 100


# -- what the clients were told ------------------------------------------------------------------


@dataclass
class Batch:
    key: str
    rows: list[dict[str, Any]]
    tag: str
    acked_ids: dict[str, str] | None = None  # external_ref -> id, when answered 200

    @property
    def refs(self) -> list[str]:
        return [r["external_ref"] for r in self.rows]


@dataclass
class DemandState:
    id: str
    acked_version: int
    acked_headcount: int


@dataclass
class OrderState:
    key: str
    body: dict[str, Any]
    id: str | None = None
    acked_version: int = 0
    acked_status: str | None = None


@dataclass
class Ledger:
    batches: list[Batch] = field(default_factory=list)
    demands: list[DemandState] = field(default_factory=list)
    orders: list[OrderState] = field(default_factory=list)
    acked: int = 0
    unanswered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, acked: bool) -> None:
        with self.lock:
            if acked:
                self.acked += 1
            else:
                self.unanswered += 1


class Stop(Exception):
    pass


@dataclass
class Tenants:
    school: dict[str, str]
    enterprise: dict[str, str]


def _headers(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def setup_tenants(base: str) -> Tenants:
    with httpx.Client(base_url=base, timeout=30) as c:
        out = {}
        for kind in ("school", "enterprise"):
            r = c.post(
                "/v1/organizations",
                json={"name": f"crash {kind}", "kind": kind},
                headers=_headers(ADMIN_KEY),
            )
            r.raise_for_status()
            out[kind] = {"id": r.json()["id"], "key": r.json()["api_key"]}
    return Tenants(school=out["school"], enterprise=out["enterprise"])


# -- workload --------------------------------------------------------------------------------------


def _send(client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response | None:
    """None when the server did not answer (killed mid-request)."""
    try:
        return client.request(method, url, **kw)
    except httpx.HTTPError:
        return None


def bulk_worker(base: str, t: Tenants, ledger: Ledger, round_no: int, stop: threading.Event) -> None:
    rng = random.Random(round_no * 7919)
    with httpx.Client(base_url=base, timeout=30) as c:
        n = 0
        while not stop.is_set():
            n += 1
            tag = f"r{round_no}b{n}"
            earlier = [b for b in ledger.batches if b.acked_ids]
            if earlier and rng.random() < 0.3:  # re-import an acknowledged batch with new content
                refs = rng.choice(earlier).refs
            else:
                refs = [f"{tag}-{i:03d}" for i in range(BATCH)]
            rows = [
                {
                    "external_ref": ref,
                    "graduation_year": 2026,
                    "skills": [{"name": f"skill {i % 40}", "level": 3}, {"name": "CNC machining"}],
                    "certificates": [tag],
                }
                for i, ref in enumerate(refs)
            ]
            batch = Batch(key=f"bulk-{tag}-{uuid.uuid4().hex[:8]}", rows=rows, tag=tag)
            with ledger.lock:
                ledger.batches.append(batch)
            r = _send(
                c,
                "POST",
                "/v1/graduates/bulk",
                json={"graduates": rows},
                headers=_headers(t.school["key"], **{"Idempotency-Key": batch.key}),
            )
            if r is None:
                ledger.count(False)
                return
            if r.status_code != 200:
                raise AssertionError(f"bulk answered {r.status_code}: {r.text[:300]}")
            batch.acked_ids = {item["external_ref"]: item["id"] for item in r.json()["items"]}
            ledger.count(True)


def demand_worker(base: str, t: Tenants, ledger: Ledger, round_no: int, stop: threading.Event) -> None:
    rng = random.Random(round_no * 104729)
    body = {
        "title": "CNC machinist",
        "headcount": 3,
        "skills": [{"name": "CNC machining", "importance": 5}, {"name": "G-code"}],
    }
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            mine = [d for d in ledger.demands]
            if mine and rng.random() < 0.6:
                d = rng.choice(mine)
                headcount = rng.randint(1, 500)
                r = _send(
                    c,
                    "PATCH",
                    f"/v1/demands/{d.id}",
                    json={"headcount": headcount},
                    headers=_headers(t.enterprise["key"], **{"If-Match": f'"{d.acked_version}"'}),
                )
                if r is None:
                    ledger.count(False)
                    return
                if r.status_code != 200:
                    raise AssertionError(f"patch answered {r.status_code}: {r.text[:300]}")
                d.acked_version, d.acked_headcount = r.json()["version"], headcount
            else:
                r = _send(c, "POST", "/v1/demands", json=body, headers=_headers(t.enterprise["key"]))
                if r is None:
                    ledger.count(False)
                    return
                if r.status_code != 201:
                    raise AssertionError(f"demand answered {r.status_code}: {r.text[:300]}")
                with ledger.lock:
                    ledger.demands.append(DemandState(r.json()["id"], r.json()["version"], 3))
            ledger.count(True)


def _record(o: OrderState, body: dict[str, Any]) -> None:
    o.id, o.acked_version, o.acked_status = body["id"], body["version"], body["status"]


_NEXT = {"proposed": ("accept", "school"), "accepted": ("start", "school"), "in_training": None}


def order_worker(base: str, t: Tenants, ledger: Ledger, round_no: int, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        n = 0
        while not stop.is_set():
            moving = [o for o in ledger.orders if o.id and o.acked_status and _NEXT.get(o.acked_status)]
            if moving:
                o = moving[0]
                step = _NEXT[o.acked_status or ""]
                assert step is not None
                r = _send(
                    c,
                    "POST",
                    f"/v1/training-orders/{o.id}/transitions",
                    json={"action": step[0], "reason": f"round {round_no}"},
                    headers=_headers(t.school["key"], **{"If-Match": f'"{o.acked_version}"'}),
                )
                if r is None:
                    ledger.count(False)
                    return
                if r.status_code != 200:
                    raise AssertionError(f"transition answered {r.status_code}: {r.text[:300]}")
                o.acked_version, o.acked_status = r.json()["version"], r.json()["status"]
            else:
                n += 1
                o = OrderState(
                    key=f"order-r{round_no}-{n}-{uuid.uuid4().hex[:8]}",
                    body={"school_id": t.school["id"], "headcount": 2, "notes": f"round {round_no}"},
                )
                with ledger.lock:
                    ledger.orders.append(o)
                r = _send(
                    c,
                    "POST",
                    "/v1/training-orders",
                    json=o.body,
                    headers=_headers(t.enterprise["key"], **{"Idempotency-Key": o.key}),
                )
                if r is None:
                    ledger.count(False)
                    return
                if r.status_code != 201:
                    raise AssertionError(f"order answered {r.status_code}: {r.text[:300]}")
                o.id, o.acked_version, o.acked_status = (
                    r.json()["id"],
                    r.json()["version"],
                    r.json()["status"],
                )
            ledger.count(True)


# -- checks ----------------------------------------------------------------------------------------


@contextmanager
def _db(url: str) -> Iterator[Any]:
    from service.db import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def check_round(
    server: Server, t: Tenants, ledger: Ledger, errors: list[str], *, resend: bool = True
) -> dict[str, int]:
    base = server.base
    # re-sent requests, and how many of them had been stored before the kill (answered by replay)
    stats = {"resent_batches": 0, "resent_orders": 0, "replayed": 0}
    with httpx.Client(base_url=base, timeout=60) as c:
        school, ent = _headers(t.school["key"]), _headers(t.enterprise["key"])
        # 1. acknowledged writes are stored
        for d in ledger.demands:
            r = c.get(f"/v1/demands/{d.id}", headers=ent)
            if r.status_code != 200:
                errors.append(f"acknowledged demand {d.id} missing ({r.status_code})")
            elif r.json()["version"] < d.acked_version or (
                r.json()["version"] == d.acked_version and r.json()["headcount"] != d.acked_headcount
            ):
                errors.append(f"acknowledged patch of demand {d.id} lost")
            else:
                d.acked_version, d.acked_headcount = r.json()["version"], r.json()["headcount"]
        for o in ledger.orders:
            if o.id is None:
                continue
            r = c.get(f"/v1/training-orders/{o.id}", headers=ent)
            if r.status_code != 200:
                errors.append(f"acknowledged order {o.id} missing ({r.status_code})")
                continue
            body = r.json()
            if body["version"] < o.acked_version:
                errors.append(f"acknowledged transition of order {o.id} lost")
            if len(body["history"]) != body["version"]:
                errors.append(
                    f"order {o.id}: {len(body['history'])} history entries for version {body['version']}"
                )
            o.acked_version, o.acked_status = body["version"], body["status"]
        with _db(server.database_url) as conn:
            rows = conn.execute(
                text("SELECT external_ref, id, certificates FROM graduate WHERE organization_id = :o"),
                {"o": t.school["id"]},
            ).all()
        stored = {
            ref: (gid, json.loads(certs) if isinstance(certs, str) else certs) for ref, gid, certs in rows
        }
        for b in ledger.batches:
            present = [ref for ref in b.refs if ref in stored and stored[ref][1] == [b.tag]]
            if b.acked_ids is not None:
                # 1. an answered batch is stored (a later batch may have re-imported these refs)
                lost = [ref for ref in b.refs if ref not in stored or stored[ref][0] != b.acked_ids[ref]]
                if lost:
                    errors.append(f"acknowledged batch {b.tag}: {len(lost)} of {len(b.refs)} rows lost")
            elif present and len(present) != len(b.refs):
                # 2. all or nothing
                errors.append(f"batch {b.tag} half-stored: {len(present)} of {len(b.refs)} rows")
        # 3. integrity
        if server.database_url.startswith("sqlite"):
            path = server.database_url.removeprefix("sqlite:///")
            con = sqlite3.connect(path)
            try:
                result = con.execute("PRAGMA integrity_check").fetchall()
                if result != [("ok",)]:
                    errors.append(f"integrity_check: {result[:5]}")
                fk = con.execute("PRAGMA foreign_key_check").fetchall()
                if fk:
                    errors.append(f"foreign_key_check: {fk[:5]}")
            finally:
                con.close()
        if not resend:
            return stats
        # 4. re-send what was interrupted: completes, and duplicates nothing
        for b in ledger.batches:
            if b.acked_ids is None:
                r = c.post(
                    "/v1/graduates/bulk",
                    json={"graduates": b.rows},
                    headers={**school, "Idempotency-Key": b.key},
                )
                if r.status_code != 200:
                    errors.append(f"re-sent batch {b.tag} answered {r.status_code}: {r.text[:200]}")
                    continue
                b.acked_ids = {i["external_ref"]: i["id"] for i in r.json()["items"]}
                stats["resent_batches"] += 1
                stats["replayed"] += r.headers.get("Idempotent-Replayed") == "true"
        for o in ledger.orders:
            r = c.post("/v1/training-orders", json=o.body, headers={**ent, "Idempotency-Key": o.key})
            if r.status_code != 201:
                errors.append(f"re-sent order {o.key} answered {r.status_code}: {r.text[:200]}")
                continue
            if o.id is None:
                stats["resent_orders"] += 1
                o.id, o.acked_version, o.acked_status = (
                    r.json()["id"],
                    r.json()["version"],
                    r.json()["status"],
                )
            elif r.json()["id"] != o.id:
                errors.append(f"re-sent order {o.key} created a second order")
        with _db(server.database_url) as conn:
            dupes = conn.execute(
                text(
                    "SELECT external_ref, count(*) FROM graduate WHERE organization_id = :o "
                    "GROUP BY external_ref HAVING count(*) > 1"
                ),
                {"o": t.school["id"]},
            ).all()
            orders = conn.execute(
                text("SELECT count(*) FROM training_order WHERE enterprise_id = :o"),
                {"o": t.enterprise["id"]},
            ).scalar_one()
            refs = conn.execute(
                text("SELECT external_ref FROM graduate WHERE organization_id = :o"), {"o": t.school["id"]}
            ).scalars()
            stored_refs = set(refs)
        if dupes:
            errors.append(f"duplicate graduates: {dupes[:5]}")
        if orders != len(ledger.orders):
            errors.append(f"{orders} orders stored for {len(ledger.orders)} distinct keys")
        wanted = {ref for b in ledger.batches for ref in b.refs}
        if wanted - stored_refs:
            errors.append(f"{len(wanted - stored_refs)} imported refs missing after the re-run")
    return stats


# -- rounds ----------------------------------------------------------------------------------------


def _pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        args += ["-m", "immediate"]
    subprocess.run(args, check=True, capture_output=True)


def run(
    database_url: str,
    rounds: int,
    *,
    workdir: Path,
    seed: int = 1,
    kill: str = "server",
    encoder: str = "fake",
    min_delay: float = 0.3,
    max_delay: float = 2.5,
    log: Any = print,
) -> dict[str, Any]:
    from service.migrate import upgrade

    upgrade(database_url)
    rng = random.Random(seed)
    server = Server(database_url, workdir, encoder)
    server.start()
    t = setup_tenants(server.base)
    ledger = Ledger()
    summary: dict[str, Any] = {"rounds": 0, "failed_rounds": 0, "acked": 0, "unanswered": 0, "errors": []}
    started = time.monotonic()
    try:
        for round_no in range(1, rounds + 1):
            stop = threading.Event()
            before = (ledger.acked, ledger.unanswered)
            failures: list[BaseException] = []

            def runner(
                fn: Any, rn: int = round_no, st: threading.Event = stop, out: list[BaseException] = failures
            ) -> None:
                try:
                    fn(server.base, t, ledger, rn, st)
                except BaseException as failure:  # reported with the round's checks
                    out.append(failure)

            workers = [
                threading.Thread(target=runner, args=(fn,), daemon=True)
                for fn in (bulk_worker, bulk_worker, demand_worker, order_worker)
            ]
            for w in workers:
                w.start()
            delay = rng.uniform(min_delay, max_delay)
            time.sleep(delay)
            if kill == "postgres":
                _pg_ctl("stop")
            else:
                server.kill()
            stop.set()
            for w in workers:
                w.join(timeout=60)
            if kill == "postgres":
                _pg_ctl("start")
                time.sleep(1)
            else:
                server.start()
            errors = [f"worker: {problem!r}" for problem in failures]
            stats = check_round(server, t, ledger, errors)
            acked, unanswered = ledger.acked - before[0], ledger.unanswered - before[1]
            summary["rounds"] += 1
            summary["acked"] += acked
            summary["unanswered"] += unanswered
            summary["replayed"] = summary.get("replayed", 0) + stats["replayed"]
            status = "ok" if not errors else "FAILED"
            log(
                f"round {round_no:3d}: killed {kill} after {delay:.2f} s; {acked} acknowledged, "
                f"{unanswered} interrupted; re-sent {stats['resent_batches']} batch(es) and "
                f"{stats['resent_orders']} order(s), {stats['replayed']} of them stored before the kill "
                f"(replayed); {status}"
            )
            if errors:
                summary["failed_rounds"] += 1
                summary["errors"].extend(f"round {round_no}: {e}" for e in errors)
                for e in errors[:10]:
                    log(f"    {e}")
        # a final pass after a clean stop: nothing left to re-send, everything still checks out
        server.stop()
        server.start()
        final: list[str] = []
        check_round(server, t, ledger, final, resend=False)
        summary["errors"].extend(f"final: {e}" for e in final)
        if final:
            summary["failed_rounds"] += 1
    finally:
        server.stop()
    summary["graduates"] = len({ref for b in ledger.batches for ref in b.refs})
    summary["demands"] = len(ledger.demands)
    summary["orders"] = len(ledger.orders)
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill", choices=["server", "postgres"], default="server")
    parser.add_argument("--encoder", choices=["fake", "real"], default="fake")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "TALENTMATCH_CRASH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL database to create (and afterwards drop) the test database from",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the server log")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.kill == "postgres" and args.db != "postgres":
        parser.error("--kill postgres needs --db postgres")
    workdir = Path(tempfile.mkdtemp(prefix="talentmatch-crash-"))
    pg_name = None
    if args.db == "sqlite":
        url = f"sqlite:///{workdir / 'crash.db'}"
    else:
        pg_name, url = create_pg_database(args.pg_admin_url)
    try:
        summary = run(url, args.rounds, workdir=workdir, seed=args.seed, kill=args.kill, encoder=args.encoder)
    finally:
        if pg_name and not args.keep:
            drop_pg_database(args.pg_admin_url, pg_name)
    summary["database"] = args.db
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{args.db}: {summary['rounds']} rounds, {summary['failed_rounds']} failed; "
            f"{summary['acked']} acknowledged and {summary['unanswered']} interrupted requests "
            f"({summary.get('replayed', 0)} of those stored before the kill, replayed on re-send); "
            f"{summary['graduates']} graduates, {summary['demands']} demands, {summary['orders']} orders; "
            f"{summary['seconds']} s"
        )
        for e in summary["errors"][:20]:
            print("  ", e)
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept: {workdir}")
    return 0 if summary["failed_rounds"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
