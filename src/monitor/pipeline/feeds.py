"""Use case: fetch the feeds that are due and store their items."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from monitor.analyze import clean
from monitor.dedupe.fingerprints import canonical_url, text_fingerprint
from monitor.errors import FetchError, InputError
from monitor.ingest.feeds import parse_feed
from monitor.ingest.fetch import FetchResult, fetch
from monitor.models import FeedItem
from monitor.settings import FetchSettings, Settings
from monitor.store import articles as article_store
from monitor.store import rejects, sources
from monitor.store.db import Connection

log = logging.getLogger(__name__)

# A fetch cannot take longer than this (connect + read timeouts and the total cap are far below it);
# a run that dies mid-fetch leaves the feed due again after the lease.
_FETCH_LEASE_MINUTES = 10


@dataclass
class FeedReport:
    feeds: int = 0
    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    new: int = 0
    duplicate: int = 0
    problems: list[str] = field(default_factory=list)


def ingest_due_feeds(
    settings: Settings,
    conn: Connection,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    feed_ids: Sequence[int] | None = None,
) -> FeedReport:
    """Fetch the feeds that are due (or the due ones among `feed_ids`), in parallel threads; store
    items and feed state one feed at a time.

    Feeds are claimed with a lease first (next poll pushed past the fetch), so two runs at once (an
    overlapping schedule, two Airflow workers) never fetch the same feed twice.
    """
    now = now or datetime.now(UTC)
    due = sources.claim_due_feeds(conn, now, lease_minutes=_FETCH_LEASE_MINUTES, limit=limit, ids=feed_ids)
    conn.commit()
    report = FeedReport(feeds=len(due))
    if not due:
        return report
    limits = settings.fetch
    # Threads only fetch; every database write happens here, on this thread's connection.
    with ThreadPoolExecutor(max_workers=min(settings.fetch.concurrency, len(due))) as pool:
        futures = {pool.submit(_fetch_one, s, limits): s for s in due}
        for future in as_completed(futures):
            source = futures[future]
            result, error, elapsed_ms = future.result()
            _store_feed(conn, settings, source, result, error, elapsed_ms, now, report)
            conn.commit()
    return report


def due_feed_batches(conn: Connection, batch_size: int, now: datetime | None = None) -> list[list[int]]:
    """Ids of the feeds due now, in batches: the unit of work of one mapped Airflow task."""
    due = [s.id for s in sources.due_feeds(conn, now or datetime.now(UTC))]
    conn.commit()
    return [due[i : i + batch_size] for i in range(0, len(due), batch_size)]


def _fetch_one(
    source: sources.Source, limits: FetchSettings
) -> tuple[FetchResult | None, FetchError | None, int]:
    started = time.monotonic()
    try:
        result = fetch(source.url, etag=source.etag, last_modified=source.last_modified, limits=limits)
        return result, None, int((time.monotonic() - started) * 1000)
    except FetchError as exc:
        return None, exc, int((time.monotonic() - started) * 1000)


def _store_feed(
    conn: Connection,
    settings: Settings,
    source: sources.Source,
    result: FetchResult | None,
    error: FetchError | None,
    elapsed_ms: int,
    now: datetime,
    report: FeedReport,
) -> None:
    def record(outcome: sources.FetchOutcome) -> None:
        sources.record_fetch(
            conn,
            source,
            outcome,
            now=now,
            duration_ms=elapsed_ms,
            max_backoff_minutes=settings.feed_max_backoff_minutes,
        )

    if result is None:
        assert error is not None
        report.failed += 1
        report.problems.append(str(error))
        log.warning("feed fetch failed", extra={"feed_id": source.id, "reason": error.reason})
        retry_after = getattr(error, "retry_after_s", None)  # set by a 429/503 with Retry-After
        record(sources.FetchOutcome("error", error.status, error=error.reason, retry_after_s=retry_after))
        return
    if result.not_modified:
        report.not_modified += 1
        record(
            sources.FetchOutcome("not_modified", result.status, result.etag, result.last_modified, nbytes=0)
        )
        return
    body = result.body or b""
    try:
        parsed = parse_feed(body, source.url, content_type=result.content_type, base_url=result.final_url)
    except InputError as exc:
        report.failed += 1
        report.problems.append(str(exc))
        rejects.record(conn, "feed", source.url, exc.reason)
        # The feed answered but is unusable: back off like any other failure. The old validators stay,
        # so the next poll fetches the body in full again (it may have been fixed by then).
        record(sources.FetchOutcome("error", result.status, nbytes=len(body), error=exc.reason))
        return
    feed_items = list(parsed.items)
    if source.full_text:
        feed_items = _with_full_pages(conn, settings, feed_items, report)
    items = [
        (item, item.url or item.guid or f"{source.url}#{text_fingerprint(item.title)[:16]}")
        for item in feed_items
    ]
    counts = article_store.insert_items(conn, source_id=source.id, origin="feed", items=items)
    if parsed.problem:
        rejects.record(conn, "feed", source.url, parsed.problem, severity="warning")
        report.problems.append(f"{source.url}: {parsed.problem}")
    report.ok += 1
    report.new += counts.new
    report.duplicate += counts.duplicate
    record(
        sources.FetchOutcome(
            "partial" if parsed.problem else "ok",
            result.status,
            result.etag,
            result.last_modified,
            items_seen=len(parsed.items),
            items_new=counts.new,
            items_duplicate=counts.duplicate,
            nbytes=len(body),
            error=parsed.problem,
        )
    )


# Below this many characters the "main text" of a page is a cookie wall or a teaser: keep the summary.
_MIN_PAGE_TEXT = 300


def _with_full_pages(
    conn: Connection, settings: Settings, items: list[FeedItem], report: FeedReport
) -> list[FeedItem]:
    """For a summary-only feed: fetch each new item's page (same limits as feeds) and keep it as raw.

    Items already stored are not fetched again. A page that fails, or whose main text is shorter than
    the summary would give, leaves the item as the feed sent it (the summary), with the reason logged.
    """
    known = article_store.known_urls(conn, [i.url for i in items if i.url])
    todo = [i for i in items if i.url and canonical_url(i.url) not in known]
    if not todo:
        return items
    limits = settings.fetch
    pages: dict[str, FeedItem] = {}
    with ThreadPoolExecutor(max_workers=min(settings.fetch.concurrency, len(todo))) as pool:
        futures = {pool.submit(_fetch_page, item, limits): item for item in todo}
        for future in as_completed(futures):
            item = futures[future]
            page, problem = future.result()
            if page is not None:
                pages[item.url or ""] = page
            elif problem:
                report.problems.append(problem)
    return [pages.get(i.url or "", i) for i in items]


def _fetch_page(item: FeedItem, limits: FetchSettings) -> tuple[FeedItem | None, str | None]:
    assert item.url is not None
    try:
        result = fetch(item.url, etag=None, last_modified=None, limits=limits)
    except FetchError as exc:
        return None, f"full text of {item.url}: {exc.reason}; kept the summary"
    html = (result.body or b"").decode("utf-8", errors="replace")
    # The text processing would find in the stored page (the same function of the same string), kept
    # with the item so that processing does not extract it a second time.
    text = clean(html, "page")
    if len(text) < _MIN_PAGE_TEXT:
        return None, f"full text of {item.url}: no article text on the page; kept the summary"
    return replace(item, raw=html, raw_format="page", summary=item.raw, text=text), None
