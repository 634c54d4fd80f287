"""Engine, sessions and the one dependency that owns each request's transaction.

SQLite runs in WAL mode with foreign keys on; write requests open their transaction with
``BEGIN IMMEDIATE`` so two concurrent writers queue on the database lock (``busy_timeout``)
instead of deadlocking on a read-to-write upgrade. PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SQLITE_BUSY_TIMEOUT_MS = 30_000


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


def truncate_wal(engine: Engine) -> None:
    """SQLite: copy the WAL into the database and truncate it to zero bytes, so erased rows do not
    survive in it (secure_delete overwrites them in the database file). No-op elsewhere; PostgreSQL's
    WAL and dead tuples are covered in docs/operations.md."""
    if not is_sqlite(engine):
        return
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def after_commit(session: Session) -> None:
    if session.info.pop("erasure", False):
        bind = session.get_bind()
        truncate_wal(bind if isinstance(bind, Engine) else bind.engine)


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
