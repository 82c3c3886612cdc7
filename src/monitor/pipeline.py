"""The use cases: the one place where parsing, processing and storage meet.

Each function reads straight down: take input at the edge, call pure stages, write with `store`.
Per-item problems are recorded (rejects, fetch log, article status) and the batch goes on; per-run
problems (database gone, bad settings) raise so the caller or Airflow retries.
"""

from __future__ import annotations

import gc
import logging
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2

from monitor.classify.rules import Classifier, load_default_classifier
from monitor.dedupe.fingerprints import canonical_url, text_fingerprint, word_char_table
from monitor.dedupe.near import NearDuplicateIndex
from monitor.dedupe.near import signature as near_signature
from monitor.dedupe.stories import StoryArticle, StoryIndex
from monitor.digest.build import Digest, build_digest, digest_window
from monitor.digest.chart import daily_volume_png
from monitor.digest.mail import CHART_CID, build_digest_message
from monitor.digest.render import digest_subject, render_html, render_text
from monitor.digest.trends import Spike, baseline, counts_of_window, find_spikes
from monitor.entities.extract import EntityExtractor, load_default_extractor
from monitor.errors import ConfigError, FetchError, InputError
from monitor.extract.html import extract_page, html_to_text
from monitor.extract.language import detect_language
from monitor.extract.normalize import normalize_whitespace
from monitor.extract.sanitize import sanitize_html
from monitor.ingest.feeds import parse_feed
from monitor.ingest.fetch import FetchLimits, FetchResult, fetch
from monitor.ingest.files import parse_inbox_file, parse_seed_text
from monitor.models import FeedItem, ProcessedArticle, WindowCounts
from monitor.settings import INBOX_CLAIMED, Settings
from monitor.store import articles as article_store
from monitor.store import digests as digest_store
from monitor.store import rejects, sources
from monitor.store import stories as story_store
from monitor.store import trends as trend_store
from monitor.store.db import Connection

log = logging.getLogger(__name__)

INBOX_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
# A fetch cannot take longer than this (connect + read timeouts and the total cap are far below it);
# a run that dies mid-fetch leaves the feed due again after the lease.
_FETCH_LEASE_MINUTES = 10
# Below this many characters a text is too generic to identify an article on its own ("Read more…"),
# so the title joins the fingerprint.
_MIN_TEXT_FOR_TEXT_ONLY_HASH = 200
# Untagged articles listed by title at the end of a digest; the rest are counted ("… and N more").
_DIGEST_OTHER_LIMIT = 50
# Forking workers costs ~50 ms, and each starts with empty per-word caches; below this backlog one
# process finishes sooner. At 1000, a feed poll of 1000 items with one duplicate among them ran on one
# core; the CPU time of 6,000 articles was the same in one process and in two workers (measured).
_PARALLEL_MIN_PENDING = 300


# --------------------------------------------------------------------------------------------- process


def process_item(
    title: str,
    raw: str,
    raw_format: str,
    declared_language: str | None,
    classifier: Classifier,
    extractor: EntityExtractor,
) -> ProcessedArticle:
    """Clean → language → fingerprint → classify → entities, for one article. Pure."""
    if raw_format == "html":
        text = html_to_text(raw)
    elif raw_format == "page":
        text = extract_page(raw.encode("utf-8")).text
    elif raw_format == "seed":
        text = parse_seed_text("article", raw).raw
    else:
        text = normalize_whitespace(raw)
    title = normalize_whitespace(title)
    language = detect_language(f"{title}\n{text}") or declared_language
    if len(text) >= _MIN_TEXT_FOR_TEXT_ONLY_HASH:
        content_hash = text_fingerprint(text)  # syndicated copies keep the text and change the headline
    else:
        content_hash = text_fingerprint(title, text)
    topics = classifier.classify(title, text, language)
    entities = extractor.extract(title, text)
    return ProcessedArticle(
        display_html=sanitize_html(raw) if raw_format == "html" else None,
        clean_text=text,
        language=language,
        content_hash=content_hash,
        topics=topics,
        entities=entities,
        signature=near_signature(text),  # here, in the parallel workers, not in the ordered story step
    )


