"""Look at the running Airflow UI (`make up`) the way a user would, in headless Chromium.

Logs in with the admin login `make up` printed, opens the DAG list and each monitor DAG's runs, and
saves screenshots under out/ui/. Prints what it saw. Needs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

DAGS = ("monitor_ingest_feeds", "monitor_ingest_inbox", "monitor_process", "monitor_daily_digest")


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # The flags the machine notes recommend: no sandbox as root, and no background traffic to the
    # outside network, which this machine does not reach.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", type=Path, default=Path("out/ui"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    driver = browser()
    wait = WebDriverWait(driver, 30)
    try:
        driver.get(args.url)
        wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(args.user)
        driver.find_element(By.NAME, "password").send_keys(args.password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # The login page stores the token and redirects; only then is the UI ours to navigate.
        wait.until(lambda d: "/auth/login" not in d.current_url)
        driver.get(f"{args.url}/dags")
        wait.until(lambda d: all(dag in d.page_source for dag in DAGS))
        time.sleep(2)  # let the run-state badges render
        driver.save_screenshot(str(args.out / "dags.png"))
        body = driver.find_element(By.TAG_NAME, "body").text
        print("DAG list:", ", ".join(d for d in DAGS if d in body))
        for dag in DAGS:
            driver.get(f"{args.url}/dags/{dag}/runs")
            time.sleep(3)
            driver.save_screenshot(str(args.out / f"{dag}-runs.png"))
            text = driver.find_element(By.TAG_NAME, "body").text
            low = text.lower()
            states = {s: low.count(s) for s in ("success", "failed", "running", "queued") if s in low}
            print(f"{dag}: runs page states {states}")
        # The monitor's own pages (plugin), behind the same login: every page of the navigation.
        pages = ["digests", "search?q=terrorism", "stories", "trends", "feeds", "quality", "watchlists"]
        for page in pages:
            driver.get(f"{args.url}/security-monitor/{page}")
            time.sleep(2)
            name = page.split("?")[0]
            driver.save_screenshot(str(args.out / f"monitor-{name}.png"))
            lines = driver.find_element(By.TAG_NAME, "body").text.splitlines()
            print(f"/security-monitor/{page}: " + " | ".join(lines[:6]))
        # The newest digest's page (chart inlined, titles linking to the article pages) and the
        # first story's page.
        for listing, link, name in (
            ("digests", "a[href^='digests/']", "digest"),
            ("stories", "a[href^='stories/']", "story"),
        ):
            driver.get(f"{args.url}/security-monitor/{listing}")
            time.sleep(1)
            found = driver.find_elements(By.CSS_SELECTOR, link)
            if not found:
                print(f"/security-monitor/{listing}: no {name} to open")
                continue
            found[0].click()
            time.sleep(2)
            driver.set_window_size(1400, 3000)
            driver.save_screenshot(str(args.out / f"monitor-{name}.png"))
            driver.set_window_size(1400, 900)
            lines = driver.find_element(By.TAG_NAME, "body").text.splitlines()
            print(f"{driver.current_url.split(args.url)[-1]}: " + " | ".join(lines[:6]))
        # The first search result opens the article page (sanitised text, topics with evidence).
        driver.get(f"{args.url}/security-monitor/search?q=terrorism")
        links = driver.find_elements(By.CSS_SELECTOR, 'a[href^="articles/"]')
        if links:
            links[0].click()
            time.sleep(2)
            driver.save_screenshot(str(args.out / "monitor-article.png"))
            lines = driver.find_element(By.TAG_NAME, "body").text.splitlines()
            print(f"{driver.current_url.split(args.url)[-1]}: " + " | ".join(lines[:6]))
            print(f"  scripts on the page: {len(driver.find_elements(By.TAG_NAME, 'script'))}")
    finally:
        driver.quit()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
