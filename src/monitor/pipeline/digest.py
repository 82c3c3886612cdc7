"""Use case: build the digest of a day (stored, written to files) and mail the stored digest once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.analyze import Models
from monitor.digest.build import Digest, build_digest, digest_window
from monitor.digest.chart import articles_per_day_png
from monitor.digest.mail import CHART_CID, build_digest_message
from monitor.digest.render import digest_subject, render_html, render_text
from monitor.errors import ConfigError
from monitor.pipeline.trends import CHART_DAYS, day_counts, detect_spikes, topic_labels
from monitor.settings import Settings
from monitor.store import digests as digest_store
from monitor.store.db import Connection

log = logging.getLogger(__name__)

# Untagged articles listed by title at the end of a digest; the rest are counted ("… and N more").
_DIGEST_OTHER_LIMIT = 50


# Why a digest is not mailed. Stable texts: the task log, the send task's result and the digests list
# show them.
EMPTY_WINDOW = "no articles in the window"


def default_digest_date(settings: Settings, now: datetime | None = None) -> date:
    """Yesterday in the configured time zone: the last complete day."""
    now = now or datetime.now(UTC)
    return (now.astimezone(ZoneInfo(settings.timezone)) - timedelta(days=1)).date()


def latest_complete_day(settings: Settings, conn: Connection, now: datetime | None = None) -> date:
    """The day a digest asked for without a date is about: the latest day that is over (in the
    configured time zone) and has articles; when no complete day has any but today has, today (a
    preview: mailed when asked, never recorded as sent); else yesterday (empty, so not mailed). On a
    fresh install yesterday is empty while today holds the first articles, and older days (a
    backfill, an imported archive) may have some: a manual run with its defaults shows the news."""
    now = now or datetime.now(UTC)
    yesterday = default_digest_date(settings, now)
    _, end = digest_window(yesterday, settings.timezone)
    newest = digest_store.latest_article_before(conn, end)
    today_has_articles = newest is None and digest_store.latest_article_before(conn, now) is not None
    conn.commit()
    if newest is None:
        return yesterday + timedelta(days=1) if today_has_articles else yesterday
    return newest.astimezone(ZoneInfo(settings.timezone)).date()


def is_preview(settings: Settings, day: date, now: datetime | None = None) -> bool:
    """A digest of a day not yet over in the configured time zone shows only part of that day."""
    _, end = digest_window(day, settings.timezone)
    return end > (now or datetime.now(UTC))


def _preview_subject(subject: str) -> str:
    """'Security digest 2026-12-03: 3 articles' -> 'Security digest 2026-12-03 (preview): 3 articles'
    (marked next to the date, where a cut subject line still shows it)."""
    head, sep, rest = subject.partition(":")
    return f"{head} (preview){sep}{rest}"


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
    preview: bool = False


def build_daily_digest(
    settings: Settings, conn: Connection, models: Models, day: date, *, now: datetime | None = None
) -> DigestResult:
    """Build, store and write the digest of `day`. A pure function of the database and the date.

    Stored with it is the e-mail's HTML (the same digest with the chart's inline image referenced
    when there is something to chart), so that sending mails exactly what was built. A day not yet
    over at `now` (default: the clock) is stored as a preview, its subject marked "(preview)".
    """
    preview = is_preview(settings, day, now)
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
        max_per_topic=settings.digest_topic_list,
        max_stories=settings.digest_max_stories,
        secondary_ratio=settings.digest_secondary_ratio,
        secondary_min_score=settings.digest_secondary_min_score,
        spikes=spikes,
        counts=counts,
        preview_until=(now or datetime.now(UTC)) if preview else None,
        covered_languages=models.classifier.taxonomy.languages,
    )
    html, text, subject = render_html(digest), render_text(digest), digest_subject(digest)
    if preview:
        subject = _preview_subject(subject)
    # The chart only when there is something to chart; the mail's HTML references it exactly then.
    mail_html = render_html(digest, chart_cid=CHART_CID) if digest.by_topic else html
    # The workbench page: the same digest with the chart inlined, titles linking to the article pages
    # (relative to /security-monitor/digests/{day}) and the navigation bar.
    chart = digest_chart_png(settings, conn, labels, day) if digest.by_topic else None
    page_html = render_html(digest, chart_png=chart, article_href="../articles/{id}", nav=True)
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
            "page_html": page_html,
            "preview": preview,
        },
    )
    conn.commit()
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    html_path = settings.out_dir / f"digest-{day.isoformat()}.html"
    text_path = settings.out_dir / f"digest-{day.isoformat()}.txt"
    html_path.write_text(html, encoding="utf-8")
    text_path.write_text(text, encoding="utf-8")
    if counts.total == 0:
        log.info("digest %s: %s; stored, and it will not be mailed", day.isoformat(), EMPTY_WINDOW)
    return DigestResult(day, counts.total, subject, html_path, text_path, html, text, digest, preview)


# Topics drawn as lines over the daily article bars: more lines than this tangle in 600 px.
CHART_TOPICS = 3


def digest_chart_png(settings: Settings, conn: Connection, labels: dict[str, str], day: date) -> bytes:
    """The digest's chart: articles per day up to `day` (at most CHART_DAYS days, starting at the
    first day with articles), with the CHART_TOPICS biggest topics of the window as lines."""
    first = day - timedelta(days=CHART_DAYS - 1)
    start, _ = digest_window(first, settings.timezone)
    _, end = digest_window(day, settings.timezone)
    rows = digest_store.daily_article_counts(
        conn,
        start,
        end,
        settings.timezone,
        secondary_ratio=settings.digest_secondary_ratio,
        secondary_min_score=settings.digest_secondary_min_score,
    )
    totals = {d: n for d, topic, n in rows if topic is None}
    with_data = sorted(d for d, n in totals.items() if n)
    begin = with_data[0] if with_data else day
    days = [begin + timedelta(days=i) for i in range((day - begin).days + 1)]
    per_topic: dict[str, dict[date, int]] = {}
    for d, topic, n in rows:
        if topic is not None:
            per_topic.setdefault(topic, {})[d] = n
    # Biggest over the window first; ties in taxonomy order, then by id: deterministic.
    order = {t: i for i, t in enumerate(labels)}
    top = sorted(per_topic, key=lambda t: (-sum(per_topic[t].values()), order.get(t, len(order)), t))
    topics = {labels.get(t, t): [per_topic[t].get(d, 0) for d in days] for t in top[:CHART_TOPICS]}
    span = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()} to {day.isoformat()}"
    return articles_per_day_png(
        days,
        [totals.get(d, 0) for d in days],
        topics,
        f"Articles per day, {span}",
        x_label=f"Day (first seen, {settings.timezone})",
    )


@dataclass
class SendResult:
    day: date
    sent: bool
    reason: str
    subject: str
    articles: int
    preview: bool = False


def send_daily_digest(
    settings: Settings,
    conn: Connection,
    models: Models,
    day: date,
    *,
    transport: Callable[[EmailMessage], None],
    recipients: Sequence[str],
    force: bool = False,
    now: datetime | None = None,
) -> SendResult:
    """Mail the stored digest of `day` once: a date already sent is skipped unless `force`.

    What is mailed is what was built and stored (subject, text, e-mail HTML), never a second build: a
    digest never built, built before the e-mail HTML was stored with it, or stored as a preview of a
    day that is over by now, is built first.
    The chart is drawn from the stored daily counts.

    Never mailed, even with `force`: a digest of an empty window (the reason is recorded with it and
    returned). A preview (the day is not over at `now`) is mailed, but not recorded as sent, so the
    full digest of that day still goes out once the day is over.

    The digest row is locked (FOR UPDATE) while sending, so two senders at once (a retry racing a
    manual run) serialise and the second sees `sent_at`. A crash after the SMTP server accepted the
    message but before the commit can still send twice: SMTP offers no way to make that atomic, and
    sending twice was preferred over never sending.
    """
    if not recipients:
        raise ConfigError("no digest recipients: set MONITOR_DIGEST_RECIPIENTS (or the Airflow Variable)")
    now = now or datetime.now(UTC)
    complete = not is_preview(settings, day, now)
    stored = digest_store.lock_for_sending(conn, day, settings.timezone)
    if stored is None or stored.mail_html is None or (stored.preview and complete):
        conn.rollback()
        build_daily_digest(settings, conn, models, day, now=now)
        stored = digest_store.lock_for_sending(conn, day, settings.timezone)
        assert stored is not None and stored.mail_html is not None  # just built, in this transaction's view
    if stored.article_count == 0:
        digest_store.mark_unsent(conn, day, settings.timezone, EMPTY_WINDOW)
        conn.commit()
        return SendResult(day, False, EMPTY_WINDOW, stored.subject, 0, stored.preview)
    if stored.sent_at is not None and not force:
        conn.commit()
        reason = f"already sent at {stored.sent_at.isoformat(timespec='seconds')}"
        return SendResult(day, False, reason, stored.subject, stored.article_count)
    chart = None
    if f"cid:{CHART_CID}" in stored.mail_html:
        chart = digest_chart_png(settings, conn, topic_labels(models), day)
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
    to = ", ".join(recipients)
    if stored.preview:
        conn.commit()  # releases the lock; a preview is never recorded as sent
        reason = f"preview sent to {to} (the day is not over: not recorded as sent, the full digest follows)"
        return SendResult(day, True, reason, stored.subject, stored.article_count, True)
    digest_store.mark_sent(conn, day, settings.timezone, to)
    conn.commit()
    return SendResult(day, True, f"sent to {to}", stored.subject, stored.article_count)
