"""The monitor's pages in a real browser (headless Chromium from Debian's package), as an analyst uses
them: from the digest list to a digest, a search typed into the form, an article page. The articles
come from a feed that tries every way a stranger's markup could run script, fetch something or leave
the page; the browser must do none of it.

The app is served by uvicorn on 127.0.0.1 over the test database. Airflow's login is replaced by a
fixed user here (tests/integration/test_web.py shows the pages refuse anyone not logged in). Chromium
resolves no host but 127.0.0.1, so an attempt to reach another is recorded, never sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import uvicorn
from airflow.api_fastapi.core_api.security import get_user
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from browsing import assert_nothing_ran_or_left, requested_urls, waiting
from monitor.store.db import Connection
from monitor.web.app import create_app
from ports import free_port


@pytest.fixture
def site(database_url: str) -> Iterator[str]:
    """The monitor's app on a free port of 127.0.0.1; yields its base URL."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    app = create_app(lambda: database_url, get_user)
    # An operator: the feeds page's forms are for operators.
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="analyst", role="op")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_from_the_digest_list_to_the_days_digest(browser: WebDriver, site: str, hostile_article: int) -> None:
    requested_urls(browser)
    browser.get(f"{site}/digests")
    assert "1 processed, 0 waiting" in browser.find_element(By.TAG_NAME, "body").text
    today = datetime.now(UTC).date().isoformat()
    browser.find_element(By.LINK_TEXT, today).click()
    waiting(browser, 10).until(ec.url_contains(f"/digests/{today}"))
    body = browser.find_element(By.TAG_NAME, "body").text
    # The headline as the source wrote it, markup and all, shown as text.
    assert "Gunmen attack border post <img src=x onerror=\"document.title='PWNED'\">" in body
    assert "Terrorism" in body
    assert_nothing_ran_or_left(browser, site)


def test_search_typed_into_the_form_then_the_article_page(
    browser: WebDriver, site: str, hostile_article: int
) -> None:
    requested_urls(browser)
    browser.get(f"{site}/search")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("border guards", Keys.ENTER)
    waiting(browser, 10).until(ec.url_contains("q=border+guards"))
    assert "1 result" in browser.find_element(By.TAG_NAME, "body").text
    link = browser.find_element(By.CSS_SELECTOR, f"a[href='articles/{hostile_article}']")
    assert link.text.startswith("Gunmen attack border post <img")
    link.click()
    waiting(browser, 10).until(ec.url_contains(f"/articles/{hostile_article}"))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Gunmen attacked a border post overnight, killing two border guards" in text
    # The evidence is marked in the clean text; the source's own formatting is one click away.
    assert browser.find_element(By.TAG_NAME, "mark")
    browser.find_element(By.TAG_NAME, "summary").click()
    # The source's own formatting survives sanitising; its links stay, made inert where needed.
    assert browser.find_element(By.XPATH, "//b[text()='attacked']")
    statement = browser.find_element(By.LINK_TEXT, "ministry statement")
    assert statement.get_attribute("href") == "https://wire.example/statement"
    assert set((statement.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    browser.find_element(By.TAG_NAME, "p").click()  # the mouse over what carried onmouseover
    assert_nothing_ran_or_left(browser, site)


def test_a_hostile_query_is_shown_as_typed_and_runs_nothing(
    browser: WebDriver, site: str, hostile_article: int
) -> None:
    requested_urls(browser)
    browser.get(f"{site}/search")
    typed = '<img src=https://track.example/q.gif onerror="document.title=\'PWNED\'"> "unbalanced'
    browser.find_element(By.NAME, "q").send_keys(typed, Keys.ENTER)
    waiting(browser, 10).until(ec.url_contains("q="))
    assert browser.find_element(By.NAME, "q").get_attribute("value") == typed
    assert "0 results" in browser.find_element(By.TAG_NAME, "body").text
    assert_nothing_ran_or_left(browser, site)


def test_search_with_a_filter_then_the_story_from_the_article(
    browser: WebDriver, site: str, sudan_story: tuple[int, int]
) -> None:
    story, copy = sudan_story
    requested_urls(browser)
    browser.get(f"{site}/search")
    Select(browser.find_element(By.NAME, "source")).select_by_visible_text("Other Wire")
    browser.find_element(By.NAME, "q").send_keys("ceasefire", Keys.ENTER)
    waiting(browser, 10).until(ec.url_contains("q=ceasefire"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "1 result" in body and "Jeddah talks on Sudan ceasefire restart" in body
    assert "Sudan ceasefire talks resume in Jeddah" not in body  # the other source's article
    assert browser.find_element(By.CSS_SELECTOR, ".snippet mark").text.lower() == "ceasefire"
    browser.find_element(By.CSS_SELECTOR, f"a[href='articles/{copy}']").click()
    waiting(browser, 10).until(ec.url_contains(f"/articles/{copy}"))
    browser.find_element(By.PARTIAL_LINK_TEXT, "story of 2 articles from 2 sources").click()
    waiting(browser, 10).until(ec.url_contains(f"/stories/{story}"))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Story of 2 articles from 2 sources" in text
    assert "Sample Security Wire ×1" in text and "Other Wire ×1" in text
    browser.find_element(By.LINK_TEXT, "Trends").click()  # the navigation from a page one level down
    waiting(browser, 10).until(ec.url_to_be(f"{site}/trends"))
    assert_nothing_ran_or_left(browser, site)


def test_an_operator_adds_a_feed_on_the_feeds_page(browser: WebDriver, site: str, db: Connection) -> None:
    browser.get(f"{site}/feeds")
    form = browser.find_element(By.ID, "add-feed")
    form.find_element(By.NAME, "url").send_keys("ftp://feeds.example/x.xml")
    form.find_element(By.NAME, "name").send_keys("World desk")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    waiting(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.error")))
    error = browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert "feed URLs must start with http://, https://" in error
    url = browser.find_element(By.CSS_SELECTOR, "#add-feed input[name=url]")
    url.clear()
    url.send_keys("https://feeds.example/world.xml")
    browser.find_element(By.CSS_SELECTOR, "#add-feed button[type=submit]").click()
    waiting(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.done")))
    assert "added feed" in browser.find_element(By.CSS_SELECTOR, "p.done").text
    assert "https://feeds.example/world.xml" in browser.find_element(By.TAG_NAME, "body").text
    with db.cursor() as cur:
        cur.execute(
            "SELECT name, interval_minutes FROM sources WHERE url = 'https://feeds.example/world.xml'"
        )
        assert cur.fetchall() == [("World desk", 30)]
    db.commit()