@dataclass
class ProcessReport:
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    batches: int = 0


def _process_one(
    args: tuple[int, str, str, str, str | None],
) -> tuple[int, ProcessedArticle | None, str | None]:
    """process_item for one claimed article, with its failure as data."""
    article_id, title, raw, raw_format, language = args
    try:
        result = process_item(
            title, raw, raw_format, language, load_default_classifier(), load_default_extractor()
        )
    except Exception as exc:  # one bad article must not stop the batch; its raw stays stored
        return article_id, None, f"processing failed: {type(exc).__name__}: {exc}"
    return article_id, result, None


def _load_models() -> None:
    """Models in memory before any fork, so workers share their pages instead of loading their own."""
    from monitor.extract.language import preload

    load_default_classifier()
    load_default_extractor()
    preload()  # otherwise every worker unpacks the language model on its first foreign text
    word_char_table()  # the 1 MB code-point table of fingerprints and signatures, built once
    _freeze_models()


_frozen = False


def _freeze_models() -> None:
    """The models are millions of long-lived objects: moved out of the collector's sight, full
    collections stop walking them, and forked workers stop touching (copying) their pages.

    Once per process, after a collection: a frozen object is never collected again, so freezing at
    every run froze whatever cyclic garbage the caller had left since its last collection (an
    earlier run's story indexes, ~120 MB per run, in a process that calls runs in a loop).
    """
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def _drain(conn: Connection, batch_size: int, limit: int | None) -> ProcessReport:
    """Claim, process, save and commit batches on `conn` until nothing is left (or `limit`)."""
    version = load_default_classifier().version
    report = ProcessReport()
    claimed = 0
    while limit is None or claimed < limit:
        size = batch_size if limit is None else min(batch_size, limit - claimed)
        batch = article_store.claim_pending(conn, size)
        if not batch:
            conn.commit()
            break
        claimed += len(batch)
        outcomes = [_process_one((a.id, a.title, a.raw, a.raw_format, a.declared_language)) for a in batch]
        _save_batch(conn, outcomes, version, report)
    return report


# One connection per worker process and database, kept between calls: a persistent pool's workers
# drain many times.
_worker_connections: dict[str, Connection] = {}


def _drain_in_worker(url: str, batch_size: int, limit: int | None) -> ProcessReport:
    """`_drain` in a forked worker, on the worker's own connection (never the parent's socket)."""
    from monitor.store.db import connect

    conn = _worker_connections.get(url)
    if conn is None or conn.closed:
        from multiprocessing.util import Finalize

        conn = _worker_connections[url] = connect(url)
        # Closed when the worker exits (pool shutdown), not dropped mid-protocol by os._exit.
        Finalize(conn, conn.close, exitpriority=10)
    try:
        return _drain(conn, batch_size, limit)
    except BaseException:
        # A connection that saw an error (the server went away) is not reused by the next call.
        _worker_connections.pop(url, None)
        conn.close()
        raise


