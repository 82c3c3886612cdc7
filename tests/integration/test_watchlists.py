"""Watch-lists: an analyst's saved words or entities; new matching articles become hits at once and
reach a real SMTP server (aiosmtpd) at most once per watch-list per interval."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from dbrows import rows
from monitor import pipeline
from monitor.analyze import Models
from monitor.cli import main
from monitor.digest.mail import send_message
from monitor.errors import InputError
from monitor.models import FeedItem
from monitor.settings import Settings
from monitor.store import articles, watchlists
from monitor.store.db import Connection
from ports import free_port

RANSOMWARE = (
    "Ransomware hit the port of {city}; the cyber attack stopped the cranes, officials said. Note {i}."
)
FOOTBALL = "The football club of {city} won the cup final on Sunday in front of a full stadium. Note {i}."


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def drop(db: Connection, settings: Settings, models: Models, texts: list[tuple[str, str]]) -> None:
    """Store and process articles as the inbox would (title, text)."""
    items = [(FeedItem(title=title, raw=text), f"{title}.txt") for title, text in texts]
    articles.insert_items(db, source_id=None, origin="inbox", items=items)
    db.commit()
    pipeline.process_pending(settings, db, models)


@pytest.fixture
def smtp() -> Any:
    from aiosmtpd.controller import Controller

    port = free_port()
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, (lambda msg: send_message(msg, host="127.0.0.1", port=port, timeout=5))
    finally:
        controller.stop()


def test_hits_are_recorded_and_mailed_once_per_interval(
    db: Connection, settings: Settings, models: Models, smtp: Any
) -> None:
    box, transport = smtp
    start = datetime.now(UTC) - timedelta(minutes=1)
    watchlists.add(db, "ports", query="ransomware port", interval_minutes=60, since=start)
    drop(db, settings, models, [("Port attack 1", RANSOMWARE.format(city="Klaipeda", i=1)),
                                ("Cup final", FOOTBALL.format(city="Astana", i=1))])  # fmt: skip
    now = datetime.now(UTC) + timedelta(seconds=1)
    first = pipeline.check_watchlists(
        settings, db, transport=transport, recipients=["desk@example.org"], now=now
    )
    assert (first.new_hits, first.mails, first.mailed_hits) == (1, 1, 1)
    [mail] = box.messages
    assert mail["To"] == "desk@example.org"
    assert "watch-list ports: 1 new" in mail["Subject"]
    body = mail.get_content()
    assert "Port attack 1" in body and "Cup final" not in body

    # More matching news within the hour: recorded at once, mailed later, never twice.
    drop(db, settings, models, [("Port attack 2", RANSOMWARE.format(city="Gdansk", i=2)),
                                ("Port attack 3", RANSOMWARE.format(city="Riga", i=3))])  # fmt: skip
    soon = datetime.now(UTC) + timedelta(minutes=5)
    second = pipeline.check_watchlists(
        settings, db, transport=transport, recipients=["desk@example.org"], now=soon
    )
    assert (second.new_hits, second.mails, second.waiting) == (2, 0, {"ports": 2})
    assert len(box.messages) == 1
    hits = rows(
        db,
        """SELECT a.title, h.mailed_at IS NOT NULL
             FROM watch_hits h JOIN articles a ON a.id = h.article_id ORDER BY a.title""",
    )
    assert hits == [("Port attack 1", True), ("Port attack 2", False), ("Port attack 3", False)]

    later = soon + timedelta(minutes=61)
    third = pipeline.check_watchlists(
        settings, db, transport=transport, recipients=["desk@example.org"], now=later
    )
    assert (third.new_hits, third.mails, third.mailed_hits) == (0, 1, 2)
    assert len(box.messages) == 2
    body = box.messages[1].get_content()
    assert "Port attack 2" in body and "Port attack 3" in body and "Port attack 1" not in body

    # Checked again (the look-back re-reads the last hour): nothing new, nothing mailed.
    fourth = pipeline.check_watchlists(
        settings, db, transport=transport, recipients=["desk@example.org"], now=later + timedelta(hours=2)
    )
    assert (fourth.new_hits, fourth.mails) == (0, 0) and len(box.messages) == 2


def test_entity_watchlist_and_own_recipients(
    db: Connection, settings: Settings, models: Models, smtp: Any
) -> None:
    box, transport = smtp
    drop(
        db, settings, models, [("Before", "Lithuania's port of Klaipeda was hit by ransomware, police said.")]
    )
    country = rows(db, "SELECT entity_id FROM article_entities WHERE entity_id = 'LT'")
    assert country == [("LT",)]
    # Articles processed before the watch-list existed are what search is for: not hits.
    watchlists.add(db, "lithuania", entity_ids=["LT"], recipients=["baltic@example.org"], interval_minutes=30)
    drop(
        db,
        settings,
        models,
        [("After", "Police in Vilnius, Lithuania, arrested two smugglers at the border.")],
    )
    report = pipeline.check_watchlists(
        settings,
        db,
        transport=transport,
        recipients=["desk@example.org"],
        now=datetime.now(UTC) + timedelta(seconds=1),
    )
    assert (report.new_hits, report.mails) == (1, 1)
    assert box.messages[0]["To"] == "baltic@example.org"
    assert "After" in box.messages[0].get_content() and "Before" not in box.messages[0].get_content()


def test_without_mail_hits_still_recorded(db: Connection, settings: Settings, models: Models) -> None:
    watchlists.add(db, "ports", query="ransomware", since=datetime.now(UTC) - timedelta(minutes=1))
    drop(db, settings, models, [("Port attack", RANSOMWARE.format(city="Klaipeda", i=1))])
    r = pipeline.check_watchlists(
        settings, db, transport=None, recipients=[], now=datetime.now(UTC) + timedelta(seconds=1)
    )
    assert (r.new_hits, r.mails) == (1, 0)
    assert len(watchlists.unmailed(db, watchlists.list_all(db)[0].id)) == 1


def test_bad_definitions_are_clear_errors(db: Connection) -> None:
    with pytest.raises(InputError, match="give search words, entity ids, or both"):
        watchlists.add(db, "empty")
    with pytest.raises(InputError, match=r"unknown entity id.*org:nowhere"):
        watchlists.add(db, "ghost", entity_ids=["org:nowhere"])
    with pytest.raises(InputError, match="at least 1 minute"):
        watchlists.add(db, "fast", query="bomb", interval_minutes=0)
    assert watchlists.list_all(db) == []


def test_cli_add_list_check_remove(
    db: Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", settings.database_url or "")
    monkeypatch.delenv("MONITOR_SMTP_URL", raising=False)
    assert main(["watch", "add", "ports", "--query", "ransomware port", "--interval", "15"]) == 0
    assert "at most one mail every 15 min" in capsys.readouterr().out
    assert main(["watch", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ports" in listing and "ransomware port" in listing
    assert main(["watch", "check"]) == 0
    assert "nothing mailed" in capsys.readouterr().out
    assert main(["watch", "remove", "ports"]) == 0
    assert main(["watch", "remove", "ports"]) != 0
    assert "no watch-list with that name" in capsys.readouterr().err


def test_the_watchlists_page_shows_hits_and_lets_analysts_edit(
    db: Connection, settings: Settings, models: Models, database_url: str
) -> None:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient

    from monitor.web.app import create_app

    app = create_app(lambda: database_url, get_user)
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="alice", role="user")
    client = TestClient(app)
    same_site = {"Origin": "http://testserver"}
    answer = client.post(
        "/watchlists",
        data={"name": "ports", "query": "ransomware port", "interval": "30"},
        headers=same_site,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    [watch] = watchlists.list_all(db)
    stored = (watch.name, watch.query, watch.interval_minutes, watch.created_by)
    assert stored == ("ports", "ransomware port", 30, "alice")

    drop(db, settings, models, [("Port attack 1", RANSOMWARE.format(city="Klaipeda", i=1))])
    pipeline.check_watchlists(
        settings, db, transport=None, recipients=[], now=datetime.now(UTC) + timedelta(seconds=1)
    )
    page = client.get("/watchlists").text
    assert "Port attack 1" in page and "1 new" in page

    # A bad definition: the store's clear error on the page, nothing stored.
    bad = client.post("/watchlists", data={"name": "ghost", "entities": "org:nowhere"}, headers=same_site)
    assert bad.status_code == 400 and "unknown entity id(s) org:nowhere" in bad.text
    # A viewer may read but not change; another site may not post.
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="val", role="viewer")
    assert client.post(f"/watchlists/{watch.id}/remove", headers=same_site).status_code == 403
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="alice", role="user")
    assert (
        client.post(f"/watchlists/{watch.id}/remove", headers={"Origin": "http://evil.example"}).status_code
        == 403
    )
    assert [w.name for w in watchlists.list_all(db)] == ["ports"]
    gone = client.post(f"/watchlists/{watch.id}/remove", headers=same_site, follow_redirects=False)
    assert gone.status_code == 303 and watchlists.list_all(db) == []
