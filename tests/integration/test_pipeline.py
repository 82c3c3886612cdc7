"""The use cases end to end on a real PostgreSQL: inbox, feeds over a local HTTP server, processing."""

from __future__ import annotations

import gc
import json
import weakref
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dbrows import rows
from httpserver import Route, serve
from monitor import pipeline
from monitor.analyze import Models
from monitor.settings import Settings
from monitor.store import sources
from monitor.store.db import Connection

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = FIXTURES / "golden"


def rss(items: list[tuple[str, str, str]], title: str = "Test Wire") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate><description>{d}</description></item>"
        for t, link, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://wire.example/</link><description>x</description>{body}</channel></rss>"
    ).encode()


SECURITY_ITEMS = [
    (
        "Suicide bomber kills 12 at checkpoint",
        "https://wire.example/a?utm_source=rss",
        "&lt;p&gt;A suicide bomber detonated explosives at a police checkpoint, killing 12 people. "
        "The Islamic State claimed the terrorist attack.&lt;/p&gt;",
    ),
    (
        "Border guards seize heroin",
        "https://wire.example/b",
        "&lt;p&gt;Border guards seized 300 kg of heroin smuggled by a drug trafficking gang.&lt;/p&gt;",
    ),
]


# ---------------------------------------------------------------------------------------------- inbox


def test_inbox_files_are_ingested_moved_and_bad_ones_rejected_with_reasons(
    db: Connection, settings: Settings
) -> None:
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True)
    (inbox / "workshop.txt").write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    (inbox / "briefs.jsonl").write_text(
        json.dumps({"title": "Cyber attack on ministry", "text": "Hackers breached the ministry network."})
        + "\n[1, 2, 3]\n"
        + json.dumps({"title": "Militants ambush convoy", "text": "Insurgents ambushed an army convoy."})
        + "\n",
        encoding="utf-8",
    )
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with open(inbox / "huge.txt", "wb") as huge:  # 50 MB, sparse: the size check comes before any read
        huge.truncate(50 * 1024 * 1024)

    report = pipeline.ingest_inbox(settings, db)

    assert (report.files, report.new, report.rejected) == (5, 3, 3)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["briefs.jsonl", "workshop.txt"]
    rejected = sorted(p.name for p in (inbox / "rejected").iterdir())
    assert rejected == sorted(
        [
            "empty.txt",
            "empty.txt.reason.txt",
            "huge.txt",
            "huge.txt.reason.txt",
            "photo.txt",
            "photo.txt.reason.txt",
        ]
    )
    assert "too large" in (inbox / "rejected" / "huge.txt.reason.txt").read_text()
    reasons = dict(rows(db, "SELECT ref, reason FROM rejects WHERE severity = 'rejected'"))
    assert set(reasons) == {"empty.txt", "photo.txt", "huge.txt"}
    assert "empty" in reasons["empty.txt"].lower()
    assert "binary" in reasons["photo.txt"].lower()
    # The bad JSON line is recorded as a warning naming the file and the line, the others went in.
    warnings = [r[0] for r in rows(db, "SELECT reason FROM rejects WHERE severity = 'warning'")]
    assert any("line 2" in w for w in warnings), warnings
    titles = sorted(r[0] for r in rows(db, "SELECT title FROM articles"))
    assert titles == sorted(
        [
            "Regional Counter-Terrorism Workshop Opens In Bishkek",
            "Cyber attack on ministry",
            "Militants ambush convoy",
        ]
    )
    # Raw input is kept verbatim.
    raw = rows(db, "SELECT raw, source_name FROM articles WHERE origin_ref = 'workshop.txt'")
    assert raw[0][1] == "Regional desk"
    assert "Kamchybek Tashiev" in raw[0][0]

    # The same content again, under another name: a duplicate, not a second article.
    (inbox / "workshop-copy.txt").write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    again = pipeline.ingest_inbox(settings, db)
    assert (again.new, again.duplicate) == (0, 1)
    assert rows(db, "SELECT count(*) FROM articles") == [(3,)]
    assert rows(db, "SELECT origin_ref, matched_on FROM article_sightings WHERE matched_on <> 'first'") == [
        ("workshop-copy.txt", "raw_hash")
    ]