def _default_sigterm() -> None:
    """Forked workers die on SIGTERM, whatever the parent does with it. Airflow's task runner installs
    a SIGTERM handler in the task process; inherited, it kept a worker alive when the pool, broken by
    another worker's death, terminated the rest, and that worker went on processing after the run
    had failed."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class ProcessingWorkers:
    """Forked processing workers. Each claims, processes, saves and commits its own batches on its
    own connection: nothing but a few counts crosses between processes, the parent stays idle (an
    ingest can run beside it), and the saves of one worker overlap the computing of the others.

    Kept open by long-running callers (the benchmark, several process runs in one task) so that the
    workers' per-word caches stay warm; `process_pending` opens one for a single call otherwise.
    """

    def __init__(self, settings: Settings) -> None:
        import multiprocessing

        from monitor.store.db import resolve_database_url

        _load_models()
        self.count = settings.process_workers
        self.url = resolve_database_url(settings)
        self.executor = ProcessPoolExecutor(
            self.count, mp_context=multiprocessing.get_context("fork"), initializer=_default_sigterm
        )
        # All workers fork now, from this thread, not later while another thread may hold a lock.
        self.executor.submit(int).result()

    def drain(self, batch_size: int, limit: int | None, progress: Callable[[], None]) -> ProcessReport:
        # `limit` split exactly: the first `limit % count` workers take one more.
        shares = [
            None if limit is None else limit // self.count + (i < limit % self.count)
            for i in range(self.count)
        ]
        futures = [self.executor.submit(_drain_in_worker, self.url, batch_size, share) for share in shares]
        while wait(futures, timeout=1.0).not_done:
            progress()
        report = ProcessReport()
        errors = [error for f in futures if (error := f.exception()) is not None]
        if errors:
            # Every worker has stopped by now (a batch in flight stays `new`); the first error tells.
            raise errors[0]  # type: ignore[misc]
        for f in futures:
            part = f.result()
            report.processed += part.processed
            report.duplicates += part.duplicates
            report.failed += part.failed
            report.batches += part.batches
        return report

    def close(self) -> None:
        self.executor.shutdown()

    def __enter__(self) -> ProcessingWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def process_pending(
    settings: Settings,
    conn: Connection,
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
        workers = own = ProcessingWorkers(settings)
    bar = _progress(pending, "process", show_progress)
    try:
        if workers is None:
            load_default_classifier(), load_default_extractor()
            _freeze_models()
            report = _drain(conn, settings.batch_size, limit)
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


def _save_batch(conn: Connection, outcomes: Any, taxonomy_version: str, report: ProcessReport) -> None:
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


def _progress(total: int, desc: str, enabled: bool) -> Any:
    """A progress bar on a terminal only: logs and Airflow task output stay clean."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="art", file=sys.stderr)


# --------------------------------------------------------------------------------------------- stories


@dataclass
class StoryReport:
    assigned: int = 0
    near_duplicates: int = 0
    new_stories: int = 0
    skipped: bool = False  # another process holds the story lock


def assign_stories(settings: Settings, conn: Connection, *, batch: int = 5000) -> StoryReport:
    """Give every processed article its story and, for syndicated copies, its original.

    Runs in one process at a time (an advisory lock, held for the whole call), in (first seen, id)
    order, because clustering is incremental. The indexes are warmed once per call with the articles
    already assigned within their windows, put back as they were stored (no search), and serve all of
    the call's batches; a story keeps the id it was stored with: the id of its first article.
    """
    report = StoryReport()
    if not story_store.try_lock(conn):
        conn.rollback()
        report.skipped = True
        return report
    try:
        indexes: tuple[NearDuplicateIndex, StoryIndex] | None = None
        while True:
            pending = story_store.unassigned(conn, batch)
            if not pending:
                conn.commit()
                return report
            if indexes is None:
                indexes = _warm_story_indexes(settings, conn, pending[0].seen_at)
            near, index = indexes
            assignments: list[tuple[int, int, int | None, bytes | None]] = []
            for row in pending:
                original = mask = None
                if row.signature:
                    original = near.add_signature(str(row.id), row.signature, row.seen_at)
                    mask = near.copy_mask(str(row.id))
                story_id = int(index.add(_story_article(row, original)))
                assignments.append((row.id, story_id, int(original) if original else None, mask))
                report.near_duplicates += original is not None
                report.new_stories += story_id == row.id
            story_store.save_assignments(conn, assignments)
            story_store.refresh_stories(conn, [a[1] for a in assignments])
            conn.commit()
            report.assigned += len(assignments)
    finally:
        try:
            conn.rollback()
            story_store.unlock(conn)
            conn.commit()
        except psycopg2.Error:  # the connection is gone, and its session lock with it
            pass


