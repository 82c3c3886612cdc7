"""The monitor's pages in the Airflow UI: digests and search, over a real database, behind Airflow's login."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from monitor import pipeline
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
    for path in ("/digests", "/search?q=x", "/digests/2026-11-26"):
        assert client.get(path).status_code == 401, path
    # A forged session cookie is refused too, not taken at its word.
    client.cookies.set("_token", "not-a-jwt")
    assert client.get("/digests").status_code == 403


def test_digests_and_search_for_a_logged_in_user(app, db: Connection, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_user] = lambda: "analyst"  # stands in for a valid Airflow session
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "workshop.txt").write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    pipeline.ingest_inbox(settings, db)
    pipeline.process_pending(settings, db)
    today = datetime.now(UTC).date()
    built = pipeline.build_daily_digest(settings, db, today)
    client = TestClient(app)

    listing = client.get("/digests")
    assert listing.status_code == 200
    assert today.isoformat() in listing.text and "not sent" in listing.text
    assert "1 processed" in listing.text

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
