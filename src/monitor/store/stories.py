"""Story assignment state: which processed articles still need a story, and the stories table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg2.extras

from monitor.store.db import Connection

# Story assignment depends on arrival order, so only one process may do it at a time.
_STORY_LOCK = 7_311_043


@dataclass(frozen=True)
class StoryRow:
    id: int
    title: str
    text: str
    seen_at: datetime
    source: str
    signature: bytes | None
    entity_ids: list[str]
    story_id: int | None
    near_duplicate_of: int | None
    language: str | None = None
    topic_ids: tuple[str, ...] = ()  # what a story in another language is compared by


def try_lock(conn: Connection) -> bool:
    """Take the story lock for this session (until `unlock`, or until the connection ends); False
    when another process holds it."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (_STORY_LOCK,))
        row = cur.fetchone()
        return bool(row and row[0])


def unlock(conn: Connection) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", (_STORY_LOCK,))


_ROWS = """
SELECT a.id, a.title, left(coalesce(a.clean_text, ''), 2000), a.first_seen_at,
       coalesce(a.source_name, a.source_id::text, a.origin_ref), a.signature,
       ARRAY(SELECT ae.entity_id FROM article_entities ae WHERE ae.article_id = a.id ORDER BY ae.entity_id),
       a.story_id, a.near_duplicate_of, a.language,
       ARRAY(SELECT t.topic_id FROM article_topics t WHERE t.article_id = a.id ORDER BY t.topic_id)
  FROM articles a
 WHERE a.status = 'processed' AND {where}
 ORDER BY a.first_seen_at, a.id
"""


def _rows(conn: Connection, where: str, args: tuple) -> Iterator[StoryRow]:
    # A named (server-side) cursor streams the rows: a warm-up reads days of articles.
    with conn.cursor(name="story_rows") as cur:
        cur.itersize = 2000
        cur.execute(_ROWS.format(where=where), args)
        for r in cur:
            yield StoryRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                bytes(r[5]) if r[5] is not None else None,
                list(r[6]),
                r[7],
                r[8],
                r[9],
                tuple(r[10]),
            )


def unassigned(conn: Connection, limit: int) -> list[StoryRow]:
    """Processed articles without a story, oldest first (the order assignment must follow)."""
    where = """a.id IN (SELECT id FROM articles WHERE status = 'processed' AND story_id IS NULL
                          ORDER BY first_seen_at, id LIMIT %s)"""
    return list(_rows(conn, where, (limit,)))


def assigned_since(conn: Connection, start: datetime) -> Iterator[StoryRow]:
    """Articles already in stories, seen since `start`, in assignment order: they warm the story index
    of a new run (those seen after the articles it assigns too: a late article joins them)."""
    return _rows(conn, "a.story_id IS NOT NULL AND a.first_seen_at >= %s", (start,))


@dataclass(frozen=True)
class SignatureRow:
    id: int
    seen_at: datetime
    signature: bytes
    near_duplicate_of: int | None
    copy_mask: bytes | None


def signatures_since(conn: Connection, start: datetime) -> Iterator[SignatureRow]:
    """Signatures of the articles already in stories, seen since `start`, in assignment order: they warm
    the near-duplicate index of a new run (its window is longer than the stories', and needs no text)."""
    with conn.cursor(name="story_signatures") as cur:
        cur.itersize = 5000
        cur.execute(
            """SELECT id, first_seen_at, signature, near_duplicate_of, near_copy_mask FROM articles
                WHERE status = 'processed' AND story_id IS NOT NULL AND signature IS NOT NULL
                  AND first_seen_at >= %s
                ORDER BY first_seen_at, id""",
            (start,),
        )
        for r in cur:
            yield SignatureRow(r[0], r[1], bytes(r[2]), r[3], bytes(r[4]) if r[4] is not None else None)


def save_assignments(conn: Connection, rows: Sequence[tuple[int, int, int | None, bytes | None]]) -> None:
    """(article id, story id, near-duplicate-of id, copy mask) for each newly assigned article."""
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur,
            """UPDATE articles a
                  SET story_id = v.story_id, near_duplicate_of = v.near, near_copy_mask = v.mask
                 FROM (VALUES %s) AS v (id, story_id, near, mask) WHERE a.id = v.id""",
            [(i, s, n, psycopg2.Binary(m) if m is not None else None) for i, s, n, m in rows],
            template="(%s::bigint, %s::bigint, %s::bigint, %s::bytea)",
            page_size=1000,
        )


def refresh_stories(conn: Connection, story_ids: Sequence[int]) -> None:
    """Recompute the summary rows of these stories from their articles (idempotent)."""
    if not story_ids:
        return
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO stories (id, title, first_seen, last_seen, article_count, source_count)
               SELECT a.story_id,
                      (array_agg(a.title ORDER BY a.first_seen_at, a.id))[1],
                      min(a.first_seen_at), max(a.first_seen_at), count(*),
                      count(DISTINCT coalesce(a.source_name, a.source_id::text, a.origin_ref))
                 FROM articles a WHERE a.story_id = ANY(%s) AND a.status = 'processed'
                GROUP BY a.story_id
               ON CONFLICT (id) DO UPDATE
                  SET title = EXCLUDED.title, first_seen = EXCLUDED.first_seen,
                      last_seen = EXCLUDED.last_seen, article_count = EXCLUDED.article_count,
                      source_count = EXCLUDED.source_count""",
            (sorted(set(story_ids)),),
        )
