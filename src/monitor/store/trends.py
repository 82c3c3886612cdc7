"""Daily counts per topic and per country against a trailing baseline, and the alerts table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from monitor.digest.trends import DailyCount, Spike
from monitor.store.db import Connection

# One query for both kinds: per local day (first_seen in the digest's time zone) the articles per key,
# then the day's count and the mean over the trailing days (days without articles count as zero).
_COUNTS_SQL = """
WITH hits AS (
    SELECT (a.first_seen_at AT TIME ZONE %(tz)s)::date AS day, 'topic' AS kind, t.topic_id AS key,
           t.label AS label, a.id
      FROM articles a JOIN article_topics t ON t.article_id = a.id
     WHERE a.status = 'processed' AND a.first_seen_at >= %(start)s AND a.first_seen_at < %(end)s
    UNION ALL
    SELECT (a.first_seen_at AT TIME ZONE %(tz)s)::date, 'country', e.id, e.name, a.id
      FROM articles a JOIN article_entities ae ON ae.article_id = a.id
      JOIN entities e ON e.id = ae.entity_id AND e.type = 'country'
     WHERE a.status = 'processed' AND a.first_seen_at >= %(start)s AND a.first_seen_at < %(end)s
), per_day AS (
    SELECT day, kind, key, max(label) AS label, count(DISTINCT id) AS n FROM hits GROUP BY day, kind, key
)
SELECT kind, key, max(label),
       coalesce(sum(n) FILTER (WHERE day = %(day)s), 0)::int,
       coalesce(sum(n) FILTER (WHERE day < %(day)s), 0)::float / %(days)s
  FROM per_day GROUP BY kind, key
HAVING coalesce(sum(n) FILTER (WHERE day = %(day)s), 0) > 0
 ORDER BY kind, key
"""


def daily_counts(
    conn: Connection, day: date, tz: str, window_start: datetime, day_end: datetime, baseline_days: int
) -> list[DailyCount]:
    """Counts of `day` and the mean of the `baseline_days` before it; [window_start, day_end) spans both."""
    with conn.cursor() as cur:
        cur.execute(
            _COUNTS_SQL,
            {"tz": tz, "start": window_start, "end": day_end, "day": day, "days": baseline_days},
        )
        return [
            DailyCount(kind, key, label, int(n), float(base)) for kind, key, label, n, base in cur.fetchall()
        ]


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
