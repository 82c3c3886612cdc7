"""The monitor inside Airflow's own UI, in headless Chromium: an analyst logs in to Airflow, sees the
monitor's DAGs, and opens the monitor's pages (a plugin of Airflow's api-server, behind its login)
from Airflow's navigation.

A real `airflow api-server` runs with this project's plugins folder over the tests' Airflow database
(the DAGs serialized into it as the dag-processor would) and the `monitor_db` connection pointing at
the test database.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg2.extensions
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from browsing import assert_nothing_ran_or_left, requested_urls, waiting
from ports import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAGS = ("monitor_ingest_feeds", "monitor_ingest_inbox", "monitor_process", "monitor_daily_digest")
USER, PASSWORD = "analyst", secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def airflow_ui(airflow_db: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`airflow api-server` on a free port of 127.0.0.1; yields its base URL."""
    home = tmp_path_factory.mktemp("airflow-ui")
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dsn = psycopg2.extensions.parse_dsn(database_url)
    from airflow.configuration import conf

    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__UNIT_TEST_MODE"}
    env.update(
        {
            # The key the DAG tests wrote the Airflow database with (asset triggers are encrypted).
            "AIRFLOW__CORE__FERNET_KEY": conf.get("core", "fernet_key"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW_CONN_MONITOR_DB": json.dumps(
                {
                    "conn_type": "postgres",
                    "host": dsn.get("host", ""),
                    "port": int(dsn["port"]) if dsn.get("port") else None,
                    "login": dsn.get("user"),
                    "password": dsn.get("password"),
                    "schema": dsn["dbname"],
                }
            ),
        }
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    # What the dag-processor would have stored: the DAG list comes from the serialized DAGs.
    done = subprocess.run([airflow, "dags", "reserialize"], env=env, capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"airflow dags reserialize failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    log_path = home / "api-server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"airflow api-server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_an_analyst_logs_in_to_airflow_and_reads_the_monitor_from_its_navigation(
    browser: WebDriver, airflow_ui: str, hostile_article: int
) -> None:
    wait = waiting(browser, 60)
    browser.delete_all_cookies()
    requested_urls(browser)
    # The monitor's pages are behind Airflow's login: without it, no data.
    browser.get(f"{airflow_ui}/security-monitor/digests")
    assert "Security digests" not in browser.find_element(By.TAG_NAME, "body").text

    browser.get(airflow_ui)
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    browser.get(f"{airflow_ui}/dags")
    wait.until(lambda d: all(dag in d.find_element(By.TAG_NAME, "body").text for dag in DAGS))

    # Airflow's navigation shows the monitor's page in a frame of its own UI.
    browser.get(f"{airflow_ui}/plugin/security-digests")
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[src*='security-monitor']")))
    browser.switch_to.frame(frame)
    try:
        today = datetime.now(UTC).date().isoformat()
        wait.until(ec.presence_of_element_located((By.LINK_TEXT, today))).click()
        wait.until(lambda d: "Gunmen attack border post <img" in d.find_element(By.TAG_NAME, "body").text)
        assert "Terrorism" in browser.find_element(By.TAG_NAME, "body").text
    finally:
        browser.switch_to.default_content()

    # The workbench's other pages are in Airflow's navigation too, each in its frame.
    for route, page in (
        ("security-stories", "stories"),
        ("security-trends", "trends"),
        ("security-feeds", "feeds"),
    ):
        browser.get(f"{airflow_ui}/plugin/{route}")
        wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, f"iframe[src$='security-monitor/{page}']"))
        )
    browser.get(f"{airflow_ui}/security-monitor/feeds")
    assert "monitor_ingest_feeds" in browser.find_element(By.TAG_NAME, "body").text  # a logged-in admin

    browser.get(f"{airflow_ui}/security-monitor/articles/{hostile_article}")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Gunmen attacked a border post overnight, killing two border guards" in text
    assert_nothing_ran_or_left(browser, airflow_ui)
