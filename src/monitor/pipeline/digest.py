"""Use case: build the digest of a day (stored, written to files) and mail the stored digest once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.analyze import Models
from monitor.digest.build import Digest, build_digest, digest_window
from monitor.digest.mail import CHART_CID, build_digest_message
from monitor.digest.render import digest_subject, render_html, render_text
from monitor.errors import ConfigError
from monitor.pipeline.trends import day_counts, detect_spikes, topic_history_png, topic_labels
from monitor.settings import Settings
from monitor.store import digests as digest_store
from monitor.store.db import Connection

# Untagged articles listed by title at the end of a digest; the rest are counted ("… and N more").
_DIGEST_OTHER_LIMIT = 50


def default_digest_date(settings: Settings, now: datetime | None = None) -> date:
    """Yesterday in the configured time zone: the last complete day."""
    now = now or datetime.now(UTC)
    return (now.astimezone(ZoneInfo(settings.timezone)) - timedelta(days=1)).date()


@dataclass
class DigestResult:
    day: date
    articles: int
    subject: str
    html_path: Path
    text_path: Path
    html: str
    text: str
    digest: Digest


def build_daily_digest(settings: Settings, conn: Connection, models: Models, day: date) -> DigestResult:
    """Build, store and write the digest of `day`. A pure function of the database and the date.

    Stored with it is the e-mail's HTML (the same digest with the chart's inline image referenced
    when there is something to chart), so that sending mails exactly what was built.
    """
    start, end = digest_window(day, settings.timezone)
    window, articles = digest_store.read_window(
        conn, start, end, per_topic=settings.digest_max_per_topic, other_limit=_DIGEST_OTHER_LIMIT
    )
    labels = topic_labels(models)
    counts = day_counts(settings, conn, day, labels, window)
    spikes = detect_spikes(settings, conn, day, labels, counts)
    digest = build_digest(
        articles,
        date=day,
        tz=settings.timezone,
        taxonomy_labels=labels,
        max_per_topic=settings.digest_max_per_topic,
        spikes=spikes,
        counts=counts,
    )
    html, text, subject = render_html(digest), render_text(digest), digest_subject(digest)
    # The chart only when there is something to chart; the mail's HTML references it exactly then.
    mail_html = render_html(digest, chart_cid=CHART_CID) if digest.by_topic else html
    digest_store.save_digest(
        conn,
        {
            "digest_date": day,
            "timezone": settings.timezone,
            "window_start": start,
            "window_end": end,
            "article_count": counts.total,
            "subject": subject,
            "html": html,
            "text": text,
            "mail_html": mail_html,
        },
    )
    conn.commit()
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    html_path = settings.out_dir / f"digest-{day.isoformat()}.html"
    text_path = settings.out_dir / f"digest-{day.isoformat()}.txt"
    html_path.write_text(html, encoding="utf-8")
    text_path.write_text(text, encoding="utf-8")
    return DigestResult(day, counts.total, subject, html_path, text_path, html, text, digest)


@dataclass
class SendResult:
    day: date
    sent: bool
    reason: str
    subject: str
    articles: int


def send_daily_digest(
    settings: Settings,
    conn: Connection,
    models: Models,
    day: date,
    *,
    transport: Callable[[EmailMessage], None],
    recipients: Sequence[str],
    force: bool = False,
) -> SendResult:
    """Mail the stored digest of `day` once: a date already sent is skipped unless `force`.

    What is mailed is what was built and stored (subject, text, e-mail HTML), never a second build: a
    digest never built, or built before the e-mail HTML was stored with it, is built first. The
    chart is drawn from the stored daily counts.

    The digest row is locked (FOR UPDATE) while sending, so two senders at once (a retry racing a
    manual run) serialise and the second sees `sent_at`. A crash after the SMTP server accepted the
    message but before the commit can still send twice: SMTP offers no way to make that atomic, and
    sending twice was preferred over never sending.
    """
    if not recipients:
        raise ConfigError("no digest recipients: set MONITOR_DIGEST_RECIPIENTS (or the Airflow Variable)")
    stored = digest_store.lock_for_sending(conn, day, settings.timezone)
    if stored is None or stored.mail_html is None:
        conn.rollback()
        build_daily_digest(settings, conn, models, day)
        stored = digest_store.lock_for_sending(conn, day, settings.timezone)
        assert stored is not None and stored.mail_html is not None  # just built, in this transaction's view
    if stored.sent_at is not None and not force:
        conn.commit()
        reason = f"already sent at {stored.sent_at.isoformat(timespec='seconds')}"
        return SendResult(day, False, reason, stored.subject, stored.article_count)
    chart = None
    if f"cid:{CHART_CID}" in stored.mail_html:
        chart = topic_history_png(settings, conn, topic_labels(models), day)
    msg = build_digest_message(
        subject=stored.subject,
        html=stored.mail_html,
        text=stored.text,
        sender=settings.mail_from,
        recipients=list(recipients),
        chart_png=chart,
        chart_cid=CHART_CID,
    )
    try:
        transport(msg)
    except BaseException:
        conn.rollback()  # releases the row lock; nothing was recorded, so a retry sends
        raise
    digest_store.mark_sent(conn, day, settings.timezone, ", ".join(recipients))
    conn.commit()
    return SendResult(day, True, f"sent to {', '.join(recipients)}", stored.subject, stored.article_count)
