"""Reads for the workbench pages (stories, trends, feed health, search filter options), and the two
feed switches the feeds page has (pause/resume). Hand-written parameterised SQL, no arithmetic: the
spike statistics stay in `digest/trends.py`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from monitor.store.db import Connection

# The article's source as the pages show it (the digest's expression, store/digests.py).
_SOURCE = """coalesce(a.source_name,
                      CASE WHEN s.kind = 'inbox' THEN 'Inbox: ' || a.origin_ref ELSE s.name END,
                      a.origin_ref, '?')"""


# --- search filter options -------------------------------------------------------------------------


class Option(NamedTuple):
    value: str
    label: str
    articles: int = 0


# How many of the most frequent countries and organisations the search form offers to pick; and over
# how many of the newest articles they (and the languages) are counted: a bounded read, not a scan.
OPTIONS_LISTED = 40
OPTIONS_RECENT_ARTICLES = 5000


def feed_sources(conn: Connection) -> list[Option]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, name FROM sources ORDER BY name, id")
        return [Option(str(i), name) for i, name in cur.fetchall()]


def frequent_entities(conn: Connection, entity_type: str) -> list[Option]:
    """The entities of a type most mentioned in the newest articles (name, name, articles)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT e.name, count(*) FROM (
                   SELECT id FROM articles WHERE status = 'processed'
                    ORDER BY first_seen_at DESC LIMIT %s) a
                 JOIN article_entities ae ON ae.article_id = a.id
                 JOIN entities e ON e.id = ae.entity_id AND e.type = %s
                GROUP BY e.name ORDER BY count(*) DESC, e.name LIMIT %s""",
            (OPTIONS_RECENT_ARTICLES, entity_type, OPTIONS_LISTED),
        )
        return [Option(name, name, int(n)) for name, n in cur.fetchall()]


def recent_languages(conn: Connection) -> list[Option]:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT language, count(*) FROM (
                   SELECT language FROM articles WHERE status = 'processed'
                    ORDER BY first_seen_at DESC LIMIT %s) a
                WHERE language IS NOT NULL GROUP BY language ORDER BY count(*) DESC, language""",
            (OPTIONS_RECENT_ARTICLES,),
        )
        return [Option(lang, lang, int(n)) for lang, n in cur.fetchall()]


# --- stories ---------------------------------------------------------------------------------------


class StoryListing(NamedTuple):
    id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    articles: int
    sources: int
    topics: str  # the labels most of its articles carry, comma-separated


def recent_stories(
    conn: Connection, since: datetime, limit: int, min_articles: int = 1
) -> list[StoryListing]:
    """Stories with an article seen since `since`, the largest first (articles, then sources, then
    the latest), read along the last_seen index (0006)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT st.id, st.title, st.first_seen, st.last_seen, st.article_count, st.source_count,
                      coalesce((SELECT string_agg(label, ', ' ORDER BY n DESC, label) FROM (
                                  SELECT t.label, count(*) AS n FROM articles a
                                    JOIN article_topics t ON t.article_id = a.id
                                   WHERE a.story_id = st.id AND a.status = 'processed'
                                   GROUP BY t.label ORDER BY n DESC, t.label LIMIT 3) top), '')
                 FROM stories st
                WHERE st.last_seen >= %s AND st.article_count >= %s
                ORDER BY st.article_count DESC, st.source_count DESC, st.last_seen DESC, st.id DESC
                LIMIT %s""",
            (since, min_articles, limit),
        )
        return [StoryListing(*row) for row in cur.fetchall()]


class StoryArticle(NamedTuple):
    id: int
    title: str
    source: str
    first_seen: datetime
    published: datetime | None
    url: str | None
    language: str | None
    copy_of: int | None  # a syndicated copy of that article (near duplicate)


class Counted(NamedTuple):
    name: str
    articles: int  # articles of the story


@dataclass
class StoryPage:
    id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    article_count: int
    source_count: int
    articles: list[StoryArticle]
    outlets: list[Counted]
    topics: list[Counted]
    entities: dict[str, list[Counted]] = field(default_factory=dict)  # by type


STORY_ARTICLES_LISTED = 500  # a story of thousands of copies lists its first 500 (counts stay exact)
ENTITIES_PER_TYPE = 25


