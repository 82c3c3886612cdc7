"""The daily counts per topic and per country (kept for the spike baselines), and the alerts table.

SQL only: the arithmetic on the counts (`counts_of_window`, `baseline`) is in `digest/trends.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import psycopg2.extras

from monitor.digest.trends import Spike
from monitor.store.db import Connection


def stored_day_counts(conn: Connection, day: date, tz: str) -> list[tuple[str, str, str, int]] | None:
    """The stored counts of a complete day, or None when that day was never computed."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM daily_counts_done WHERE day = %s AND timezone = %s", (day, tz))
        if cur.fetchone() is None:
            return None
        cur.execute(
            """SELECT kind, key, label, n FROM daily_counts
                WHERE day = %s AND timezone = %s ORDER BY kind, key""",
            (day, tz),
        )
        return [(k, key, label, int(n)) for k, key, label, n in cur.fetchall()]


def store_day_counts(conn: Connection, day: date, tz: str, rows: Sequence[tuple[str, str, str, int]]) -> None:
    """Keep a complete day's counts (idempotent: a second computation replaces the first)."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM daily_counts WHERE day = %s AND timezone = %s", (day, tz))
        if rows:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO daily_counts (day, timezone, kind, key, label, n) VALUES %s",
                [(day, tz, *r) for r in rows],
            )
        cur.execute(
            """INSERT INTO daily_counts_done (day, timezone) VALUES (%s, %s)
               ON CONFLICT (day, timezone) DO UPDATE SET computed_at = now()""",
            (day, tz),
        )


def save_alerts(conn: Connection, day: date, tz: str, spikes: Sequence[Spike]) -> None:
    """Upsert the day's spikes (the UNIQUE key makes a rebuild idempotent; sent_at is kept)."""
    with conn.cursor() as cur:
        for s in spikes:
            cur.execute(
                """INSERT INTO alerts (alert_date, timezone, kind, key, label, count, baseline)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (alert_date, timezone, kind, key)
                   DO UPDATE SET label = EXCLUDED.label, count = EXCLUDED.count,
                                 baseline = EXCLUDED.baseline""",
                (day, tz, s.kind, s.key, s.label, s.count, s.baseline),
            )


def unsent_alerts(conn: Connection, day: date, tz: str) -> list[tuple[int, str]]:
    """(id, description) of the day's alerts not yet mailed, locked until the caller commits."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id, label, count, baseline FROM alerts
                WHERE alert_date = %s AND timezone = %s AND sent_at IS NULL
                ORDER BY count - baseline DESC, id FOR UPDATE""",
            (day, tz),
        )
        return [(i, Spike("", "", label, n, base).describe()) for i, label, n, base in cur.fetchall()]


def mark_alerts_sent(conn: Connection, ids: Sequence[int]) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE alerts SET sent_at = now() WHERE id = ANY(%s)", (list(ids),))
