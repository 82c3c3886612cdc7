"""Sources (feeds and the inbox) and the fetch log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.errors import InputError
from monitor.store.db import Connection


@dataclass(frozen=True)
class Source:
    id: int
    kind: str
    url: str
    name: str
    interval_minutes: int
    full_text: bool
    enabled: bool
    etag: str | None
    last_modified: str | None
    last_fetched_at: datetime | None
    last_status: int | None
    error_count: int
    last_error: str | None
    next_fetch_at: datetime


_COLUMNS = (
    "id, kind, url, name, interval_minutes, full_text, enabled, etag, last_modified, last_fetched_at, "
    "last_status, error_count, last_error, next_fetch_at"
)


# Schemes a feed may have: the command line also takes file:// (a local feed of the machine it runs
# on); the web pages only http(s), since a page's user is not at the server's file system.
FEED_SCHEMES = ("http://", "https://", "file://")
WEB_FEED_SCHEMES = ("http://", "https://")
# The longest poll interval accepted: a week. A larger number is almost surely a typo (and beyond
# 2**31 minutes it would not fit the column).
MAX_INTERVAL_MINUTES = 7 * 24 * 60
MAX_NAME_CHARS = 200


def validate_feed(
    url: str,
    name: str | None,
    interval: int | None,
    *,
    default_interval: int,
    schemes: tuple[str, ...] = FEED_SCHEMES,
) -> tuple[str, str, int]:
    """The (url, name, interval) of a feed to add, checked the same way for `monitor sources add` and
    the feeds page; InputError naming the input and the reason otherwise. A missing name is the URL,
    a missing interval `default_interval`."""
    url = url.strip()
    if not url.lower().startswith(schemes) or len(url) <= len(url.split("://", 1)[0]) + 3:
        names = ", ".join(s for s in schemes)
        raise InputError(url or "(empty URL)", f"feed URLs must start with {names}")
    if any(c.isspace() for c in url):
        raise InputError(url, "a feed URL cannot contain spaces")
    name = (name or "").strip() or url
    if len(name) > MAX_NAME_CHARS:
        raise InputError(name[:40] + "…", f"a feed name has at most {MAX_NAME_CHARS} characters")
    interval = default_interval if interval is None else interval
    if not 0 < interval <= MAX_INTERVAL_MINUTES:
        raise InputError(str(interval), f"the interval is minutes between polls, 1 to {MAX_INTERVAL_MINUTES}")
    return url, name, interval


def add_feed(conn: Connection, url: str, name: str, interval_minutes: int, full_text: bool = False) -> Source:
    """Add a feed, or update the name/interval of an existing one (same URL = same feed)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO sources (kind, url, name, interval_minutes, full_text)
                VALUES ('feed', %s, %s, %s, %s)
                ON CONFLICT (url) DO UPDATE
                   SET name = EXCLUDED.name, interval_minutes = EXCLUDED.interval_minutes,
                       full_text = EXCLUDED.full_text, enabled = true
                RETURNING {_COLUMNS}""",
            (url, name, interval_minutes, full_text),
        )
        row = cur.fetchone()
    conn.commit()
    assert row is not None
    return Source(*row)


def inbox_source(conn: Connection, inbox_url: str) -> int:
    """The id of the inbox's source row, created on first use (relies on UNIQUE (url))."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sources (kind, url, name) VALUES ('inbox', %s, 'Inbox')
               ON CONFLICT (url) DO UPDATE SET kind = 'inbox'
               RETURNING id""",
            (inbox_url,),
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def list_sources(conn: Connection) -> list[Source]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM sources ORDER BY kind, id")
        return [Source(*row) for row in cur.fetchall()]


def remove_feed(conn: Connection, id_or_url: str) -> tuple[Source, int] | None:
    """Remove a feed by id or URL, with its fetch log (ON DELETE CASCADE); its articles stay, without
    a source (ON DELETE SET NULL). Returns the removed feed and how many articles stay, or None when
    no feed has that id or URL. The inbox's source is never removed here."""
    key = int(id_or_url) if id_or_url.isdigit() else None
    with conn.cursor() as cur:
        # Locked, so a fetch storing new articles for it waits and the count is exact.
        cur.execute(
            f"SELECT {_COLUMNS} FROM sources WHERE kind = 'feed' AND (id = %s OR url = %s) FOR UPDATE",
            (key, id_or_url),
        )
        row = cur.fetchone()
        if row is None:
            conn.rollback()
            return None
        removed = Source(*row)
        cur.execute("SELECT count(*) FROM articles WHERE source_id = %s", (removed.id,))
        kept = cur.fetchone()
        cur.execute("DELETE FROM sources WHERE id = %s", (removed.id,))
    conn.commit()
    return removed, int(kept[0]) if kept else 0


