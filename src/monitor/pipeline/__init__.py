"""The use cases: the one place where parsing, analysis and storage meet.

One module per use case, each reading straight down like Miniflux's handlers: take input at the edge,
call pure stages, write with `store`. The per-article chain itself is `monitor.analyze` (Miniflux
keeps its `processor/` apart from its `handler/` the same way).

    feeds.py    due feeds → articles (conditional GET, backoff, full-text pages)
    inbox.py    inbox files → articles (moved to processed/ or rejected/)
    process.py  status=new → analysed (batches.py: one batch; workers.py: the forked pool)
    stories.py  processed → near-copies and stories
    trends.py   daily counts, spikes, spike alerts, the volume chart
    digest.py   the digest of a day: built and stored; the stored digest mailed once
    export.py   processed articles as JSON lines
    watch.py    watch-lists: new matching articles → hits, one alert mail per interval
    run.py      all of it once

Per-item problems are recorded (rejects, fetch log, article status) and the batch goes on; per-run
problems (database gone, bad settings) raise so the caller or Airflow retries.
"""

from monitor.pipeline.batches import ProcessReport
from monitor.pipeline.digest import (
    DigestResult,
    SendResult,
    build_daily_digest,
    default_digest_date,
    is_preview,
    latest_complete_day,
    send_daily_digest,
)
from monitor.pipeline.export import export_lines
from monitor.pipeline.feeds import FeedReport, due_feed_batches, ingest_due_feeds
from monitor.pipeline.inbox import InboxReport, inbox_files, ingest_inbox
from monitor.pipeline.process import process_pending
from monitor.pipeline.run import RunReport, run_once
from monitor.pipeline.stories import StoryReport, assign_stories
from monitor.pipeline.trends import detect_spikes, send_spike_alerts
from monitor.pipeline.watch import WatchReport, check_watchlists
from monitor.pipeline.workers import ProcessingWorkers

__all__ = [
    "DigestResult",
    "FeedReport",
    "InboxReport",
    "ProcessReport",
    "ProcessingWorkers",
    "RunReport",
    "SendResult",
    "StoryReport",
    "WatchReport",
    "assign_stories",
    "build_daily_digest",
    "check_watchlists",
    "default_digest_date",
    "detect_spikes",
    "due_feed_batches",
    "export_lines",
    "inbox_files",
    "ingest_due_feeds",
    "ingest_inbox",
    "is_preview",
    "latest_complete_day",
    "process_pending",
    "run_once",
    "send_daily_digest",
    "send_spike_alerts",
]
