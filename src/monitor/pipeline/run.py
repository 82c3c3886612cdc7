"""Use case: the whole pipeline once (`monitor run`, `monitor demo`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from monitor.analyze import Models
from monitor.pipeline.batches import ProcessReport
from monitor.pipeline.digest import DigestResult, build_daily_digest
from monitor.pipeline.feeds import FeedReport, ingest_due_feeds
from monitor.pipeline.inbox import InboxReport, ingest_inbox
from monitor.pipeline.process import process_pending
from monitor.pipeline.stories import assign_stories
from monitor.settings import Settings
from monitor.store.db import Connection


@dataclass
class RunReport:
    feeds: FeedReport
    inbox: InboxReport
    process: ProcessReport
    digest: DigestResult


def run_once(
    settings: Settings,
    conn: Connection,
    models: Models,
    *,
    digest_day: date | None = None,
    show_progress: bool = False,
) -> RunReport:
    """The whole pipeline once: due feeds, the inbox, processing, stories, and the digest of
    `digest_day` (default: today so far in the configured time zone, so a run shows what it just
    took in)."""
    feeds = ingest_due_feeds(settings, conn)
    inbox = ingest_inbox(settings, conn)
    processed = process_pending(settings, conn, models, show_progress=show_progress)
    assign_stories(settings, conn)
    day = digest_day or datetime.now(ZoneInfo(settings.timezone)).date()
    digest = build_daily_digest(settings, conn, models, day)
    return RunReport(feeds, inbox, processed, digest)
