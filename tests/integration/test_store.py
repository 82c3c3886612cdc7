"""The store layer against a real PostgreSQL: migrations, idempotent ingest, feed state."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import DatabaseError
from monitor.models import FeedItem
from monitor.store import articles, sources
from monitor.store.db import Connection, applied_migrations, migrate

REPO = Path(__file__).resolve().parents[2]


def _count(db: Connection, sql: str) -> int:
    with db.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def test_migrations_are_recorded_and_not_reapplied(db: Connection) -> None:
    assert applied_migrations(db) == sorted(p.name for p in (REPO / "sql").glob("[0-9]*.sql"))
    assert migrate(db, REPO / "sql") == []


def test_an_edited_applied_migration_is_refused(db: Connection, tmp_path: Path) -> None:
    folder = tmp_path / "sql"
    shutil.copytree(REPO / "sql", folder)
    first = sorted(folder.glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(DatabaseError, match="was changed after it was applied"):
        migrate(db, folder)


def _item(title: str, url: str | None = None, guid: str | None = None, raw: str = "Body text.") -> FeedItem:
    return FeedItem(title=title, raw=raw, url=url, guid=guid)


def test_ingest_is_idempotent_and_duplicates_become_sightings(db: Connection) -> None:
    feed = sources.add_feed(db, "https://example.org/feed.xml", "Example", 30)
    items = [
        (_item("One", url="https://example.org/a?utm_source=rss", raw="First story."), "ref-a"),
        (_item("Two", url="https://example.org/b", raw="Second story."), "ref-b"),
    ]
    first = articles.insert_items(db, source_id=feed.id, origin="feed", items=items)
    again = articles.insert_items(db, source_id=feed.id, origin="feed", items=items)
    db.commit()
    assert (first.new, first.duplicate) == (2, 0)
    assert (again.new, again.duplicate) == (0, 2)
    assert _count(db, "SELECT count(*) FROM articles") == 2
    # The same re-delivery (same ref) adds no sighting either: running a step twice adds nothing.
    assert _count(db, "SELECT count(*) FROM article_sightings") == 2

    # The same article behind a tracking-free URL, seen through another channel, is one article.
    other = articles.insert_items(
        db,
        source_id=None,
        origin="inbox",
        items=[(_item("One (newsletter)", url="http://EXAMPLE.org/a#top", raw="Other body."), "mail.txt")],
    )
    db.commit()
    assert (other.new, other.duplicate) == (0, 1)
    with db.cursor() as cur:
        cur.execute("SELECT matched_on, origin_ref FROM article_sightings WHERE matched_on <> 'first'")
        assert cur.fetchall() == [("url", "mail.txt")]


def test_same_content_under_another_name_is_a_duplicate(db: Connection) -> None:
    text = "Border guards seized 40 kg of heroin.\n\nThe smugglers fled."
    a = articles.insert_items(
        db, source_id=None, origin="inbox", items=[(_item("Seizure", raw=text), "a.txt")]
    )
    # Reformatted whitespace and case: the raw fingerprint ignores them.
    b = articles.insert_items(
        db,
        source_id=None,
        origin="inbox",
        items=[(_item("SEIZURE", raw=text.replace("\n\n", "  ")), "b.txt")],
    )
    db.commit()
    assert (a.new, b.new, b.duplicate) == (1, 0, 1)
    assert _count(db, "SELECT count(*) FROM articles") == 1


def test_fetch_errors_back_off_exponentially_and_reset_on_success(db: Connection) -> None:
    feed = sources.add_feed(db, "https://dead.example/feed", "Dead", 10)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    expected_minutes = [20, 40, 80, 160, 320, 640, 1280, 1440, 1440]  # capped at a day
    for minutes in expected_minutes:
        failed = sources.FetchOutcome("error", 500, error="HTTP 500")
        sources.record_fetch(db, feed, failed, now=now, duration_ms=5, max_backoff_minutes=1440)
        feed = next(s for s in sources.list_sources(db) if s.id == feed.id)
        assert feed.next_fetch_at - now == timedelta(minutes=minutes)
    assert feed.error_count == len(expected_minutes)
    assert sources.due_feeds(db, now) == []
    ok = sources.FetchOutcome("ok", 200, '"v2"', "Sun, 01 Nov 2026 11:00:00 GMT", items_seen=3, items_new=3)
    sources.record_fetch(db, feed, ok, now=now, duration_ms=5, max_backoff_minutes=1440)
    feed = next(s for s in sources.list_sources(db) if s.id == feed.id)
    assert (feed.error_count, feed.last_error, feed.etag) == (0, None, '"v2"')
    assert feed.next_fetch_at - now == timedelta(minutes=10)
    # A server that says "Retry-After: 2 hours" is not asked again before then.
    limited = sources.FetchOutcome("error", 429, error="HTTP 429", retry_after_s=7200)
    sources.record_fetch(db, feed, limited, now=now, duration_ms=5, max_backoff_minutes=1440)
    feed = next(s for s in sources.list_sources(db) if s.id == feed.id)
    assert feed.next_fetch_at - now == timedelta(hours=2)
    assert _count(db, "SELECT count(*) FROM fetch_log") == len(expected_minutes) + 2


def test_two_claimers_never_get_the_same_feed(db: Connection, database_url: str) -> None:
    import psycopg2

    for i in range(6):
        sources.add_feed(db, f"https://example.org/{i}.xml", f"feed {i}", 15)
    now = datetime.now(UTC)
    other = psycopg2.connect(database_url)
    try:
        first = sources.claim_due_feeds(db, now, lease_minutes=10, limit=4)  # transaction left open
        second = sources.claim_due_feeds(other, now, lease_minutes=10)
        other.commit()
        db.commit()
        # The rows the first claimer holds are skipped, not waited for; together they cover every feed once.
        assert len(first) == 4 and len(second) == 2
        assert not {s.id for s in first} & {s.id for s in second}
        # Leased: nothing is due again until the lease ends.
        assert sources.claim_due_feeds(db, now, lease_minutes=10) == []
        assert len(sources.claim_due_feeds(db, now + timedelta(minutes=11), lease_minutes=10)) == 6
    finally:
        other.close()


def test_copy_rows_keeps_every_awkward_value_exactly(db: Connection) -> None:
    from datetime import UTC, datetime

    from monitor.store.db import copy_rows

    rows = [
        (1, "tab\there, newline\nthere, return\rand a backslash \\N \\. \\\\", b"\x00\x01\\\xff", None, True),
        (2, "\\", b"", datetime(2026, 11, 27, 12, 30, tzinfo=UTC), False),
        (3, "", None, None, None),
        (4, "Ünïcödé — ‘quotes’ 中文 \u2028 line separator", bytes(range(256)), None, True),
    ]
    with db.cursor() as cur:
        cur.execute("CREATE TEMP TABLE awkward (id int, t text, b bytea, at timestamptz, flag boolean)")
        copy_rows(cur, "awkward", ("id", "t", "b", "at", "flag"), rows)
        cur.execute("SELECT id, t, b, at, flag FROM awkward ORDER BY id")
        back = [(i, t, bytes(b) if b is not None else None, at, flag) for i, t, b, at, flag in cur.fetchall()]
    db.rollback()
    assert back == rows
