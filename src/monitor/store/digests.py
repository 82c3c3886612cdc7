"""Reads for the digest, the export and the web pages, and the digests table (built once, sent once)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

import psycopg2

from monitor.models import CountryCount, Entity, Evidence, StoredArticle, TopicHit, WindowCounts
from monitor.store import corrections
from monitor.store.db import Connection, sibling_connection

log = logging.getLogger(__name__)


_ARTICLE_SQL = """
SELECT a.id, a.title,
       coalesce(a.source_name, CASE WHEN s.kind = 'inbox' THEN 'Inbox: ' || a.origin_ref ELSE s.name END,
                a.origin_ref),
       a.url, a.first_seen_at, a.published_at, coalesce(a.clean_text, ''), a.language, a.taxonomy_version,
       (SELECT count(*) FROM article_sightings x WHERE x.article_id = a.id AND x.matched_on <> 'first')
         + (SELECT count(*) FROM articles d WHERE d.duplicate_of = a.id),
       a.story_id, st.article_count, st.source_count, st.first_seen
  FROM articles a LEFT JOIN sources s ON s.id = a.source_id LEFT JOIN stories st ON st.id = a.story_id
 WHERE a.status = 'processed' AND {where}
 ORDER BY a.id
"""
_IN_WINDOW = "a.first_seen_at >= %s AND a.first_seen_at < %s"


def _attach(conn: Connection, rows: list[tuple]) -> list[StoredArticle]:
    ids = [r[0] for r in rows]
    topics: dict[int, list[TopicHit]] = defaultdict(list)
    entities: dict[int, list[Entity]] = defaultdict(list)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT article_id, topic_id, label, score, evidence FROM article_topics
               WHERE article_id = ANY(%s) ORDER BY article_id, score DESC, topic_id""",
            (ids,),
        )
        for aid, tid, label, score, evidence in cur.fetchall():
            ev = [Evidence.from_json(e) for e in evidence]
            topics[aid].append(TopicHit(topic_id=tid, label=label, score=float(score), evidence=ev))
        cur.execute(
            """SELECT ae.article_id, e.type, e.name, e.id, ae.count, ae.mentions, ae.title, e.country
                 FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                WHERE ae.article_id = ANY(%s) ORDER BY ae.article_id, e.type, ae.count DESC, e.name""",
            (ids,),
        )
        for aid, etype, name, eid, count, mentions, title, country in cur.fetchall():
            entities[aid].append(
                Entity(
                    type=etype,
                    name=name,
                    id=eid,
                    count=count,
                    mentions=tuple(mentions or ()),
                    title=title,
                    country=country,
                )
            )
    return [
        StoredArticle(
            id=r[0],
            title=r[1],
            source=r[2],
            url=r[3],
            first_seen=r[4],
            published=r[5],
            text=r[6],
            language=r[7],
            taxonomy_version=r[8],
            duplicates=int(r[9]),
            story_id=r[10],
            story_articles=int(r[11] or 1),
            story_sources=int(r[12] or 1),
            story_first_seen=r[13],
            topics=topics[r[0]],
            entities=entities[r[0]],
        )
        for r in rows
    ]


# The window's processed article ids, read from the narrow partial index (0004), materialised once per
# query so the wide article rows are never scanned.
_WINDOW_IDS = """WITH w AS MATERIALIZED (
    SELECT id, first_seen_at, coalesce(story_id, id) AS story, language FROM articles
     WHERE status = 'processed' AND near_duplicate_of IS NULL
       AND first_seen_at >= %(start)s AND first_seen_at < %(end)s)"""