def _warm_story_indexes(
    settings: Settings, conn: Connection, first: datetime
) -> tuple[NearDuplicateIndex, StoryIndex]:
    """The indexes as the stored assignments left them, for articles seen from `first` on: every
    assigned article seen within each index's window before it (or after it: late arrivals join those)."""
    near = NearDuplicateIndex(window=settings.near_duplicate_window)
    for sig in story_store.signatures_since(conn, first - settings.near_duplicate_window):
        original = str(sig.near_duplicate_of) if sig.near_duplicate_of else None
        near.restore_signature(str(sig.id), sig.signature, sig.seen_at, original, sig.copy_mask)
    index = StoryIndex(window=settings.story_window)
    for row in story_store.assigned_since(conn, first - settings.story_window):
        dup = str(row.near_duplicate_of) if row.near_duplicate_of else None
        index.restore(_story_article(row, dup), str(row.story_id))
    return near, index


def _story_article(row: story_store.StoryRow, duplicate_of: str | None) -> StoryArticle:
    return StoryArticle(
        id=str(row.id),
        title=row.title,
        text=row.text,
        seen_at=row.seen_at,
        entities=row.entity_ids,
        source=row.source,
        duplicate_of=duplicate_of,
    )


# ----------------------------------------------------------------------------------------------- inbox


@dataclass
class InboxReport:
    files: int = 0
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


def _move(path: Path, folder: Path) -> Path:
    """Move a handled file aside, never overwriting an earlier file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), target)
    return target


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox or claimed by the inbox trigger, oldest first.

    Hidden and partial files (editors, uploads in progress) wait until they get their final name.
    """
    files: list[Path] = []
    for folder in (inbox / INBOX_CLAIMED, inbox):
        if folder.is_dir():
            files.extend(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~")))
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def ingest_inbox(settings: Settings, conn: Connection, *, now: datetime | None = None) -> InboxReport:
    """Ingest every file in the inbox; move each to processed/ or rejected/ (with a reason file)."""
    inbox = settings.inbox_dir
    report = InboxReport()
    source_id = article_store_inbox_source(conn, inbox)
    for path in inbox_files(inbox):
        report.files += 1
        try:
            parsed = _read_inbox_file(path, settings.inbox_max_bytes)
        except InputError as exc:
            rejects.record(conn, "inbox", path.name, exc.reason)
            conn.commit()
            target = _move(path, inbox / "rejected")
            target.with_name(target.name + ".reason.txt").write_text(f"{exc}\n", encoding="utf-8")
            report.rejected += 1
            report.problems.append(str(exc))
            log.warning("inbox file rejected", extra={"file": path.name, "reason": exc.reason})
            continue
        items = [
            (item, path.name if len(parsed.items) == 1 else f"{path.name}#{i + 1}")
            for i, item in enumerate(parsed.items)
        ]
        counts = article_store.insert_items(
            conn, source_id=source_id, origin="inbox", items=items, seen_at=now
        )
        for problem in parsed.problems:
            rejects.record(conn, "inbox", path.name, problem, severity="warning")
            report.problems.append(problem)
        # Commit before moving: a crash in between leaves the file in the inbox, and ingesting it again
        # only finds duplicates, so nothing is lost and nothing is doubled.
        conn.commit()
        _move(path, inbox / "processed")
        report.new += counts.new
        report.duplicate += counts.duplicate
    return report


def article_store_inbox_source(conn: Connection, inbox: Path) -> int:
    source_id = sources.inbox_source(conn, inbox.resolve().as_uri())
    conn.commit()
    return source_id


def _read_inbox_file(path: Path, max_bytes: int) -> Any:
    size = path.stat().st_size
    # Checked before reading so a 50 MB upload costs nothing but this stat.
    if size > max_bytes:
        raise InputError(path.name, f"file too large: {size:,} bytes (limit {max_bytes:,})")
    return parse_inbox_file(path.name, path.read_bytes(), max_bytes)


# ----------------------------------------------------------------------------------------------- feeds


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
    limits = FetchLimits.from_settings(settings.fetch)
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
    source: sources.Source, limits: FetchLimits
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
    limits = FetchLimits.from_settings(settings.fetch)
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


def _fetch_page(item: FeedItem, limits: FetchLimits) -> tuple[FeedItem | None, str | None]:
    assert item.url is not None
    try:
        result = fetch(item.url, etag=None, last_modified=None, limits=limits)
    except FetchError as exc:
        return None, f"full text of {item.url}: {exc.reason}; kept the summary"
    body = result.body or b""
    html = body.decode("utf-8", errors="replace")
    if len(extract_page(body, url=result.final_url).text) < _MIN_PAGE_TEXT:
        return None, f"full text of {item.url}: no article text on the page; kept the summary"
    return replace(item, raw=html, raw_format="page", summary=item.raw), None


# ---------------------------------------------------------------------------------------------- digest


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


def build_daily_digest(settings: Settings, conn: Connection, day: date) -> DigestResult:
    """Build, store and write the digest of `day`. A pure function of the database and the date."""
    start, end = digest_window(day, settings.timezone)
    window, articles = digest_store.read_window(
        conn, start, end, per_topic=settings.digest_max_per_topic, other_limit=_DIGEST_OTHER_LIMIT
    )
    labels = {t.id: t.label for t in load_default_classifier().taxonomy.topics}  # taxonomy order
    counts = day_counts(settings, conn, day, labels, window)
    spikes = detect_spikes(settings, conn, day, counts)
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
        },
    )
    conn.commit()
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    html_path = settings.out_dir / f"digest-{day.isoformat()}.html"
    text_path = settings.out_dir / f"digest-{day.isoformat()}.txt"
    html_path.write_text(html, encoding="utf-8")
    text_path.write_text(text, encoding="utf-8")
    return DigestResult(day, counts.total, subject, html_path, text_path, html, text, digest)


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


