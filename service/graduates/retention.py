"""Retention: erase graduate profiles nobody has changed for ``retention_years`` years.

A profile counts as expired when its last change (``updated_at``: creation, edit, or re-import) is
more than N years ago. Erasure is the same as ``DELETE /v1/graduates/{id}``: profile, match results,
deliveries, stored idempotent answers and embeddings of phrases no one else uses.

Ways to run it:

- at start-up and then daily, in each API process, when ``TALENTMATCH_RETENTION_YEARS`` is set (on
  PostgreSQL a transaction-level advisory lock lets one process do a pass at a time; on SQLite writers
  are serialised anyway);
- by hand or from cron: ``python -m service.graduates.retention [--years N] [--dry-run]``.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.db import erase_from_wal, make_engine, make_sessionmakers
from service.graduates import repository as repo
from service.graduates import service as graduates_service
from service.ops import metrics
from service.orm import utcnow
from service.settings import Settings

log = logging.getLogger(__name__)

BATCH = 200
INTERVAL_SECONDS = 24 * 3600


def cutoff_for(years: int, now: datetime | None = None) -> datetime:
    now = now or utcnow()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def erase_expired(engine: Engine, years: int, *, now: datetime | None = None) -> int:
    """Erase every profile not changed for ``years`` years, in batches; returns how many."""
    cutoff = cutoff_for(years, now)
    _, writers = make_sessionmakers(engine)
    erased = 0
    while True:
        with writers() as session, session.begin():
            if not repo.try_retention_lock(session):
                log.info("retention: another process is running a pass")
                return erased
            ids = repo.expired_ids(session, cutoff, BATCH)
            for graduate_id in ids:
                graduate = repo.get(session, graduate_id)
                if graduate is not None:
                    graduates_service.delete(session, graduate)
        if session.info.pop("erasure", False):
            erase_from_wal(engine)
        erased += len(ids)
        metrics.retention_erased.inc(len(ids))
        if len(ids) < BATCH:
            break
    if erased:
        log.info("retention: erased %d graduate profile(s) older than %d year(s)", erased, years)
    return erased


class RetentionJob:
    """Runs :func:`erase_expired` once at start-up and then every ``interval`` seconds in a thread."""

    def __init__(
        self,
        engine: Engine,
        years: int,
        interval: float = INTERVAL_SECONDS,
        after_erasure: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.years = years
        self.interval = interval
        self.after_erasure = after_erasure  # e.g. drop the erased phrases from the process's memory
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        try:
            erased = erase_expired(self.engine, self.years)
            if erased and self.after_erasure is not None:
                self.after_erasure()
            return erased
        except Exception:
            log.exception("retention pass failed; it will be retried")
            return 0

    def start(self) -> None:
        self.run_once()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.graduates.retention",
        description="Erase graduate profiles not changed for N years (TALENTMATCH_RETENTION_YEARS).",
    )
    parser.add_argument("--years", type=int, default=None, help="overrides TALENTMATCH_RETENTION_YEARS")
    parser.add_argument("--dry-run", action="store_true", help="only count the expired profiles")
    args = parser.parse_args(argv)
    settings = Settings()
    years = args.years if args.years is not None else settings.retention_years
    if years is None or years < 1:
        parser.error("set --years N (N ≥ 1) or TALENTMATCH_RETENTION_YEARS")
    engine = make_engine(settings.database_url, hide_parameters=True)
    try:
        if args.dry_run:
            with Session(engine) as session:
                n = repo.count_expired(session, cutoff_for(years))
            print(f"{n} graduate profile(s) not changed for {years} year(s) would be erased")
        else:
            n = erase_expired(engine, years)
            print(f"erased {n} graduate profile(s) not changed for {years} year(s)")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
