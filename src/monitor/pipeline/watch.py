"""Watch-lists: new processed articles that match an analyst's saved search or entities → alerts.

Run after each processing run (the `watch` task of `monitor_process`, or `monitor watch check`).
Every watch-list records its new hits at once (the UI's list shows them); a mail goes out only when
the watch-list's interval has passed since its last mail, so a busy story raises one mail per
interval, not one per article. Hits not mailed yet wait for the next mail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from monitor.settings import Settings
from monitor.store import watchlists as watch_store
from monitor.store.db import Connection

# How many articles one alert lists; the rest are counted ("and N more"), the UI has them all.
MAIL_LIST_LIMIT = 25


@dataclass
class WatchReport:
    watchlists: int = 0
    new_hits: int = 0
    mails: int = 0
    mailed_hits: int = 0
    waiting: dict[str, int] = field(default_factory=dict)  # name → hits held back by the interval


def check_watchlists(
    settings: Settings,
    conn: Connection,
    *,
    transport: Callable[[EmailMessage], None] | None,
    recipients: Sequence[str],
    now: datetime | None = None,
) -> WatchReport:
    """Record new hits of every watch-list and mail those whose interval has passed. Without a
    transport (no mail server configured) hits are recorded and nothing is mailed."""
    now = now or datetime.now(UTC)
    report = WatchReport()
    for watch in watch_store.list_all(conn):
        report.watchlists += 1
        report.new_hits += watch_store.record_matches(conn, watch, now)
        hits = watch_store.unmailed(conn, watch.id)
        if not hits or transport is None:
            continue
        due = watch.last_mailed_at is None or now - watch.last_mailed_at >= timedelta(
            minutes=watch.interval_minutes
        )
        to = list(watch.recipients) or list(recipients)
        if not due or not to:
            report.waiting[watch.name] = len(hits)
            continue
        transport(_alert_mail(settings, watch, hits, to))
        watch_store.mark_mailed(conn, watch.id, [h.article_id for h in hits], now)
        report.mails += 1
        report.mailed_hits += len(hits)
    return report


def _alert_mail(
    settings: Settings, watch: watch_store.Watchlist, hits: list[watch_store.WatchHit], to: list[str]
) -> EmailMessage:
    tz = ZoneInfo(settings.timezone)
    what = " / ".join(
        part for part in (f"words: {watch.query}" if watch.query else "", _entities(watch.entity_ids)) if part
    )
    lines = [
        f"Watch-list “{watch.name}” ({what}): {len(hits)} new article{'s' if len(hits) != 1 else ''}.",
        "",
    ]
    for hit in hits[:MAIL_LIST_LIMIT]:
        when = hit.first_seen.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        lines.append(f"- {hit.title}")
        lines.append(
            f"  {hit.source_name or 'unknown source'}, {when}" + (f" · {hit.topics}" if hit.topics else "")
        )
        if hit.url:
            lines.append(f"  {hit.url}")
    if len(hits) > MAIL_LIST_LIMIT:
        lines.append(f"… and {len(hits) - MAIL_LIST_LIMIT} more (the monitor's search has them all).")
    lines += ["", f"At most one mail every {watch.interval_minutes} min for this watch-list."]
    msg = EmailMessage()
    msg["Subject"] = f"[security monitor] watch-list {watch.name}: {len(hits)} new — {hits[0].title}"[:200]
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(to)
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _entities(ids: list[str]) -> str:
    return f"entities: {', '.join(ids)}" if ids else ""