def story_page(conn: Connection, story_id: int) -> StoryPage | None:
    """A story with its articles in the order they arrived, its outlets, topics and entities."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, title, first_seen, last_seen, article_count, source_count FROM stories WHERE id = %s",
            (story_id,),
        )
        head = cur.fetchone()
        if head is None:
            return None
        cur.execute(
            f"""SELECT a.id, a.title, {_SOURCE}, a.first_seen_at, a.published_at, a.url, a.language,
                       a.near_duplicate_of
                  FROM articles a LEFT JOIN sources s ON s.id = a.source_id
                 WHERE a.story_id = %s AND a.status = 'processed'
                 ORDER BY a.first_seen_at, a.id LIMIT %s""",
            (story_id, STORY_ARTICLES_LISTED),
        )
        articles = [StoryArticle(*row) for row in cur.fetchall()]
        cur.execute(
            f"""SELECT {_SOURCE}, count(*) FROM articles a LEFT JOIN sources s ON s.id = a.source_id
                 WHERE a.story_id = %s AND a.status = 'processed'
                 GROUP BY 1 ORDER BY count(*) DESC, 1""",
            (story_id,),
        )
        outlets = [Counted(*row) for row in cur.fetchall()]
        cur.execute(
            """SELECT t.label, count(*) FROM articles a JOIN article_topics t ON t.article_id = a.id
                WHERE a.story_id = %s AND a.status = 'processed'
                GROUP BY t.label ORDER BY count(*) DESC, t.label""",
            (story_id,),
        )
        topics = [Counted(*row) for row in cur.fetchall()]
        cur.execute(
            """SELECT e.type, e.name, count(*) FROM articles a
                 JOIN article_entities ae ON ae.article_id = a.id JOIN entities e ON e.id = ae.entity_id
                WHERE a.story_id = %s AND a.status = 'processed'
                GROUP BY e.type, e.name ORDER BY e.type, count(*) DESC, e.name""",
            (story_id,),
        )
        entities: dict[str, list[Counted]] = defaultdict(list)
        for etype, name, n in cur.fetchall():
            if len(entities[etype]) < ENTITIES_PER_TYPE:
                entities[etype].append(Counted(name, int(n)))
    sid, title, first_seen, last_seen, article_count, source_count = head
    return StoryPage(
        sid,
        title,
        first_seen,
        last_seen,
        article_count,
        source_count,
        articles,
        outlets,
        topics,
        dict(entities),
    )


# --- trends ----------------------------------------------------------------------------------------


def stored_counts_between(
    conn: Connection, first: date, last: date, tz: str
) -> dict[date, list[tuple[str, str, str, int]]]:
    """The stored daily counts (0005) of the days from `first` to `last` that were computed, each
    day's rows as `store.trends.stored_day_counts` gives them; a day never computed is absent."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT d.day, c.kind, c.key, c.label, c.n FROM daily_counts_done d
                 LEFT JOIN daily_counts c ON c.day = d.day AND c.timezone = d.timezone
                WHERE d.timezone = %s AND d.day BETWEEN %s AND %s
                ORDER BY d.day, c.kind, c.key""",
            (tz, first, last),
        )
        days: dict[date, list[tuple[str, str, str, int]]] = {}
        for day, kind, key, label, n in cur.fetchall():
            rows = days.setdefault(day, [])
            if kind is not None:  # a day done without any article has no count rows
                rows.append((kind, key, label, int(n)))
        return days


# --- feeds -----------------------------------------------------------------------------------------


class FeedHealth(NamedTuple):
    id: int
    kind: str
    url: str
    name: str
    interval_minutes: int
    enabled: bool
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    last_status: int | None
    last_outcome: str | None  # of the latest fetch_log row
    error_count: int
    last_error: str | None
    next_fetch_at: datetime
    articles: int
    articles_day: int  # first seen in the last 24 hours


def feed_health(conn: Connection, now: datetime) -> list[FeedHealth]:
    """Every source with its fetch state, its latest logged outcome and its article counts."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT s.id, s.kind, s.url, s.name, s.interval_minutes, s.enabled, s.last_fetched_at,
                      s.last_success_at, s.last_status,
                      (SELECT f.outcome FROM fetch_log f WHERE f.source_id = s.id
                        ORDER BY f.fetched_at DESC LIMIT 1),
                      s.error_count, s.last_error, s.next_fetch_at,
                      -- Per source along articles_source_seen (0016), index-only: not a scan of
                      -- every article grouped by source.
                      (SELECT count(*) FROM articles a WHERE a.source_id = s.id),
                      (SELECT count(*) FROM articles a
                        WHERE a.source_id = s.id AND a.first_seen_at >= %s - interval '1 day')
                 FROM sources s
                ORDER BY s.kind, s.name, s.id""",
            (now,),
        )
        return [FeedHealth(*row) for row in cur.fetchall()]


def set_feed_enabled(conn: Connection, feed_id: int, enabled: bool) -> str | None:
    """Pause or resume a feed; its name, or None when no feed has that id. A resumed feed keeps its
    next poll time, so one overdue is polled at the feed DAG's next tick."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE sources SET enabled = %s WHERE id = %s AND kind = 'feed' RETURNING name",
            (enabled, feed_id),
        )
        row = cur.fetchone()
    conn.commit()
    return str(row[0]) if row else None


# --- digests list ----------------------------------------------------------------------------------


class DigestListing(NamedTuple):
    """A built digest as the digests page lists it: with the count it had when it was mailed."""

    digest_date: date
    timezone: str
    article_count: int  # as built last
    subject: str
    built_at: datetime
    sent_at: datetime | None
    sent_to: str | None
    unsent_reason: str | None
    sent_article_count: int | None  # as mailed (0015); None: not sent, or sent before 0015 and rebuilt


def list_digests(conn: Connection, limit: int) -> list[DigestListing]:
    """The latest `limit` digests built, newest date first (then by time zone)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT digest_date, timezone, article_count, subject, built_at, sent_at, sent_to,
                      unsent_reason, sent_article_count
                 FROM digests ORDER BY digest_date DESC, timezone LIMIT %s""",
            (limit,),
        )
        return [DigestListing(*row) for row in cur.fetchall()]