def window_counts(conn: Connection, start: datetime, end: datetime) -> WindowCounts:
    """Totals of the window computed in the database, so a day of 300k articles is never loaded.

    One statement: the window's ids are read once and joined once with the topics (three separate
    queries read and joined them three times: 1.5 s instead of 0.85 s for a day of 300k articles).
    """
    args = {"start": start, "end": end}
    with conn.cursor() as cur:
        # The materialised id list of a busy day (300k ids) spills to disk under the 4 MB default.
        cur.execute("SET LOCAL work_mem = '64MB'")
        cur.execute(
            f"""{_WINDOW_IDS},
                t AS MATERIALIZED (
                    SELECT t.article_id, t.topic_id FROM article_topics t JOIN w ON w.id = t.article_id)
                SELECT 'total', NULL, NULL, (SELECT count(*) FROM w)
                UNION ALL
                SELECT 'tagged', NULL, NULL, (SELECT count(*) FROM (SELECT DISTINCT article_id FROM t) d)
                UNION ALL
                SELECT 'topic', topic_id, NULL, count(*) FROM t GROUP BY topic_id
                UNION ALL
                SELECT 'language', language, NULL, count(*) FROM w GROUP BY language
                UNION ALL
                SELECT 'country', e.id, e.name, count(*) FROM article_entities ae
                  JOIN w ON w.id = ae.article_id
                  JOIN entities e ON e.id = ae.entity_id AND e.type = 'country'
                 GROUP BY e.id, e.name""",
            args,
        )
        total = tagged = 0
        by_topic: dict[str, int] = {}
        by_language: dict[str | None, int] = {}
        countries: list[tuple[str, str, int]] = []
        for kind, key, name, n in cur.fetchall():
            if kind == "total":
                total = int(n)
            elif kind == "tagged":
                tagged = int(n)
            elif kind == "topic":
                by_topic[key] = int(n)
            elif kind == "language":
                by_language[key] = int(n)
            else:
                countries.append((key, name, int(n)))
    # Most articles first, then by name and id: the order the digest shows and the tests rely on.
    countries.sort(key=lambda c: (-c[2], c[1], c[0]))
    by_country = [CountryCount(cid, name, n) for cid, name, n in countries]
    counts = WindowCounts(total, by_topic, by_country, total - tagged, by_language)
    return corrections.discount_irrelevant(conn, start, end, counts)  # analysts' corrections


def read_window(
    conn: Connection, start: datetime, end: datetime, per_topic: int, other_limit: int
) -> tuple[WindowCounts, list[StoredArticle]]:
    """`window_counts` and `digest_selection` at once: the counts on a second connection that reads
    the same snapshot (exported from `conn`'s transaction), the selection on `conn`. Each is one
    CPU-bound statement over the whole day, so two cores take about the time of the longer one.
    Sequential when `conn` is in autocommit mode (no transaction to export from) or a second
    connection cannot be had."""
    sibling = None
    if not conn.autocommit:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_export_snapshot()")
                row = cur.fetchone()
            sibling = sibling_connection(conn)
            sibling.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with sibling.cursor() as cur:
                cur.execute("SET TRANSACTION SNAPSHOT %s", (row[0] if row else "",))
        except psycopg2.OperationalError as exc:  # e.g. too many connections: the slower way works
            log.info("digest reads run one after the other: %s", exc)
            if sibling is not None:
                sibling.close()
            sibling = None
    if sibling is None:
        return window_counts(conn, start, end), digest_selection(conn, start, end, per_topic, other_limit)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            counts = pool.submit(window_counts, sibling, start, end)
            records = digest_selection(conn, start, end, per_topic, other_limit)
            return counts.result(), records
    finally:
        sibling.rollback()
        sibling.close()


# Rows read per topic before stories are collapsed: enough unless one story fills a topic's top rows,
# in which case that topic is read again in full (exact either way).
_CANDIDATES_PER_PICK = 20


# Articles of one story read for the digest: it lists the first five (digest.build's story_articles)
# and counts the rest from the story's own totals.
STORY_ARTICLES_READ = 5


