"""Watch-lists (migration 0013): saved searches and entity lists, their hits, and what was mailed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from monitor.errors import InputError
from monitor.store.db import Connection
from monitor.store.search import word_forms_query

_COLUMNS = (
    "id, name, query, entity_ids, recipients, interval_minutes, created_by, starts_at, checked_until,"
    " last_mailed_at"
)
# How far before the last check a check looks again: longer than a processing batch's transaction
# (its rows carry the transaction's start time but become visible only at its commit).
LOOK_BACK = timedelta(hours=1)


class Watchlist(NamedTuple):
    id: int
    name: str
    query: str
    entity_ids: list[str]
    recipients: list[str]
    interval_minutes: int
    created_by: str
    starts_at: datetime
    checked_until: datetime
    last_mailed_at: datetime | None


class WatchHit(NamedTuple):
    """An article a watch-list matched and has not mailed yet."""

    article_id: int
    title: str
    url: str | None
    source_name: str | None
    first_seen: datetime
    topics: str  # labels, highest score first ('' when none)


def add(
    conn: Connection,
    name: str,
    *,
    query: str = "",
    entity_ids: list[str] | None = None,
    recipients: list[str] | None = None,
    interval_minutes: int = 60,
    created_by: str = "",
    since: datetime | None = None,
) -> Watchlist:
    """Create a watch-list, or replace the definition of the one with that name. It looks at
    articles processed from `since` on (default: now; older articles are what search is for)."""
    name, query = name.strip(), query.strip()
    entity_ids = [e.strip() for e in entity_ids or [] if e.strip()]
    if not name:
        raise InputError("watch-list", "a watch-list needs a name")
    if not query and not entity_ids:
        raise InputError(f"watch-list {name!r}", "give search words, entity ids, or both")
    if interval_minutes < 1:
        raise InputError(f"watch-list {name!r}", "the mail interval must be at least 1 minute")
    if entity_ids:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM entities WHERE id = ANY(%s)", (entity_ids,))
            known = {row[0] for row in cur.fetchall()}
        unknown = [e for e in entity_ids if e not in known]
        if unknown:
            conn.rollback()
            raise InputError(
                f"watch-list {name!r}",
                f"unknown entity id(s) {', '.join(unknown)} "
                "(ids as `monitor export` shows them, e.g. KZ, org:osce)",
            )
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO watchlists (name, query, entity_ids, recipients, interval_minutes, created_by,
                                        starts_at, checked_until)
                VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), coalesce(%s, now()))
                ON CONFLICT (name) DO UPDATE
                   SET query = EXCLUDED.query, entity_ids = EXCLUDED.entity_ids,
                       recipients = EXCLUDED.recipients, interval_minutes = EXCLUDED.interval_minutes
                RETURNING {_COLUMNS}""",
            (name, query, entity_ids, recipients or [], interval_minutes, created_by, since, since),
        )
        row = cur.fetchone()
    conn.commit()
    assert row is not None
    return Watchlist(*row)


def list_all(conn: Connection) -> list[Watchlist]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM watchlists ORDER BY name")
        return [Watchlist(*row) for row in cur.fetchall()]


def remove(conn: Connection, name_or_id: str) -> bool:
    """Delete a watch-list (by name, or by id when it is a number) and its hits."""
    with conn.cursor() as cur:
        if name_or_id.isdigit():
            cur.execute("DELETE FROM watchlists WHERE id = %s OR name = %s", (int(name_or_id), name_or_id))
        else:
            cur.execute("DELETE FROM watchlists WHERE name = %s", (name_or_id,))
        gone = cur.rowcount > 0
    conn.commit()
    return gone


def record_matches(conn: Connection, watch: Watchlist, until: datetime) -> int:
    """Record as hits the processed articles (not near copies) processed from the last check (less
    LOOK_BACK, never before starts_at) until `until` that contain the search words or any of the
    entities; move checked_until to `until`. Returns how many new hits (an article is a hit once,
    however often it is seen or reprocessed). One transaction: a crash records nothing."""
    conditions: list[str] = []
    params: list[str | list[str]] = []  # a tsquery text, then an array of entity ids
    if watch.query:
        conditions.append("a.search @@ CAST(%s AS tsquery)")
        params.append(word_forms_query(conn, watch.query))
    if watch.entity_ids:
        conditions.append(
            "EXISTS (SELECT 1 FROM article_entities e WHERE e.article_id = a.id AND e.entity_id = ANY(%s))"
        )
        params.append(watch.entity_ids)
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO watch_hits (watchlist_id, article_id)
                SELECT %s, a.id FROM articles a
                 WHERE a.status = 'processed' AND a.near_duplicate_of IS NULL
                   AND a.processed_at >= %s AND a.processed_at < %s
                   AND ({" OR ".join(conditions)})
                ON CONFLICT DO NOTHING""",
            (watch.id, max(watch.starts_at, watch.checked_until - LOOK_BACK), until, *params),
        )
        added = cur.rowcount
        cur.execute("UPDATE watchlists SET checked_until = %s WHERE id = %s", (until, watch.id))
    conn.commit()
    return added


def unmailed(conn: Connection, watch_id: int) -> list[WatchHit]:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT a.id, a.title, a.url, a.source_name, a.first_seen_at,
                      coalesce((SELECT string_agg(t.label, ', ' ORDER BY t.score DESC)
                                  FROM article_topics t WHERE t.article_id = a.id), '')
                 FROM watch_hits h JOIN articles a ON a.id = h.article_id
                WHERE h.watchlist_id = %s AND h.mailed_at IS NULL
                ORDER BY a.first_seen_at, a.id""",
            (watch_id,),
        )
        return [WatchHit(*row) for row in cur.fetchall()]


def mark_mailed(conn: Connection, watch_id: int, article_ids: list[int], at: datetime) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE watch_hits SET mailed_at = %s WHERE watchlist_id = %s AND article_id = ANY(%s)",
            (at, watch_id, article_ids),
        )
        cur.execute("UPDATE watchlists SET last_mailed_at = %s WHERE id = %s", (at, watch_id))
    conn.commit()


class RecentHit(NamedTuple):
    article_id: int
    title: str
    source_name: str | None
    first_seen: datetime
    matched_at: datetime
    mailed_at: datetime | None


def recent_hits(conn: Connection, watch_id: int, limit: int) -> list[RecentHit]:
    """A watch-list's latest hits, newest first: what the Watch-lists page shows as its alerts."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT a.id, a.title, a.source_name, a.first_seen_at, h.matched_at, h.mailed_at
                 FROM watch_hits h JOIN articles a ON a.id = h.article_id
                WHERE h.watchlist_id = %s
                ORDER BY h.matched_at DESC, a.id DESC LIMIT %s""",
            (watch_id, limit),
        )
        return [RecentHit(*row) for row in cur.fetchall()]


def hit_counts(conn: Connection) -> dict[int, tuple[int, int]]:
    """Per watch-list id: (all hits, hits not mailed yet)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT watchlist_id, count(*), count(*) FILTER (WHERE mailed_at IS NULL)
                 FROM watch_hits GROUP BY watchlist_id"""
        )
        return {row[0]: (row[1], row[2]) for row in cur.fetchall()}
