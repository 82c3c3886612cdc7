"""Use case: process the articles that ingestion stored (`status = new`)."""

from __future__ import annotations

import sys
from typing import Any

from monitor.analyze import Models
from monitor.pipeline.batches import ProcessReport, drain
from monitor.pipeline.workers import ProcessingWorkers, freeze_models
from monitor.settings import Settings
from monitor.store import articles as article_store
from monitor.store.db import Connection

# Forking workers costs ~50 ms, and each starts with empty per-word caches; below this backlog one
# process finishes sooner. At 1000, a feed poll of 1000 items with one duplicate among them ran on one
# core; the CPU time of 6,000 articles was the same in one process and in two workers (measured).
_PARALLEL_MIN_PENDING = 300


def process_pending(
    settings: Settings,
    conn: Connection,
    models: Models,
    *,
    limit: int | None = None,
    show_progress: bool = False,
    workers: ProcessingWorkers | None = None,
) -> ProcessReport:
    """Process `status = new` articles in batches until none is left (or `limit` is reached).

    Each batch is one transaction: claimed with SKIP LOCKED, processed, written, committed. A crash
    loses at most the batches in flight, which stay `new` and are taken again by the next run.

    With a backlog (or `workers` given), forked worker processes, one per core, each drain batches
    on their own connections; otherwise this process does it on `conn`.
    """
    pending = article_store.count_pending(conn)
    conn.commit()
    if pending == 0:
        return ProcessReport()
    own = None
    if workers is None and settings.process_workers > 1 and pending >= _PARALLEL_MIN_PENDING:
        workers = own = ProcessingWorkers(settings, models)
    bar = _progress(pending, "process", show_progress)
    try:
        if workers is None:
            freeze_models(models)
            report = drain(conn, models, settings.batch_size, limit)
        else:
            shown = 0

            def progress() -> None:
                nonlocal shown
                if bar is not None:
                    left = article_store.count_pending(conn)
                    conn.commit()
                    done = max(shown, pending - left)
                    bar.update(done - shown)
                    shown = done

            report = workers.drain(settings.batch_size, limit, progress)
        if bar is not None:
            bar.update(max(0, report.processed + report.duplicates + report.failed - bar.n))
    finally:
        if bar is not None:
            bar.close()
        if own is not None:
            own.close()
    return report


def _progress(total: int, desc: str, enabled: bool) -> Any:
    """A progress bar on a terminal only: logs and Airflow task output stay clean."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="art", file=sys.stderr)
