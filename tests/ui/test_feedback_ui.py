"""An analyst corrects an article in headless Chromium, through a real `airflow api-server`: logged in
to Airflow (role admin), they reject a topic on the article page, and the page they come back to shows
it rejected, and the next digest page does not give the article that topic; they save a
watch-list and see its alert when matching news is processed. The server is the one
`test_airflow_ui.py` starts (its fixture, imported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from test_airflow_ui import PASSWORD, USER, airflow_ui  # noqa: F401 - the api-server fixture

from browsing import assert_nothing_ran_or_left, requested_urls, waiting
from monitor import pipeline
from monitor.analyze import Models
from monitor.models import FeedItem
from monitor.settings import Settings
from monitor.store import articles
from monitor.store.db import Connection

pytestmark = pytest.mark.slow


def _digest_topics_of(browser: WebDriver, base: str, article_id: int) -> str:
    """The 'Topics:' line of the article's block on today's digest page ('' when it has none)."""
    today = datetime.now(UTC).date().isoformat()
    browser.get(f"{base}/security-monitor/digests/{today}")
    link = waiting(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f"a[href='../articles/{article_id}']"))
    )
    block = link.find_element(By.XPATH, "./ancestor::td[1]").text
    return next((line for line in block.splitlines() if line.startswith("Topics:")), "")


def test_an_analyst_rejects_a_topic_on_the_article_page(
    browser: WebDriver,
    airflow_ui: str,  # noqa: F811 - the fixture imported above
    hostile_article: int,
    db: Connection,
    settings: Settings,
    models: Models,
) -> None:
    wait = waiting(browser, 60)
    browser.delete_all_cookies()
    requested_urls(browser)
    browser.get(airflow_ui)
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    page = f"{airflow_ui}/security-monitor/articles/{hostile_article}"
    browser.get(page)
    before = _digest_topics_of(browser, airflow_ui, hostile_article)
    assert before.startswith("Topics: ")
    browser.get(page)
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#feedback tr[id^='topic-']")))
    topic_id = row.get_attribute("id").removeprefix("topic-")
    label = row.find_element(By.TAG_NAME, "td").text
    assert "from the rules" in row.text
    row.find_element(By.XPATH, ".//button[text()='Reject']").click()

    wait.until(lambda d: f"rejected by {USER}" in d.find_element(By.ID, "feedback").text)
    assert browser.current_url == f"{page}#feedback"
    rejected = browser.find_element(By.CSS_SELECTOR, f"#feedback tr.rejected#topic-{topic_id}")
    assert rejected.find_element(By.TAG_NAME, "s").text == label
    assert f"Latest: {USER} rejected topic {label}" in browser.find_element(By.ID, "feedback").text
    with db.cursor() as cur:
        cur.execute("SELECT kind, topic_id, user_name, user_role FROM corrections")
        assert cur.fetchall() == [("topic_reject", topic_id, USER, "admin")]
        cur.execute(
            "SELECT 1 FROM article_topics WHERE article_id = %s AND topic_id = %s",
            (hostile_article, topic_id),
        )
        assert cur.fetchone() is None
    db.commit()
    assert_nothing_ran_or_left(browser, airflow_ui)
    # The next digest no longer gives the article that topic (it showed it before the correction).
    assert f"{label} " in before
    pipeline.build_daily_digest(settings, db, models, datetime.now(UTC).date())
    assert f"{label} " not in _digest_topics_of(browser, airflow_ui, hostile_article)


def test_an_analyst_saves_a_watchlist_and_sees_its_alert(
    browser: WebDriver,
    airflow_ui: str,  # noqa: F811 - the fixture imported above
    db: Connection,
    settings: Settings,
    models: Models,
) -> None:
    wait = waiting(browser, 60)
    browser.delete_all_cookies()
    browser.get(airflow_ui)
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    page = f"{airflow_ui}/security-monitor/watchlists"
    browser.get(page)
    form = wait.until(ec.presence_of_element_located((By.ID, "add-watchlist")))
    form.find_element(By.NAME, "name").send_keys("baltic ports")
    form.find_element(By.NAME, "query").send_keys("ransomware port")
    form.find_element(By.NAME, "interval").clear()
    form.find_element(By.NAME, "interval").send_keys("30")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.staleness_of(form))  # the POST's answer has replaced the page
    wait.until(lambda d: "baltic ports" in d.find_element(By.TAG_NAME, "body").text)
    assert "No hit yet" in browser.find_element(By.TAG_NAME, "body").text

    # News arrives and the process DAG's watch step runs: the page shows the alert.
    text = "Ransomware stopped the cranes at the port of Klaipeda on Monday, the port authority said."
    item = FeedItem(title="Klaipeda port hit", raw=text)
    articles.insert_items(db, source_id=None, origin="inbox", items=[(item, "k.txt")])
    db.commit()
    pipeline.process_pending(settings, db, models)
    report = pipeline.check_watchlists(
        settings, db, transport=None, recipients=[], now=datetime.now(UTC) + timedelta(seconds=1)
    )
    assert report.new_hits == 1
    browser.get(page)
    section = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.watch")))
    assert "1 new" in section.text and "Klaipeda port hit" in section.text
    section.find_element(By.LINK_TEXT, "Klaipeda port hit").click()
    wait.until(lambda d: "/security-monitor/articles/" in d.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Klaipeda port hit"
