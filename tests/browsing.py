"""What a UI test checks on any page a browser shows: nothing a source or a query wrote ran, fetched
anything or navigated away."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

# What the page may contain only if a stranger's markup got through as markup.
ACTIVE = ", ".join(
    [
        *("script", "iframe", "object", "embed", "svg", "form", "base", "meta[http-equiv]"),
        *("link[rel=stylesheet]", "[onerror]", "[onload]", "[onmouseover]", "a[href^='javascript:']"),
    ]
)


def waiting(driver: WebDriver, seconds: float) -> WebDriverWait[WebDriver]:
    """A wait that polls again when the page is replaced under it: after a click that submits a form,
    an element found on the old page goes stale (or is not there yet) while the new one loads, and a
    plain WebDriverWait raises on the first such poll instead of waiting (a CI failure on a slow
    machine: the watch-list test read the old page's body as the POST's answer replaced it)."""
    return WebDriverWait(
        driver, seconds, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    )


def requested_urls(driver: WebDriver) -> list[str]:
    """Every URL the browser asked for since the last call (the log is drained when read)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def assert_nothing_ran_or_left(driver: WebDriver, site: str) -> None:
    assert driver.title != "PWNED", driver.title
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - reading it is how an open alert shows
    assert urlsplit(driver.current_url).netloc == urlsplit(site).netloc, driver.current_url
    # The search form and the corrections' forms are the monitor's own; anything else on the list came
    # from a source or a query.
    active = driver.execute_script(
        """return Array.from(document.querySelectorAll(arguments[0]))
                  .filter(e => !e.matches("form[action='search'], section#feedback form"))
                  .map(e => e.outerHTML.slice(0, 80))""",
        ACTIVE,
    )
    assert active == [], active
    # blob: URLs of the same origin are the page's own objects (Airflow's UI makes some).
    own = (site, f"blob:{site}", "data:", "about:")
    elsewhere = [u for u in requested_urls(driver) if not u.startswith(own)]
    assert elsewhere == [], elsewhere