def test_mis_encoded_text_is_recovered_with_a_warning(db: Connection, settings: Settings) -> None:
    settings.inbox_dir.mkdir(parents=True)
    text = "Взрыв в Москве\n\nВ результате теракта в метро погибли люди. Полиция ищет организаторов взрыва.\n"
    (settings.inbox_dir / "moscow.txt").write_bytes(text.encode("cp1251"))
    report = pipeline.ingest_inbox(settings, db)
    assert report.new == 1
    assert rows(db, "SELECT title FROM articles") == [("Взрыв в Москве",)]
    warnings = [r[0] for r in rows(db, "SELECT reason FROM rejects WHERE severity = 'warning'")]
    assert any("UTF-8" in w for w in warnings), warnings


# ---------------------------------------------------------------------------------------------- feeds


def test_feeds_conditional_get_errors_and_backoff(db: Connection, settings: Settings) -> None:
    body = rss(SECURITY_ITEMS)

    def good(headers: dict[str, str]) -> Route:
        if headers.get("if-none-match") == '"v1"':
            return Route(status=304)
        return Route(body=body, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    good_route = Route(respond=good)
    routes = {
        "/good.xml": good_route,
        "/gone.xml": Route(status=404, body=b"not here"),
        "/broken.xml": Route(status=500, body=b"oops"),
        "/slow.xml": Route(delay=3.0, body=body),
        "/html.xml": Route(
            body=b"<html><body><p>Not a feed</p></body></html>", headers={"Content-Type": "text/html"}
        ),
    }
    with serve(routes) as base:
        for path in routes:
            sources.add_feed(db, base + path, path, 15)
        now = datetime.now(UTC)
        report = pipeline.ingest_due_feeds(settings, db, now=now)
        assert (report.feeds, report.ok, report.failed, report.new) == (5, 1, 4, 2)

        state = {s.name: s for s in sources.list_sources(db)}
        assert state["/good.xml"].etag == '"v1"'
        assert state["/good.xml"].error_count == 0
        for bad in ("/gone.xml", "/broken.xml", "/slow.xml", "/html.xml"):
            assert state[bad].error_count == 1, bad
            assert state[bad].last_error
            # Backed off: twice the 15-minute interval.
            assert state[bad].next_fetch_at - now == timedelta(minutes=30), bad
        assert state["/gone.xml"].last_status == 404
        assert "404" in state["/gone.xml"].last_error
        assert "timed out" in state["/slow.xml"].last_error

        # Poll again later: the good feed answers 304 to our validators; nothing new is stored.
        later = now + timedelta(hours=1)
        again = pipeline.ingest_due_feeds(settings, db, now=later)
        assert again.not_modified == 1
        assert good_route.requests[-1].get("if-none-match") == '"v1"'
        assert good_route.requests[-1]["user-agent"].startswith("security-media-monitor")
    outcomes = rows(db, "SELECT outcome, count(*) FROM fetch_log GROUP BY outcome ORDER BY outcome")
    assert outcomes == [("error", 8), ("not_modified", 1), ("ok", 1)]
    assert rows(db, "SELECT count(*) FROM articles") == [(2,)]


def test_file_feed_and_duplicate_items_across_feeds(
    db: Connection, settings: Settings, tmp_path: Path
) -> None:
    first = tmp_path / "first.xml"
    first.write_bytes(rss(SECURITY_ITEMS, "First"))
    # The second feed carries the first item again under a URL with other tracking parameters.
    second = tmp_path / "second.xml"
    second.write_bytes(
        rss(
            [
                (
                    SECURITY_ITEMS[0][0],
                    "https://wire.example/a?utm_medium=social&amp;fbclid=x",
                    SECURITY_ITEMS[0][2],
                )
            ],
            "Second",
        )
    )
    sources.add_feed(db, first.as_uri(), "First", 30)
    sources.add_feed(db, second.as_uri(), "Second", 30)
    report = pipeline.ingest_due_feeds(settings, db)
    assert (report.ok, report.new, report.duplicate) == (2, 2, 1)
    assert rows(db, "SELECT matched_on FROM article_sightings WHERE matched_on <> 'first'") == [("url",)]


# -------------------------------------------------------------------------------------------- process


def test_processing_classifies_tags_and_is_idempotent(
    db: Connection,
    settings: Settings,
    tmp_path: Path,
    models: Models,
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(
        rss(
            [
                *SECURITY_ITEMS,
                (
                    "Striker scores twice",
                    "https://wire.example/c",
                    "The striker shot past the keeper in a fine attacking display.",
                ),
            ]
        )
    )
    sources.add_feed(db, feed.as_uri(), "Wire", 30)
    pipeline.ingest_due_feeds(settings, db)
    report = pipeline.process_pending(replace(settings, batch_size=2), db, models)
    assert (report.processed, report.failed, report.batches) == (3, 0, 2)

    topics = rows(
        db,
        """SELECT a.title, t.topic_id, t.evidence FROM article_topics t
                          JOIN articles a ON a.id = t.article_id ORDER BY a.id, t.topic_id""",
    )
    by_title: dict[str, set[str]] = {}
    for title, topic, evidence in topics:
        by_title.setdefault(title, set()).add(topic)
        assert evidence and all(e["count"] >= 1 and e["term"] for e in evidence)
    assert "terrorism" in by_title["Suicide bomber kills 12 at checkpoint"]
    assert "organised_crime" in by_title["Border guards seize heroin"]
    assert "Striker scores twice" not in by_title
    clean = rows(
        db, "SELECT clean_text, language, status FROM articles WHERE url = %s", ("https://wire.example/b",)
    )
    assert clean[0][0].startswith("Border guards seized 300 kg")  # markup gone, entities decoded
    assert clean[0][1:] == ("en", "processed")
    assert any(
        r[0] == "org:isis" or "Islamic State" in r[1] for r in rows(db, "SELECT id, name FROM entities")
    )

    before = rows(db, "SELECT count(*) FROM article_topics")
    again = pipeline.process_pending(settings, db, models)
    assert again.processed == 0
    assert rows(db, "SELECT count(*) FROM article_topics") == before


class _Cyclic:
    """An object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.me = self


def test_processing_runs_leave_the_callers_cyclic_garbage_collectable(
    db: Connection,
    settings: Settings,
    tmp_path: Path,
    models: Models,
) -> None:
    # A long-running caller (the benchmark, a loop of runs) leaves garbage in cycles between runs, as
    # story assignment does. Each run used to freeze everything alive, which made that garbage
    # permanent: ~120 MB more per run.
    sources.add_feed(db, (tmp_path / "feed.xml").as_uri(), "Wire", 30)
    leaked = []
    for n, item in enumerate(SECURITY_ITEMS):
        (tmp_path / "feed.xml").write_bytes(rss([item]))
        with db.cursor() as cur:
            cur.execute("UPDATE sources SET next_fetch_at = now() - interval '1 minute'")
        db.commit()
        pipeline.ingest_due_feeds(settings, db)
        garbage = _Cyclic()
        leaked.append(weakref.ref(garbage))
        del garbage
        assert pipeline.process_pending(settings, db, models).processed == 1, n
    gc.collect()
    assert [ref() for ref in leaked] == [None, None]


def test_same_text_under_another_headline_is_marked_duplicate(
    db: Connection, settings: Settings, models: Models
) -> None:
    settings.inbox_dir.mkdir(parents=True)
    body = (GOLDEN / "bishkek_workshop.txt").read_text(encoding="utf-8").split("\n", 1)[1]
    (settings.inbox_dir / "a.txt").write_text("Workshop in Bishkek\n" + body, encoding="utf-8")
    (settings.inbox_dir / "b.txt").write_text(
        "Central Asian experts meet on terrorism\n" + body, encoding="utf-8"
    )
    assert pipeline.ingest_inbox(settings, db).new == 2
    report = pipeline.process_pending(settings, db, models)
    assert (report.processed, report.duplicates) == (1, 1)
    status = rows(db, "SELECT origin_ref, status, duplicate_of FROM articles ORDER BY id")
    assert status[0][1] == "processed"
    assert status[1][1:] == ("duplicate", 1)
    assert rows(db, "SELECT count(DISTINCT article_id) FROM article_topics") == [(1,)]


# ----------------------------------------------------------------------------------------- full text

ARTICLE_PAGE = (
    "<html><head><title>Militants storm border post</title><script>var tracking = 1;</script></head>"
    "<body><nav><a href='/'>Home</a> | <a href='/world'>World</a> | Subscribe now</nav>"
    "<article><h1>Militants storm border post</h1>"
    + "".join(
        f"<p>Paragraph {i}: militants armed with rifles attacked the border post at dawn, and the "
        f"garrison returned fire for several hours before reinforcements arrived from the district.</p>"
        for i in range(6)
    )
    + "</article><footer>Copyright Example News. All rights reserved.</footer></body></html>"
).encode()


def test_summary_only_feed_gets_the_full_article_text(
    db: Connection, settings: Settings, models: Models
) -> None:
    def feed(base: str) -> bytes:
        return rss(
            [
                ("Militants storm border post", f"{base}/news/border-post", "Short summary: post attacked."),
                ("Gone story", f"{base}/news/gone", "Summary of a page that no longer exists."),
                ("Teaser only", f"{base}/news/teaser", "Summary longer than the teaser page it links to."),
            ]
        )

    routes: dict[str, Route] = {
        "/news/border-post": Route(body=ARTICLE_PAGE, headers={"Content-Type": "text/html; charset=utf-8"}),
        "/news/teaser": Route(
            body=b"<html><body><p>Subscribe to read.</p></body></html>", headers={"Content-Type": "text/html"}
        ),
    }
    with serve(routes) as base:
        routes["/feed.xml"] = Route(body=feed(base), headers={"Content-Type": "application/rss+xml"})
        sources.add_feed(db, base + "/feed.xml", "Summaries", 30, full_text=True)
        report = pipeline.ingest_due_feeds(settings, db)
        assert report.new == 3
        assert any("gone" in p and "kept the summary" in p for p in report.problems)
        assert any("teaser" in p and "no article text" in p for p in report.problems)
        # Polled again: pages of stored articles are not fetched a second time.
        with db.cursor() as cur:
            cur.execute("UPDATE sources SET next_fetch_at = now() - interval '1 minute'")
        db.commit()
        pipeline.ingest_due_feeds(settings, db)
        assert len(routes["/news/border-post"].requests) == 1

    stored = {r[0]: r[1:] for r in rows(db, "SELECT title, raw_format, summary FROM articles")}
    assert stored["Militants storm border post"] == ("page", "Short summary: post attacked.")
    assert stored["Gone story"][0] == "html" and stored["Teaser only"][0] == "html"
    pipeline.process_pending(settings, db, models)
    (text,) = rows(db, "SELECT clean_text FROM articles WHERE raw_format = 'page'")[0]
    assert "Paragraph 5: militants armed with rifles" in text
    assert "Subscribe now" not in text and "All rights reserved" not in text and "tracking" not in text


def test_a_page_is_extracted_once_and_its_text_handed_from_ingest_to_processing(
    db: Connection, settings: Settings, models: Models
) -> None:
    """Ingestion must extract an inbox page's main text (to accept the page); it keeps that text, and
    processing stores it instead of running trafilatura again. It is what extracting the stored raw
    gives, so reprocessing from raw changes nothing."""
    from monitor.analyze import clean

    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "article.html").write_bytes((FIXTURES / "pages" / "article.html").read_bytes())
    pipeline.ingest_inbox(settings, db)
    ((raw, handed),) = rows(db, "SELECT raw, ingest_text FROM articles")
    assert handed and "arrested eleven suspects on Thursday" in handed
    assert handed == clean(raw, "page")
    assert pipeline.process_pending(settings, db, models).processed == 1
    assert rows(db, "SELECT clean_text = %s, ingest_text IS NULL FROM articles", (handed,)) == [(True, True)]
