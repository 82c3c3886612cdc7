"""Rejected inputs and warnings: every unusable input is recorded with its reason, never dropped silently."""

from __future__ import annotations

from monitor.store.db import Connection


def record(conn: Connection, origin: str, ref: str, reason: str, severity: str = "rejected") -> None:
    """Record a problem; the same (origin, ref, reason) again adds nothing (UNIQUE constraint)."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO rejects (origin, ref, severity, reason) VALUES (%s, %s, %s, %s)
               ON CONFLICT (origin, ref, reason) DO NOTHING""",
            (origin, ref, severity, reason),
        )


def recent(conn: Connection, limit: int = 50) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT created_at, origin, ref, severity, reason FROM rejects ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return list(cur.fetchall())