def due_feeds(conn: Connection, now: datetime, limit: int | None = None) -> list[Source]:
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM sources
                WHERE kind = 'feed' AND enabled AND next_fetch_at <= %s
                ORDER BY next_fetch_at, id LIMIT %s""",
            (now, limit),
        )
        return [Source(*row) for row in cur.fetchall()]


def claim_due_feeds(
    conn: Connection,
    now: datetime,
    *,
    lease_minutes: int,
    limit: int | None = None,
    ids: Sequence[int] | None = None,
) -> list[Source]:
    """Take the due feeds (optionally only among `ids`) and push their next poll `lease_minutes` ahead.

    SKIP LOCKED + the lease: a concurrent claimer neither waits nor gets the same feeds; the real next
    poll time is written by `record_fetch`. Returns the feeds as they were before the lease.
    """
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH due AS (
                    SELECT id FROM sources
                     WHERE kind = 'feed' AND enabled AND next_fetch_at <= %(now)s
                       AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
                     ORDER BY next_fetch_at, id
                     LIMIT %(limit)s
                       FOR UPDATE SKIP LOCKED)
                UPDATE sources s SET next_fetch_at = %(now)s + make_interval(mins => %(lease)s)
                  FROM due WHERE s.id = due.id
                RETURNING {", ".join("s." + c.strip() for c in _COLUMNS.split(","))}""",
            {
                "now": now,
                "ids": list(ids) if ids is not None else None,
                "limit": limit,
                "lease": lease_minutes,
            },
        )
        claimed = [Source(*row) for row in cur.fetchall()]
    # RETURNING shows the new next_fetch_at; the caller only needs the rest. Stable order by id.
    return sorted(claimed, key=lambda s: s.id)


def next_poll(now: datetime, interval_minutes: int, error_count: int, max_backoff_minutes: int) -> datetime:
    """When to poll again: the interval, doubled per consecutive error, capped (Media Cloud style)."""
    # 2**10 × any interval exceeds a day; capping the exponent keeps the number small.
    minutes = interval_minutes * (2 ** min(error_count, 10))
    return now + timedelta(minutes=min(minutes, max(max_backoff_minutes, interval_minutes)))


@dataclass(frozen=True)
class FetchOutcome:
    """What one fetch attempt of a feed came to, as recorded in fetch_log and on the feed."""

    outcome: str  # 'ok' | 'not_modified' | 'partial' | 'error'
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    items_seen: int = 0
    items_new: int = 0
    items_duplicate: int = 0
    nbytes: int | None = None
    error: str | None = None
    retry_after_s: float | None = None  # the server asked us to wait (429/503 Retry-After)


def record_fetch(
    conn: Connection,
    source: Source,
    result: FetchOutcome,
    *,
    now: datetime,
    duration_ms: int,
    max_backoff_minutes: int,
) -> None:
    """Log one fetch attempt and move the feed's state on (validators, error count, next poll)."""
    failed = result.outcome == "error"
    error_count = source.error_count + 1 if failed else 0
    next_at = next_poll(now, source.interval_minutes, error_count, max_backoff_minutes)
    if result.retry_after_s:
        # Never earlier than the server asked, and never later than the longest backoff of a failing
        # feed (a day by default): the one cap, so a silly header cannot park a feed for months.
        wait_s = min(result.retry_after_s, max_backoff_minutes * 60)
        next_at = max(next_at, now + timedelta(seconds=wait_s))
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO fetch_log (source_id, fetched_at, outcome, http_status, items_seen, items_new,
                                      items_duplicate, bytes, duration_ms, error)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                source.id,
                now,
                result.outcome,
                result.http_status,
                result.items_seen,
                result.items_new,
                result.items_duplicate,
                result.nbytes,
                duration_ms,
                result.error,
            ),
        )
        # A failed fetch keeps the old validators: they still describe the last good copy we hold.
        cur.execute(
            """UPDATE sources
                  SET last_fetched_at = %(now)s,
                      last_status = %(status)s,
                      error_count = %(error_count)s,
                      last_error = %(error)s,
                      next_fetch_at = %(next_at)s,
                      etag = CASE WHEN %(failed)s THEN etag ELSE coalesce(%(etag)s, etag) END,
                      last_modified = CASE WHEN %(failed)s THEN last_modified
                                           ELSE coalesce(%(last_modified)s, last_modified) END,
                      last_success_at = CASE WHEN %(failed)s THEN last_success_at ELSE %(now)s END
                WHERE id = %(id)s""",
            {
                "now": now,
                "status": result.http_status,
                "error_count": error_count,
                "error": result.error,
                "next_at": next_at,
                "failed": failed,
                "etag": result.etag,
                "last_modified": result.last_modified,
                "id": source.id,
            },
        )


def make_due(conn: Connection, url: str) -> None:
    """Poll the feed at `url` at the next run, whenever it was last polled (the demo's sample feed)."""
    with conn.cursor() as cur:
        cur.execute("UPDATE sources SET next_fetch_at = now() WHERE url = %s", (url,))
