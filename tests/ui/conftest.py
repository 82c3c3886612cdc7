"""Headless Chromium (Debian's package) and a hostile feed's article, for the UI tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from monitor import pipeline
from monitor.analyze import Models
from monitor.settings import Settings
from monitor.store import sources
from monitor.store.db import Connection

HOSTILE_FEED = Path(__file__).resolve().parents[1] / "fixtures" / "ui" / "hostile_wire.xml"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing = "Debian's chromium and chromium-driver are not installed (make test installs them as root)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing + ": sudo apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # Every host but the test server resolves to nothing: an attempt shows in the log below and
        # never leaves the machine.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def hostile_article(db: Connection, settings: Settings, tmp_path: Path, models: Models) -> int:
    """The hostile feed ingested and processed, and today's digest built; the article's id."""
    feed = tmp_path / "wire.xml"
    feed.write_bytes(HOSTILE_FEED.read_bytes())
    sources.add_feed(db, feed.as_uri(), "Wire", 30)
    pipeline.ingest_due_feeds(settings, db)
    assert pipeline.process_pending(settings, db, models).processed == 1
    pipeline.build_daily_digest(settings, db, models, datetime.now(UTC).date())
    with db.cursor() as cur:
        cur.execute("SELECT id FROM articles")
        ((article_id,),) = cur.fetchall()
    db.commit()
    return article_id


SAMPLE_FEED = Path(__file__).resolve().parents[2] / "src" / "monitor" / "samples" / "feed.xml"


@pytest.fixture
def sudan_story(db: Connection, settings: Settings, tmp_path: Path, models: Models) -> tuple[int, int]:
    """The sample feed, then another outlet's copy of its Sudan item in other words at the top:
    processed and put into stories. (story id, the copy's article id)."""
    sources.add_feed(db, SAMPLE_FEED.as_uri(), "Sample Security Wire", 30)
    pipeline.ingest_due_feeds(settings, db)
    sample = SAMPLE_FEED.read_text(encoding="utf-8")
    item = sample[sample.index("<item>") : sample.index("</item>") + len("</item>")]
    item = (
        item.replace("Sudan ceasefire talks resume in Jeddah", "Jeddah talks on Sudan ceasefire restart")
        .replace("sw-2026-1101", "other-1")
        .replace("https://example.org/wire/", "https://other.example/")
        .replace("<![CDATA[", "<![CDATA[<p>From our correspondent.</p>", 1)
    )
    other = tmp_path / "other.xml"
    other.write_text(f"<rss version='2.0'><channel><title>Other</title>{item}</channel></rss>", "utf-8")
    sources.add_feed(db, other.as_uri(), "Other Wire", 30)
    pipeline.ingest_due_feeds(settings, db)
    pipeline.process_pending(settings, db, models)
    pipeline.assign_stories(settings, db)
    with db.cursor() as cur:
        cur.execute("SELECT story_id, id FROM articles WHERE title LIKE 'Jeddah talks%'")
        ((story, copy),) = cur.fetchall()
    db.commit()
    return story, copy