def digest_selection(
    conn: Connection, start: datetime, end: datetime, per_topic: int, other_limit: int
) -> list[StoredArticle]:
    """The articles a digest shows (top `per_topic` of each topic in the digest's order: score, then
    newest, then id, each story once with its best article; and the newest `other_limit` untagged
    ones). Totals: `window_counts`.

    Sorting all of a busy day's tagged rows to collapse stories cost most of the digest (a day of
    300k articles: 120k rows, 0.5 s). Instead each topic's best rows are taken with a bounded top-N
    sort, and stories are collapsed here: rows in ranking order, a story's first row is its best, so
    if the rows read hold `per_topic` stories they hold the top `per_topic` stories. A topic where
    they do not (one huge story) is read again without the bound.
    """
    limit = max(1, per_topic) * _CANDIDATES_PER_PICK
    args = {"start": start, "end": end, "limit": limit}
    picked: list[int] = []
    with conn.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '64MB'")  # see window_counts
        cur.execute(
            f"""{_WINDOW_IDS},
                tw AS MATERIALIZED (
                    SELECT t.topic_id, t.article_id, t.score, w.first_seen_at, w.story
                      FROM article_topics t JOIN w ON w.id = t.article_id)
                SELECT topics.topic_id, top.article_id, top.story
                  FROM (SELECT DISTINCT topic_id FROM tw) topics
                 CROSS JOIN LATERAL (
                     SELECT article_id, story FROM tw WHERE tw.topic_id = topics.topic_id
                      ORDER BY score DESC, first_seen_at DESC, article_id LIMIT %(limit)s) top""",
            args,
        )
        by_topic: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for topic_id, article_id, story in cur.fetchall():
            by_topic[topic_id].append((article_id, story))  # in ranking order within a topic
        for topic_id in sorted(by_topic):
            best = _best_of_stories(by_topic[topic_id], per_topic)
            if len(best) < per_topic and len(by_topic[topic_id]) == limit:
                cur.execute(
                    f"""{_WINDOW_IDS}
                        SELECT t.article_id, w.story FROM article_topics t JOIN w ON w.id = t.article_id
                         WHERE t.topic_id = %(topic)s
                         ORDER BY t.score DESC, w.first_seen_at DESC, t.article_id""",
                    {**args, "topic": topic_id},
                )
                best = _best_of_stories(cur.fetchall(), per_topic)
            picked.extend(best)
        # The other tagged articles of the picked stories in the window (the first few of each): the
        # digest names a story's outlets and links its articles, not only its best one.
        cur.execute(
            f"""{_WINDOW_IDS},
                s AS (SELECT DISTINCT story FROM w WHERE id = ANY(%(picked)s))
                SELECT id FROM (
                    SELECT w.id, row_number() OVER (PARTITION BY w.story ORDER BY w.first_seen_at, w.id) AS n
                      FROM w JOIN s USING (story)
                     WHERE EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = w.id)) members
                 WHERE n <= %(per_story)s""",
            {**args, "picked": picked, "per_story": STORY_ARTICLES_READ},
        )
        picked.extend(row[0] for row in cur.fetchall())
        # The newest untagged articles: read backwards along the window index, stopping at the limit.
        cur.execute(
            """SELECT a.id FROM articles a
                WHERE a.status = 'processed' AND a.near_duplicate_of IS NULL
                  AND a.first_seen_at >= %(start)s AND a.first_seen_at < %(end)s
                  AND NOT EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id)
                ORDER BY a.first_seen_at DESC, a.id LIMIT %(other)s""",
            {**args, "other": other_limit},
        )
        picked.extend(row[0] for row in cur.fetchall())
        ids = sorted(set(picked))
        cur.execute(_ARTICLE_SQL.format(where="a.id = ANY(%s)"), (ids,))
        rows = cur.fetchall()
    return corrections.drop_irrelevant(conn, _attach(conn, rows))  # analysts' corrections


def _best_of_stories(ranked: Iterable[tuple[int, int]], count: int) -> list[int]:
    """The first article of each story in `ranked` (article, story) rows, for the first `count` stories."""
    seen: set[int] = set()
    best: list[int] = []
    if count <= 0:
        return best
    for article_id, story in ranked:
        if story not in seen:
            seen.add(story)
            best.append(article_id)
            if len(best) == count:
                break
    return best


def article_page(conn: Connection, article_id: int) -> tuple[StoredArticle, str | None] | None:
    """One processed article with its topics and entities, and its sanitised HTML if it has one."""
    with conn.cursor() as cur:
        cur.execute(_ARTICLE_SQL.format(where="a.id = %s"), (article_id,))
        rows = cur.fetchall()
        if not rows:
            return None
        cur.execute("SELECT display_html FROM articles WHERE id = %s", (article_id,))
        row = cur.fetchone()
    return _attach(conn, rows)[0], row[0] if row else None


