"""Parallel requests that really overlap in the database.

``race`` sends ``n`` requests from ``n`` threads through one TestClient (the app runs them on its
thread pool, each on its own pooled connection). On PostgreSQL every request is held just before its
first write statement (or row lock: ``SELECT ... FOR UPDATE``) until all ``n`` have reached that
point, so all of them have read the same state, or all ask for the same row at once, before any of
them writes: the interleaving that loses updates, made certain instead of likely. On SQLite writers
hold the database lock from ``BEGIN IMMEDIATE`` and cannot interleave, so the requests are only sent
together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event

WRITES = ("INSERT", "UPDATE", "DELETE")


def race(
    client: TestClient, n: int, send: Callable[[TestClient, int], httpx.Response]
) -> list[httpx.Response]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    gate = threading.Barrier(n)
    lock = threading.Lock()
    held: list[int] = [0]

    def before_write(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sql = statement.lstrip().upper()
        if not sql.startswith(WRITES) and not sql.rstrip().endswith("FOR UPDATE"):
            return
        # A request blocked here issues nothing else, so the first n writes are one per request.
        with lock:
            held[0] += 1
            mine = held[0] <= n
        if mine:
            gate.wait(timeout=60)

    postgres = engine.dialect.name == "postgresql"
    if postgres:
        event.listen(engine, "before_cursor_execute", before_write)
    try:
        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(lambda i: send(client, i), range(n)))
    finally:
        if postgres:
            event.remove(engine, "before_cursor_execute", before_write)
