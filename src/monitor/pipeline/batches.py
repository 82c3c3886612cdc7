"""One batch of processing: claim `status = new` articles, run the analysis chain, save, commit.

The same code runs in this process and in the forked workers (`workers.py`), each on its own
connection; only counts come back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.analyze import Models, process
from monitor.models import ProcessedArticle
from monitor.store import articles as article_store
from monitor.store import rejects
from monitor.store.db import Connection

log = logging.getLogger(__name__)

Outcome = tuple[int, ProcessedArticle | None, str | None]  # article id, result or None, failure reason


@dataclass
class ProcessReport:
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    batches: int = 0

    def add(self, other: ProcessReport) -> None:
        self.processed += other.processed
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.batches += other.batches


def process_one(article: article_store.PendingArticle, models: Models) -> Outcome:
    """The analysis chain for one claimed article, with its failure as data."""
    try:
        result = process(
            article.title,
            article.raw,
            article.raw_format,
            article.declared_language,
            models,
            cleaned=article.ingest_text,
        )
    except Exception as exc:  # one bad article must not stop the batch; its raw stays stored
        return article.id, None, f"processing failed: {type(exc).__name__}: {exc}"
    return article.id, result, None


def drain(conn: Connection, models: Models, batch_size: int, limit: int | None) -> ProcessReport:
    """Claim, process, save and commit batches on `conn` until nothing is left (or `limit`)."""
    report = ProcessReport()
    claimed = 0
    while limit is None or claimed < limit:
        size = batch_size if limit is None else min(batch_size, limit - claimed)
        batch = article_store.claim_pending(conn, size)
        if not batch:
            conn.commit()
            break
        claimed += len(batch)
        save_batch(conn, [process_one(a, models) for a in batch], models.version, report)
    return report


def save_batch(
    conn: Connection, outcomes: Iterable[Outcome], taxonomy_version: str, report: ProcessReport
) -> None:
    results: list[tuple[int, ProcessedArticle]] = []
    for article_id, result, error in outcomes:
        if result is not None:
            results.append((article_id, result))
            continue
        assert error is not None
        log.warning("article failed", extra={"article_id": article_id, "reason": error})
        article_store.mark_failed(conn, article_id, error)
        rejects.record(conn, "process", f"article {article_id}", error)
        report.failed += 1
    processed, duplicates = article_store.save_processed(conn, results, taxonomy_version)
    conn.commit()
    report.processed += processed
    report.duplicates += duplicates
    report.batches += 1