def iter_articles(
    conn: Connection, start: datetime, end: datetime, chunk: int = 1000
) -> Iterator[StoredArticle]:
    """Stream processed articles of a window in chunks (server-side cursor): flat memory for exports."""
    with conn.cursor(name="export_articles") as cur:
        cur.itersize = chunk
        cur.execute(_ARTICLE_SQL.format(where=_IN_WINDOW), (start, end))
        while True:
            rows = cur.fetchmany(chunk)
            if not rows:
                break
            # A second cursor on the same connection is fine while the named one is open.
            yield from _attach(conn, rows)


def save_digest(conn: Connection, row: dict[str, Any]) -> None:
    """Store the rendered digest; re-building replaces the content (and whether it is a preview) but
    keeps sent_at and unsent_reason (relies on the PK)."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO digests (digest_date, timezone, window_start, window_end, article_count, subject,
                                    html, text, mail_html, page_html, preview)
               VALUES (%(digest_date)s, %(timezone)s, %(window_start)s, %(window_end)s, %(article_count)s,
                       %(subject)s, %(html)s, %(text)s, %(mail_html)s, %(page_html)s, %(preview)s)
               ON CONFLICT (digest_date, timezone) DO UPDATE
                  SET window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
                      article_count = EXCLUDED.article_count, subject = EXCLUDED.subject,
                      html = EXCLUDED.html, text = EXCLUDED.text, mail_html = EXCLUDED.mail_html,
                      page_html = EXCLUDED.page_html, preview = EXCLUDED.preview, built_at = now()""",
            {"page_html": None, **row},
        )


def sent_at(conn: Connection, digest_date: date, timezone: str) -> datetime | None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT sent_at FROM digests WHERE digest_date = %s AND timezone = %s", (digest_date, timezone)
        )
        row = cur.fetchone()
        return row[0] if row else None


class StoredDigest(NamedTuple):
    """What the send step mails: the digest as it was built and stored."""

    subject: str
    text: str
    mail_html: str | None  # None: built before the e-mail HTML was stored with it (migration 0009)
    article_count: int
    sent_at: datetime | None
    preview: bool  # built before the day was over (migration 0011): mailed when asked, never marked sent


def lock_for_sending(conn: Connection, digest_date: date, timezone: str) -> StoredDigest | None:
    """The stored digest, its row locked until the caller commits or rolls back (so two senders
    serialise and the second sees `sent_at`); None when that date was never built."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT subject, text, mail_html, article_count, sent_at, preview FROM digests
                WHERE digest_date = %s AND timezone = %s FOR UPDATE""",
            (digest_date, timezone),
        )
        row = cur.fetchone()
        return StoredDigest(*row) if row else None


def mark_sent(conn: Connection, digest_date: date, timezone: str, recipients: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE digests SET sent_at = now(), sent_to = %s, unsent_reason = NULL
                WHERE digest_date = %s AND timezone = %s""",
            (recipients, digest_date, timezone),
        )


def mark_unsent(conn: Connection, digest_date: date, timezone: str, reason: str) -> None:
    """Record why the send step did not mail this digest (shown in the digests list)."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE digests SET unsent_reason = %s WHERE digest_date = %s AND timezone = %s",
            (reason, digest_date, timezone),
        )


def latest_article_before(conn: Connection, before: datetime) -> datetime | None:
    """When the newest processed article first seen before `before` arrived (None: there is none).
    Read backwards along the window index (0004), so it stops at the first row."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT first_seen_at FROM articles
                WHERE status = 'processed' AND near_duplicate_of IS NULL AND first_seen_at < %s
                ORDER BY first_seen_at DESC LIMIT 1""",
            (before,),
        )
        row = cur.fetchone()
        return row[0] if row else None


