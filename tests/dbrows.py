"""Reading rows back from the test database, for assertions on what a step stored."""

from __future__ import annotations

from monitor.store.db import Connection


def rows(db: Connection, sql: str, params: tuple = ()) -> list[tuple]:
    """All rows of `sql`; the read is committed so the next step starts a fresh transaction."""
    with db.cursor() as cur:
        cur.execute(sql, params)
        result = list(cur.fetchall())
    db.commit()
    return result