def detect_spikes(
    settings: Settings, conn: Connection, day: date, today: WindowCounts | None = None
) -> list[Spike]:
    """Topics and countries of `day` far above their mean over the previous days; stored in `alerts`."""
    labels = {t.id: t.label for t in load_default_classifier().taxonomy.topics}
    today = today or day_counts(settings, conn, day, labels)
    previous = []
    for back in range(1, settings.spike_baseline_days + 1):
        past = day - timedelta(days=back)
        rows = trend_store.stored_day_counts(conn, past, settings.timezone)
        if rows is None:
            rows = counts_of_window(day_counts(settings, conn, past, labels), labels)
        previous.append(rows)
    counts = baseline(previous, counts_of_window(today, labels))
    spikes = find_spikes(counts, factor=settings.spike_factor, minimum=settings.spike_min_articles)
    trend_store.save_alerts(conn, day, settings.timezone, spikes)
    conn.commit()
    return spikes


def send_spike_alerts(
    settings: Settings,
    conn: Connection,
    day: date,
    *,
    transport: Callable[[EmailMessage], None],
    recipients: Sequence[str],
) -> int:
    """Mail the day's spikes not mailed yet, at once (not waiting for the digest). Returns how many."""
    detect_spikes(settings, conn, day)
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


# Days in the e-mail's chart of volume by topic: two weeks shows a trend without crowding the bars.
CHART_DAYS = 14


