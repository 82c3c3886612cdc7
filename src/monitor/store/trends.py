"""Daily counts per topic and per country against a trailing baseline, and the alerts table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import psycopg2.extras

from monitor.digest.build import WindowCounts
from monitor.digest.trends import DailyCount, Spike
from monitor.store.db import Connection


def counts_of_window(counts: WindowCounts, topic_labels: dict[str, str]) -> list[tuple[str, str, str, int]]:
    """(kind, key, label, n) of a day from the digest's window counts (topics and every country)."""
    rows = [("topic", k, topic_labels.get(k, k), int(n)) for k, n in counts.by_topic.items()]
    rows += [("country", c.id, c.name, c.count) for c in counts.by_country]
    return sorted(rows)


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


def baseline(
    per_day: Sequence[Sequence[tuple[str, str, str, int]]], today: Sequence[tuple[str, str, str, int]]
) -> list[DailyCount]:
    """Today's counts with the mean per day over `per_day` (days without an article count as zero)."""
    days = max(len(per_day), 1)
    sums: dict[tuple[str, str], int] = {}
    for rows in per_day:
        for kind, key, _label, n in rows:
            sums[(kind, key)] = sums.get((kind, key), 0) + n
    return [DailyCount(kind, key, label, n, sums.get((kind, key), 0) / days) for kind, key, label, n in today]


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