class DigestListing(NamedTuple):
    """A built digest as the digests page lists it (a tuple, so a template can unpack it)."""

    digest_date: date
    timezone: str
    article_count: int
    subject: str
    built_at: datetime
    sent_at: datetime | None
    sent_to: str | None
    unsent_reason: str | None


def list_digests(conn: Connection, limit: int) -> list[DigestListing]:
    """The latest `limit` digests built, newest date first (then by time zone)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT digest_date, timezone, article_count, subject, built_at, sent_at, sent_to, unsent_reason
                 FROM digests ORDER BY digest_date DESC, timezone LIMIT %s""",
            (limit,),
        )
        return [DigestListing(*row) for row in cur.fetchall()]


class StatusCounts(NamedTuple):
    """Articles per status, shown above the digests (a tuple, so a template can index it)."""

    processed: int
    new: int
    duplicate: int
    failed: int


def status_counts(conn: Connection) -> StatusCounts:
    """How many articles are processed, waiting, duplicates and failed: one scan of the table.

    Here rather than in `store/articles.py` because the web app calls it: that module pulls in the
    dedupe fingerprints (numpy), which the Airflow api-server loading the plugin does not need."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT count(*) FILTER (WHERE status = 'processed'),
                      count(*) FILTER (WHERE status = 'new'),
                      count(*) FILTER (WHERE status = 'duplicate'),
                      count(*) FILTER (WHERE status = 'failed')
                 FROM articles"""
        )
        row = cur.fetchone()  # an aggregate without GROUP BY: always one row
        return StatusCounts(*row)


# The two renderings a digest is stored in, each its own column.
_FORMAT_COLUMNS = {"html": "html", "text": "text", "page": "page_html"}


def stored_digest(conn: Connection, digest_date: date, fmt: Literal["html", "text", "page"]) -> str | None:
    """The digest of a date as it was rendered and stored (HTML, text, or the workbench page), or None
    when there is none (and for "page", also for a row built before migration 0014).
    With several time zones built for one date, the first time zone by name."""
    column = _FORMAT_COLUMNS[fmt]  # a column name from the table above, never the caller's text
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT {column} FROM digests WHERE digest_date = %s ORDER BY timezone LIMIT 1", (digest_date,)
        )
        row = cur.fetchone()
    return None if row is None or row[0] is None else str(row[0])


def daily_article_counts(
    conn: Connection,
    start: datetime,
    end: datetime,
    timezone: str,
    *,
    secondary_ratio: float = 0.0,
    secondary_min_score: float = 0.0,
) -> list[tuple[date, str | None, int]]:
    """Articles per local day of [start, end) in `timezone`: (day, None, articles) and, per topic,
    (day, topic_id, articles with that topic). The same articles as the digest counts (processed, not
    a near copy); for the digest chart, which shows articles per day rather than stacked tag counts.

    A topic counts where the digest shows it: an article's primary (strongest) tag, and a secondary
    one only at `secondary_ratio` × the primary's score and `secondary_min_score` or more (the
    digest's threshold), so a chart line and the digest's "By topic" table agree."""
    args = {
        "start": start,
        "end": end,
        "tz": timezone,
        "ratio": secondary_ratio,
        "min_score": secondary_min_score,
    }
    with conn.cursor() as cur:
        cur.execute(
            f"""{_WINDOW_IDS},
                d AS (SELECT id, (first_seen_at AT TIME ZONE %(tz)s)::date AS day FROM w),
                t AS (SELECT t.article_id, t.topic_id, t.score,
                             max(t.score) OVER (PARTITION BY t.article_id) AS top
                        FROM article_topics t WHERE t.article_id IN (SELECT id FROM d))
                SELECT day, NULL, count(*) FROM d GROUP BY day
                UNION ALL
                SELECT d.day, t.topic_id, count(DISTINCT d.id) FROM d
                  JOIN t ON t.article_id = d.id
                 WHERE t.score = t.top OR t.score >= greatest(t.top * %(ratio)s, %(min_score)s)
                 GROUP BY d.day, t.topic_id
                ORDER BY 1, 2 NULLS FIRST""",
            args,
        )
        return [(row[0], row[1], int(row[2])) for row in cur.fetchall()]
