"""Engine, sessions and the one dependency that owns each request's transaction.

SQLite runs in WAL mode with foreign keys on; write requests open their transaction with
``BEGIN IMMEDIATE`` so two concurrent writers queue on the database lock (``busy_timeout``)
instead of deadlocking on a read-to-write upgrade. PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long an erasure's request waits for readers before the WAL is truncated in the background
# (tries of WAL_TRUNCATE_RETRY_PATIENCE_S each).
WAL_TRUNCATE_PATIENCE_S = 1.0
WAL_TRUNCATE_RETRY_PATIENCE_S = 60.0
WAL_TRUNCATE_TRIES = 60
# How long a write that is only an optimisation (:func:`brief_write`) waits for a lock.
BRIEF_WRITE_WAIT_S = 0.25

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def pool_options(url: str, size: int | None, overflow: int | None, timeout: float) -> dict[str, Any]:
    """Engine keyword arguments for the request pool (none for an in-memory SQLite database)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return {}
    options: dict[str, Any] = {"pool_timeout": timeout}
    if size is not None:
        options["pool_size"] = size
    if overflow is not None:
        options["max_overflow"] = overflow
    return options


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        # Erased rows are overwritten, not left in free pages (personal data erasure).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_sessionmakers(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(readers, writers): writers take SQLite's write lock when their transaction begins."""
    read = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
    write_engine = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    write = sessionmaker(bind=write_engine, expire_on_commit=False, autoflush=True, info={"writer": True})
    return read, write


@contextmanager
def brief_write(engine: Engine, wait_s: float = BRIEF_WRITE_WAIT_S) -> Iterator[Session]:
    """A write transaction of its own that waits at most ``wait_s`` for a lock, then raises
    (``OperationalError``): for writes that only save work later (the phrase-vector cache).

    They are made by threads that may hold something a writer is waiting for: the graduate index's
    sync holds its lock while it stores new phrase vectors, and a stored-match request, which holds
    SQLite's write lock, waits for that lock. Waiting the full ``busy_timeout`` there stalls both for
    30 s; giving up costs only a later re-embedding. On SQLite the connection's busy timeout is
    lowered for this transaction; on PostgreSQL, ``lock_timeout``.
    """
    if not is_sqlite(engine):
        with Session(bind=engine) as session, session.begin():
            session.execute(text(f"SET LOCAL lock_timeout = {max(1, int(wait_s * 1000))}"))
            yield session
        return
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection  # no transaction is open on it yet
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout={max(1, int(wait_s * 1000))}")
        try:
            with Session(bind=conn.execution_options(sqlite_begin="IMMEDIATE")) as session, session.begin():
                yield session
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


F = TypeVar("F", bound=Callable[..., Any])


def read_only(endpoint: F) -> F:
    """Mark a POST route that only reads (e.g. a stateless computation), so on SQLite it does not take
    the database write lock for the length of the request."""
    endpoint.__read_only__ = True  # type: ignore[attr-defined]
    return endpoint


def _wants_write(request: Request) -> bool:
    if request.method not in WRITE_METHODS:
        return False
    endpoint = request.scope.get("endpoint")
    return not getattr(endpoint, "__read_only__", False)


def is_writer(session: Session) -> bool:
    """Whether ``session`` was opened for writing (on SQLite it holds, or will take, the write lock)."""
    return bool(session.info.get("writer"))


def mark_erasure(session: Session) -> None:
    """Note that this transaction erases personal data: once committed, the WAL is truncated."""
    session.info["erasure"] = True


def truncate_wal(engine: Engine, *, patience: float) -> bool:
    """SQLite: copy the WAL into the database and truncate it to zero bytes, so erased rows do not
    survive in it (secure_delete overwrites them in the database file); whether it is now empty.
    Always true elsewhere: PostgreSQL's WAL and dead tuples are covered in docs/operations.md.

    A TRUNCATE checkpoint must wait until no reader uses an older snapshot. It waits here, between
    attempts made with no busy handler, never inside SQLite's busy handler: there the checkpoint keeps
    the write lock while it waits, so a reader that wants to write meanwhile (a request storing newly
    embedded phrases in a short transaction of its own) waits for the checkpoint while the checkpoint
    waits for it, both until ``busy_timeout``. Gives up after ``patience`` seconds.
    """
    if not is_sqlite(engine):
        return True
    deadline = time.monotonic() + patience
    pause = 0.002
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            while True:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _frames, _copied = cursor.fetchone() or (1, 0, 0)
                if not busy:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(2 * pause, 0.05)
        finally:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()


# engines whose WAL a background thread is truncating -> erasures committed since its attempt began
_pending_truncation: dict[int, int] = {}
_truncation_lock = threading.Lock()


def _join_pending(key: int) -> bool:
    """Whether a background truncation is pending for the engine ``key``; if so, it is told to cover
    one more erasure."""
    with _truncation_lock:
        if key in _pending_truncation:
            _pending_truncation[key] += 1
            return True
    return False


def erase_from_wal(engine: Engine) -> None:
    """After an erasure commits: truncate the WAL now, or, when readers keep an older snapshot for
    longer than :data:`WAL_TRUNCATE_PATIENCE_S` (a busy service, a start-up load of every graduate),
    in a background thread that tries again until it can. While that thread runs, later erasures do
    not wait at all: its next successful truncation covers them (it truncates again when one
    committed during its attempt)."""
    key = id(engine)
    if _join_pending(key) or truncate_wal(engine, patience=WAL_TRUNCATE_PATIENCE_S):
        return
    with _truncation_lock:
        starts = key not in _pending_truncation
        _pending_truncation[key] = _pending_truncation.get(key, 0) + 1
    if not starts:
        return  # a thread started while this one waited: it covers this erasure
    log.warning("the write-ahead log still holds erased rows (readers are busy); truncating it later")

    def retry() -> None:
        try:
            for _ in range(WAL_TRUNCATE_TRIES):
                with _truncation_lock:
                    requested = _pending_truncation[key]
                if not truncate_wal(engine, patience=WAL_TRUNCATE_RETRY_PATIENCE_S):
                    continue
                with _truncation_lock:
                    if _pending_truncation[key] == requested:  # no erasure committed meanwhile
                        del _pending_truncation[key]
                        log.info("write-ahead log truncated after an erasure")
                        return
            log.error("the write-ahead log could not be truncated after an erasure; it will be at the next")
        except Exception:
            log.exception("truncating the write-ahead log after an erasure failed")
        with _truncation_lock:
            _pending_truncation.pop(key, None)

    threading.Thread(target=retry, name="wal-truncate", daemon=True).start()


def after_commit(session: Session) -> None:
    if session.info.pop("erasure", False):
        bind = session.get_bind()
        erase_from_wal(bind if isinstance(bind, Engine) else bind.engine)


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: commits when the route returns, rolls back if it raises.

    It ends before the response is sent (``scope="function"``), so a 2xx is only ever sent for a
    committed write.
    """
    state = request.app.state
    maker = state.write_sessions if _wants_write(request) else state.read_sessions
    session = maker()
    try:
        yield session
        session.commit()
        after_commit(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
