"""An analyst corrects an article in headless Chromium, through a real `airflow api-server`: logged in
to Airflow (role admin), they reject a topic on the article page, and the page they come back to shows
it rejected. The server is the one `test_airflow_ui.py` starts (its fixture, imported)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from test_airflow_ui import PASSWORD, USER, airflow_ui  # noqa: F401 - the api-server fixture

from browsing import assert_nothing_ran_or_left, requested_urls
from monitor.store.db import Connection

pytestmark = pytest.mark.slow


def test_an_analyst_rejects_a_topic_on_the_article_page(
    browser: WebDriver,
    airflow_ui: str,  # noqa: F811 - the fixture imported above
    hostile_article: int,
    db: Connection,
) -> None:
    wait = WebDriverWait(browser, 60)
    browser.delete_all_cookies()
    requested_urls(browser)
    browser.get(airflow_ui)
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    page = f"{airflow_ui}/security-monitor/articles/{hostile_article}"
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
