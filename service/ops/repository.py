"""SQL the operations code runs: rows per table for the metrics scrape."""

from __future__ import annotations

from sqlalchemy import Connection, func, inspect, select, table


def table_rows(conn: Connection) -> dict[str, int]:
    """Rows in every application table (not Alembic's), by table name, in name order."""
    counts: dict[str, int] = {}
    for name in sorted(inspect(conn).get_table_names()):
        if name == "alembic_version":
            continue
        counts[name] = int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
    return counts
