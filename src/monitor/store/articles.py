"""Articles: ingest (idempotent insert + sightings), claiming pending work, and processing results."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from monitor.dedupe.fingerprints import canonical_url, text_fingerprint
from monitor.models import FeedItem, ProcessedArticle
from monitor.store import corrections
from monitor.store.db import Connection, copy_rows


@dataclass(frozen=True)
class IngestCounts:
    new: int = 0
    duplicate: int = 0

    def __add__(self, other: IngestCounts) -> IngestCounts:
        return IngestCounts(self.new + other.new, self.duplicate + other.duplicate)


# Rows per INSERT statement: large enough to amortise round trips, small enough for one feed poll.
_INSERT_PAGE = 500
# Columns of the COPY-staged batches (insert_items, save_processed).
_INCOMING_COLUMNS = (
    "n",
    "source_id",
    "origin",
    "origin_ref",
    "guid",
    "url",
    "canonical_url",
    "title",
    "raw",
    "raw_format",
    "source_name",
    "author",
    "declared_language",
    "published_at",
    "first_seen_at",
    "raw_hash",
    "summary",
    "ingest_text",
)
_BATCH_COLUMNS = (
    "id",
    "status",
    "duplicate_of",
    "clean_text",
    "language",
    "content_hash",
    "taxonomy_version",
    "signature",
    "display_html",
)
_TOPIC_COLUMNS = ("article_id", "topic_id", "label", "score", "evidence", "taxonomy_version")
_LINK_COLUMNS = ("article_id", "entity_id", "count", "mentions", "title")


def insert_items(
    conn: Connection,
    *,
    source_id: int | None,
    origin: str,
    items: Iterable[tuple[FeedItem, str]],
    seen_at: datetime | None = None,
) -> IngestCounts:
    """Store each (item, origin_ref) verbatim unless it is already known; a known one becomes a sighting.

    The caller commits. Idempotent: the same items again add no article and no sighting. Statements go
    in pages of rows, not one per item: a feed poll is mostly items seen before.
    """
    rows = []
    for item, origin_ref in items:
        curl = canonical_url(item.url) or canonical_url(item.guid)
        rows.append((item, origin_ref, curl, text_fingerprint(item.title, item.raw)))
    new = duplicate = 0
    with conn.cursor() as cur:
        for page in range(0, len(rows), _INSERT_PAGE):
            part = rows[page : page + _INSERT_PAGE]
            # No conflict target: any of the unique indexes (canonical URL, source+GUID, raw hash) makes
            # a row a duplicate, which is exactly the rule we want. Within one statement the first of
            # two equal rows wins, as it would one statement at a time.
            # Staged with COPY (see save_processed), then inserted in arrival order.
            _staging_table(
                cur,
                "incoming_batch",
                """n int, source_id bigint, origin text, origin_ref text, guid text, url text,
                   canonical_url text, title text, raw text, raw_format text, source_name text,
                   author text, declared_language text, published_at timestamptz,
                   first_seen_at timestamptz, raw_hash text, summary text, ingest_text text""",
                external=("raw", "summary", "ingest_text"),
            )
            copy_rows(
                cur,
                "incoming_batch",
                _INCOMING_COLUMNS,
                (
                    (
                        n,
                        source_id,
                        origin,
                        ref,
                        item.guid,
                        item.url,
                        curl,
                        item.title,
                        item.raw,
                        item.raw_format,
                        item.source_name,
                        item.author,
                        item.language,
                        item.published,
                        seen_at,
                        raw_hash,
                        item.summary,
                        item.text,
                    )
                    for n, (item, ref, curl, raw_hash) in enumerate(part)
                ),
            )
            cur.execute(
                """INSERT INTO articles (source_id, origin, origin_ref, guid, url, canonical_url, title, raw,
                                         raw_format, source_name, author, declared_language, published_at,
                                         first_seen_at, raw_hash, summary, ingest_text)
                   SELECT source_id, origin, origin_ref, guid, url, canonical_url, title, raw, raw_format,
                          source_name, author, declared_language, published_at,
                          coalesce(first_seen_at, now()), raw_hash, summary, ingest_text
                     FROM incoming_batch ORDER BY n
                   ON CONFLICT DO NOTHING
                   RETURNING id, origin_ref, raw_hash"""
            )
            inserted = cur.fetchall()
            cur.execute("TRUNCATE incoming_batch")
            fresh = {(ref, raw_hash): article_id for article_id, ref, raw_hash in inserted}
            sightings: list[tuple] = []
            repeats: list[tuple] = []
            for n, (item, ref, curl, raw_hash) in enumerate(part):
                article_id = fresh.pop((ref, raw_hash), None)
                if article_id is not None:
                    new += 1
                    sightings.append((article_id, source_id, ref, "first"))
                else:
                    duplicate += 1
                    repeats.append((n, curl, item.guid, raw_hash, source_id))
            if repeats:
                # Which earlier article each repeat matched, in the order of the strongest identity.
                # No match means a concurrent ingester inserted it and has not committed yet; its own
                # sighting covers the arrival, so there is nothing to add.
                matches = psycopg2.extras.execute_values(
                    cur,
                    """SELECT v.n, m.id, m.matched_on
                         FROM (VALUES %s) AS v (n, curl, guid, raw_hash, src)
                         CROSS JOIN LATERAL (
                             SELECT id, matched_on FROM (
                                 SELECT id, 'url' AS matched_on, 1 AS rank FROM articles
                                  WHERE v.curl IS NOT NULL AND canonical_url = v.curl
                                 UNION ALL
                                 SELECT id, 'guid', 2 FROM articles
                                  WHERE v.guid IS NOT NULL AND source_id = v.src AND guid = v.guid
                                 UNION ALL
                                 SELECT id, 'raw_hash', 3 FROM articles WHERE raw_hash = v.raw_hash
                             ) candidates ORDER BY rank LIMIT 1) m""",
                    repeats,
                    template="(%s::int, %s::text, %s::text, %s::text, %s::bigint)",
                    page_size=_INSERT_PAGE,
                    fetch=True,
                )
                for n, article_id, matched_on in matches:
                    sightings.append((article_id, source_id, part[n][1], matched_on))
            if sightings:
                psycopg2.extras.execute_values(
                    cur,
                    """INSERT INTO article_sightings (article_id, source_id, origin_ref, matched_on)
                       VALUES %s ON CONFLICT DO NOTHING""",
                    sightings,
                    page_size=_INSERT_PAGE,
                )
    return IngestCounts(new, duplicate)


def known_urls(conn: Connection, urls: Sequence[str]) -> set[str]:
    """The canonical forms of `urls` that already belong to a stored article."""
    canon = sorted({c for u in urls if (c := canonical_url(u))})
    if not canon:
        return set()
    with conn.cursor() as cur:
        cur.execute("SELECT canonical_url FROM articles WHERE canonical_url = ANY(%s)", (canon,))
        return {row[0] for row in cur.fetchall()}


@dataclass(frozen=True)
class PendingArticle:
    id: int
    title: str
    raw: str
    raw_format: str
    declared_language: str | None
    ingest_text: str | None = None  # the clean text ingestion already computed (a page's main text)


def claim_pending(conn: Connection, limit: int) -> list[PendingArticle]:
    """Lock up to `limit` new articles for this transaction.

    SKIP LOCKED lets several workers (Celery, parallel tasks) take disjoint batches; a worker that dies
    releases its locks with its connection, so its batch is simply picked up again.
    """
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id, title, raw, raw_format, declared_language, ingest_text FROM articles
               WHERE status = 'new' ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
            (limit,),
        )
        return [PendingArticle(*row) for row in cur.fetchall()]


def count_pending(conn: Connection) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles WHERE status = 'new'")
        row = cur.fetchone()
        return int(row[0]) if row else 0


# Tries of one batch's save when another worker's commit of the same text got in the way.
_SAVE_ATTEMPTS = 3


def save_processed(
    conn: Connection, results: Sequence[tuple[int, ProcessedArticle]], taxonomy_version: str
) -> tuple[int, int]:
    """Write processing results for claimed articles. Returns (processed, duplicates). Caller commits.

    An article whose clean text equals an already processed one is marked duplicate of it (the first
    committed copy wins) and gets no topics or entities of its own. Safe with several workers saving
    at once: a text another worker is saving at the same moment is caught by the unique index on
    processed content, which waits for that commit and refuses; the save is then read and written
    again (from a savepoint, so this transaction keeps its claim locks) and this copy becomes the
    duplicate.
    """
    for attempt in range(_SAVE_ATTEMPTS):
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT save_processed")
        try:
            return _save_processed(conn, results, taxonomy_version)
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.DeadlockDetected):
            with conn.cursor() as cur:
                cur.execute("ROLLBACK TO SAVEPOINT save_processed")
            if attempt == _SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _save_processed(
    conn: Connection, results: Sequence[tuple[int, ProcessedArticle]], taxonomy_version: str
) -> tuple[int, int]:
    processed = duplicates = 0
    with conn.cursor() as cur:
        hashes = sorted({r.content_hash for _, r in results})
        cur.execute(
            """SELECT content_hash, id FROM articles
               WHERE status = 'processed' AND content_hash = ANY(%s)""",
            (hashes,),
        )
        first_by_hash: dict[str, int] = dict(cur.fetchall())
        topic_rows: list[tuple] = []
        entity_rows: dict[str, tuple] = {}
        link_rows: list[tuple] = []
        updates: list[tuple] = []  # one row of the bulk UPDATE below per article
        for article_id, r in sorted(results, key=lambda x: x[0]):
            first = first_by_hash.get(r.content_hash)
            if first is not None and first != article_id:
                duplicates += 1
                updates.append(
                    (
                        article_id,
                        "duplicate",
                        first,
                        r.clean_text,
                        r.language,
                        r.content_hash,
                        None,
                        None,
                        None,
                    )
                )
                continue
            first_by_hash[r.content_hash] = article_id
            processed += 1
            updates.append(
                (
                    article_id,
                    "processed",
                    None,
                    r.clean_text,
                    r.language,
                    r.content_hash,
                    taxonomy_version,
                    r.signature or None,
                    r.display_html,
                )
            )
            for t in r.topics:
                evidence = [e.to_json() for e in t.evidence]
                topic_rows.append(
                    (article_id, t.topic_id, t.label, t.score, json.dumps(evidence), taxonomy_version)
                )
            for e in r.entities:
                entity_rows.setdefault(e.id, (e.id, e.type, e.name, e.country))
                link_rows.append((article_id, e.id, e.count, json.dumps(list(e.mentions)), e.title))
        ids = [u[0] for u in updates]
        if updates:
            # COPY into a session table and one UPDATE from it: a VALUES list of 500 articles' texts
            # cost the server more to parse than to apply (and the client as much to quote).
            _staging_table(
                cur,
                "processed_batch",
                """id bigint, status text, duplicate_of bigint, clean_text text, language text,
                   content_hash text, taxonomy_version text, signature bytea, display_html text""",
                external=("clean_text", "display_html"),
            )
            copy_rows(cur, "processed_batch", _BATCH_COLUMNS, updates)
            cur.execute(
                """UPDATE articles a
                      SET status = v.status, duplicate_of = v.duplicate_of, clean_text = v.clean_text,
                          language = v.language, content_hash = v.content_hash,
                          taxonomy_version = v.taxonomy_version, signature = v.signature,
                          display_html = v.display_html, processed_at = now(), error = NULL,
                          ingest_text = NULL
                     FROM processed_batch v
                    WHERE a.id = v.id"""
            )
            cur.execute("TRUNCATE processed_batch")  # a retry from the savepoint starts empty
        if entity_rows:
            # Upsert relies on entities.id being the primary key; the first name seen for an id stays.
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO entities (id, type, name, country) VALUES %s ON CONFLICT (id) DO NOTHING",
                sorted(entity_rows.values()),
            )
        if ids:
            # Claimed articles are `new`, so they have no topics or entities yet, unless an operator
            # set an article back to `new` to process it again: then its old tags go.
            cur.execute("DELETE FROM article_topics WHERE article_id = ANY(%s)", (ids,))
            cur.execute("DELETE FROM article_entities WHERE article_id = ANY(%s)", (ids,))
        if topic_rows:
            copy_rows(cur, "article_topics", _TOPIC_COLUMNS, topic_rows)
        if link_rows:
            copy_rows(cur, "article_entities", _LINK_COLUMNS, link_rows)
    # Analysts' corrections outlive the rules' rewrite of the tags (one query when there are none).
    corrections.apply(conn, ids)
    return processed, duplicates


def mark_failed(conn: Connection, article_id: int, error: str) -> None:
    """Processing could not handle this article; it stays stored (raw intact) with the reason."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE articles SET status = 'failed', error = %s, processed_at = now() WHERE id = %s",
            (error, article_id),
        )


def topic_counts(conn: Connection) -> dict[str, int]:
    """Articles per topic, most frequent first."""
    with conn.cursor() as cur:
        cur.execute("SELECT topic_id, count(*) FROM article_topics GROUP BY topic_id ORDER BY 2 DESC, 1")
        return {topic: n for topic, n in cur.fetchall()}


def _staging_table(
    cur: psycopg2.extensions.cursor, name: str, columns: str, *, external: tuple[str, ...]
) -> None:
    """A session's temporary staging table for COPY, created once per connection.

    The long text columns are stored EXTERNAL (uncompressed): staged rows live for one statement, so
    compressing them is pure cost. Set with ALTER TABLE rather than in the column list, where
    PostgreSQL accepts STORAGE only from version 16 (15 is still a supported deployment target).
    """
    cur.execute("SELECT to_regclass(%s)", (f"pg_temp.{name}",))
    row = cur.fetchone()
    if row is not None and row[0] is not None:
        return
    cur.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DELETE ROWS")
    for column in external:
        cur.execute(f"ALTER TABLE {name} ALTER COLUMN {column} SET STORAGE EXTERNAL")
