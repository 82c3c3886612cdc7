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
