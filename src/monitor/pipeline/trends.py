"""Use case: daily counts, spikes against their baseline, spike alerts, and the volume chart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from monitor.analyze import Models
from monitor.digest.build import digest_window
from monitor.digest.trends import Spike, baseline, counts_of_window, find_spikes
from monitor.models import WindowCounts
from monitor.settings import Settings
from monitor.store import digests as digest_store
from monitor.store import trends as trend_store
from monitor.store.db import Connection

# Days in the e-mail's chart of volume by topic: two weeks shows a trend without crowding the bars.
CHART_DAYS = 14


def topic_labels(models: Models) -> dict[str, str]:
    """Topic id -> label, in taxonomy order (the order of every per-topic list)."""
    return {t.id: t.label for t in models.classifier.taxonomy.topics}


def day_counts(
    settings: Settings,
    conn: Connection,
    day: date,
    labels: dict[str, str],
    counts: WindowCounts | None = None,
) -> WindowCounts:
    """The totals of a local day (read unless `counts` already holds them); a complete day's topic
    and country counts are also stored once, for the spike baselines of the days after it."""
    start, end = digest_window(day, settings.timezone)
    if counts is None:
        counts = digest_store.window_counts(conn, start, end)
    if end <= datetime.now(UTC):  # only a finished day can be cached: today's counts still grow
        trend_store.store_day_counts(conn, day, settings.timezone, counts_of_window(counts, labels))
        conn.commit()
    return counts


def _stored_or_counted(
    settings: Settings, conn: Connection, day: date, labels: dict[str, str]
) -> list[tuple[str, str, str, int]]:
    rows = trend_store.stored_day_counts(conn, day, settings.timezone)
    if rows is None:
        rows = counts_of_window(day_counts(settings, conn, day, labels), labels)
    return rows


def detect_spikes(
    settings: Settings,
    conn: Connection,
    day: date,
    labels: dict[str, str],
    today: WindowCounts | None = None,
) -> list[Spike]:
    """Topics and countries of `day` far above their mean over the days before it, given enough of
    them with data (`digest/trends.py find_spikes`); stored in `alerts`.

    `day` is the date the caller is about (a digest's date, an Airflow run's date), never the clock's:
    a rerun of yesterday's run judges yesterday.
    """
    today = today or day_counts(settings, conn, day, labels)
    previous = [
        _stored_or_counted(settings, conn, day - timedelta(days=back), labels)
        for back in range(1, settings.spike_baseline_days + 1)
    ]
    counts = baseline(previous, counts_of_window(today, labels))
    spikes = find_spikes(
        counts,
        factor=settings.spike_factor,
        minimum=settings.spike_min_articles,
        min_history=settings.spike_min_history_days,
        max_p=settings.spike_max_p,
    )
    trend_store.save_alerts(conn, day, settings.timezone, spikes)
    conn.commit()
    return spikes


def send_spike_alerts(
    settings: Settings,
    conn: Connection,
    models: Models,
    day: date,
    *,
    transport: Callable[[EmailMessage], None],
    recipients: Sequence[str],
) -> int:
    """Mail the spikes of `day` not mailed yet, at once (not waiting for the digest). Returns how many."""
    detect_spikes(settings, conn, day, topic_labels(models))
    pending = trend_store.unsent_alerts(conn, day, settings.timezone)  # locked until commit
    if not pending or not recipients:
        conn.commit()
        return 0
    lines = [f"- {text}" for _, text in pending]
    msg = EmailMessage()
    msg["Subject"] = f"[security monitor] spike alert {day.isoformat()}: {pending[0][1]}"
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(recipients)
    msg.set_content(
        f"Unusual volume on {day.isoformat()} ({settings.timezone}), compared with the previous "
        f"{settings.spike_baseline_days} days:\n\n" + "\n".join(lines) + "\n"
    )
    try:
        transport(msg)
    except BaseException:
        conn.rollback()
        raise
    trend_store.mark_alerts_sent(conn, [i for i, _ in pending])
    conn.commit()
    return len(pending)
