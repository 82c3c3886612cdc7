"""The digest's first run and its previews: an empty day is never mailed (and says why), a day not
yet over is mailed only as a preview that is never recorded as sent, and a digest asked for without a
date is about the latest complete day that has articles. Real PostgreSQL; the clock is passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from dbrows import rows
from monitor import pipeline
from monitor.analyze import Models
from monitor.models import FeedItem
from monitor.settings import Settings
from monitor.store import articles
from monitor.store.db import Connection

DAY = date(2026, 3, 10)  # the test settings' time zone is UTC
BOMBING = "A car bomb exploded in {city}; the terrorist attack killed {n} people, police said. Report {i}."


def add(db: Connection, n: int, seen: datetime, prefix: str) -> None:
    items = [
        (
            FeedItem(title=f"{prefix} {i}", raw=BOMBING.format(city="Kabul", n=i + 2, i=f"{prefix}{i}")),
            f"{prefix}{i}",
        )
        for i in range(n)
    ]
    articles.insert_items(db, source_id=None, origin="inbox", items=items, seen_at=seen)
    db.commit()


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Outbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def __call__(self, msg: EmailMessage) -> None:
        self.messages.append(msg)


def send(settings: Settings, db: Connection, models: Models, outbox: Outbox, now: datetime, **kw: bool):  # type: ignore[no-untyped-def]
    return pipeline.send_daily_digest(
        settings, db, models, DAY, transport=outbox, recipients=["desk@example.org"], now=now, **kw
    )


def test_a_digest_of_an_empty_day_is_stored_but_never_mailed_and_says_why(
    db: Connection, settings: Settings, models: Models
) -> None:
    """The first `make up`: the 06:00 run digests yesterday, before any article arrived."""
    outbox = Outbox()
    result = send(settings, db, models, outbox, at(DAY + timedelta(days=1), 6))
    assert (result.sent, result.reason, result.articles) == (False, "no articles in the window", 0)
    forced = send(settings, db, models, outbox, at(DAY + timedelta(days=1), 7), force=True)
    assert (forced.sent, forced.reason) == (False, "no articles in the window")  # not even forced
    assert outbox.messages == []
    # Stored (the digests page shows it) with the reason, and not marked as sent.
    assert rows(db, "SELECT article_count, sent_at, unsent_reason FROM digests") == [
        (0, None, "no articles in the window")
    ]


def test_a_preview_of_today_is_mailed_but_not_recorded_so_the_full_digest_follows(
    db: Connection, settings: Settings, models: Models
) -> None:
    outbox = Outbox()
    add(db, 3, at(DAY, 8), "morning")
    pipeline.process_pending(settings, db, models)

    # Asked for at 15:00 the same day: a preview, mailed, marked as one, and not recorded as sent.
    built = pipeline.build_daily_digest(settings, db, models, DAY, now=at(DAY, 15))
    assert built.preview and built.subject.startswith(
        f"Security digest {DAY.isoformat()} (preview): 3 articles"
    )
    preview = send(settings, db, models, outbox, at(DAY, 15))
    assert preview.sent and preview.preview and "not recorded as sent" in preview.reason
    assert [m["Subject"] for m in outbox.messages] == [built.subject]
    assert rows(db, "SELECT sent_at, preview FROM digests") == [(None, True)]

    # More arrives in the evening; the next morning's send mails the full day (rebuilt, since the
    # stored digest is the afternoon's preview) and records it.
    add(db, 2, at(DAY, 20), "evening")
    pipeline.process_pending(settings, db, models)
    full = send(settings, db, models, outbox, at(DAY + timedelta(days=1), 6))
    assert full.sent and not full.preview and full.articles == 5
    subject = str(outbox.messages[-1]["Subject"])
    assert subject.startswith(f"Security digest {DAY.isoformat()}: 5 articles")
    assert "preview" not in subject
    ((sent_at, is_preview, reason),) = rows(db, "SELECT sent_at, preview, unsent_reason FROM digests")
    assert sent_at is not None and not is_preview and reason is None
    # ...once.
    again = send(settings, db, models, outbox, at(DAY + timedelta(days=1), 7))
    assert not again.sent and again.reason.startswith("already sent")
    assert len(outbox.messages) == 2


def test_without_a_date_the_digest_is_of_the_latest_complete_day_with_articles(
    db: Connection, settings: Settings
) -> None:
    now = at(DAY, 10)
    # Nothing at all: yesterday.
    assert pipeline.latest_complete_day(settings, db, now=now) == DAY - timedelta(days=1)
    # Only today has articles (the samples of a fresh `make up`): today, a preview.
    add(db, 2, at(DAY, 9), "today")
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET status = 'processed'")
    db.commit()
    assert pipeline.latest_complete_day(settings, db, now=now) == DAY
    assert pipeline.is_preview(settings, DAY, now=now)
    # Articles three days ago too (an imported archive): the older day, the latest that is over and
    # has articles; yesterday is empty, and today is not over.
    add(db, 2, at(DAY - timedelta(days=3), 12), "archive")
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET status = 'processed'")
    db.commit()
    assert pipeline.latest_complete_day(settings, db, now=now) == DAY - timedelta(days=3)
    # An article yesterday late in the evening makes yesterday the latest complete day.
    add(db, 1, at(DAY, 0) - timedelta(minutes=5), "late")
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET status = 'processed'")
    db.commit()
    assert pipeline.latest_complete_day(settings, db, now=now) == DAY - timedelta(days=1)