def topic_history_png(settings: Settings, conn: Connection, day: date) -> bytes:
    """Stacked bars of articles per topic for the CHART_DAYS days up to `day` (stored daily counts)."""
    labels = {t.id: t.label for t in load_default_classifier().taxonomy.topics}
    days = [day - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
    per_day = []
    for d in days:
        rows = trend_store.stored_day_counts(conn, d, settings.timezone)
        if rows is None:
            rows = counts_of_window(day_counts(settings, conn, d, labels), labels)
        per_day.append({key: n for kind, key, _label, n in rows if kind == "topic"})
    order = [t for t in labels if any(t in counts for counts in per_day)]  # taxonomy order
    series = {labels[t]: [counts.get(t, 0) for counts in per_day] for t in order}
    title = f"Articles per day by topic, {days[0].isoformat()} to {day.isoformat()}"
    return daily_volume_png(days, series, title)


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
    day: date,
    *,
    transport: Callable[[EmailMessage], None],
    recipients: Sequence[str],
    force: bool = False,
) -> SendResult:
    """Build the digest of `day` and mail it once: a date already sent is skipped unless `force`.

    The digest row is locked (FOR UPDATE) while sending, so two senders at once (a retry racing a
    manual run) serialise and the second sees `sent_at`. A crash after the SMTP server accepted the
    message but before the commit can still send twice: SMTP offers no way to make that atomic, and
    sending twice was preferred over never sending.
    """
    if not recipients:
        raise ConfigError("no digest recipients: set MONITOR_DIGEST_RECIPIENTS (or the Airflow Variable)")
    built = build_daily_digest(settings, conn, day)
    sent_at = digest_store.lock_for_sending(conn, day, settings.timezone)
    if sent_at is not None and not force:
        conn.commit()
        return SendResult(
            day,
            False,
            f"already sent at {sent_at.isoformat(timespec='seconds')}",
            built.subject,
            built.articles,
        )
    digest = built.digest
    # The chart only when there is something to chart; the HTML references it exactly then.
    chart = topic_history_png(settings, conn, day) if digest.by_topic else None
    msg = build_digest_message(
        subject=built.subject,
        html=render_html(digest, chart_cid=CHART_CID if chart else None),
        text=built.text,
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
    return SendResult(day, True, f"sent to {', '.join(recipients)}", built.subject, built.articles)


# ------------------------------------------------------------------------------------------------- run


@dataclass
class RunReport:
    feeds: FeedReport
    inbox: InboxReport
    process: ProcessReport
    digest: DigestResult


def run_once(
    settings: Settings, conn: Connection, *, digest_day: date | None = None, show_progress: bool = False
) -> RunReport:
    """The whole pipeline once: due feeds, the inbox, processing, and the digest of `digest_day`
    (default: today so far in the configured time zone, so a run shows what it just took in)."""
    feeds = ingest_due_feeds(settings, conn)
    inbox = ingest_inbox(settings, conn)
    processed = process_pending(settings, conn, show_progress=show_progress)
    assign_stories(settings, conn)
    day = digest_day or datetime.now(ZoneInfo(settings.timezone)).date()
    digest = build_daily_digest(settings, conn, day)
    return RunReport(feeds, inbox, processed, digest)


def export_lines(conn: Connection, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Processed articles of [start, end) as JSON-ready dicts, streamed."""
    for r in digest_store.iter_articles(conn, start, end):
        yield {
            "id": r.id,
            "title": r.title,
            "source": r.source,
            "url": r.url,
            "first_seen": r.first_seen.isoformat(),
            "published": r.published.isoformat() if r.published else None,
            "language": r.language,
            "taxonomy_version": r.taxonomy_version,
            "topics": [
                {
                    "id": t.topic_id,
                    "label": t.label,
                    "score": round(t.score, 4),
                    "evidence": [{"term": e.term, "count": e.count, "weight": e.weight} for e in t.evidence],
                }
                for t in r.topics
            ],
            "entities": [{"type": e.type, "name": e.name, "id": e.id, "count": e.count} for e in r.entities],
            "story_id": r.story_id,
            "duplicates": r.duplicates,
            "text": r.text,
        }
