"""Faults: the database restarting mid-processing, the mail server down, two workers at once.

Nothing is mocked: a PostgreSQL of its own is stopped under a running batch, a real SMTP server is
started late, and two operating-system processes process the same database.
"""

from __future__ import annotations

import email
import email.policy
import multiprocessing
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from monitor import pipeline
from monitor.analyze import Models
from monitor.dev.embedded import embedded_server_uri, ensure_database, stop_embedded_server
from monitor.digest.mail import MailError, send_message
from monitor.models import FeedItem
from monitor.pipeline.batches import process_one
from monitor.settings import Settings
from monitor.store import articles
from monitor.store.db import Connection, migrate, with_database
from ports import free_port

REPO = Path(__file__).resolve().parents[2]
TOPICS = [
    "A suicide bomber attacked a police checkpoint; the terrorist group claimed the attack.",
    "Border guards seized heroin from a drug trafficking gang near the frontier.",
    "Hackers deployed ransomware against the ministry network in a cyber attack.",
    "Rebels shelled the city as fighting with the army intensified despite the ceasefire.",
]


def seed_articles(conn: Connection, n: int) -> None:
    items = [
        (
            FeedItem(title=f"Report {i}", raw=f"{TOPICS[i % 4]} Officials gave number {i} as reference."),
            f"r{i}",
        )
        for i in range(n)
    ]
    articles.insert_items(conn, source_id=None, origin="inbox", items=items)
    conn.commit()


def count(conn: Connection, sql: str) -> int:
    with conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


# ------------------------------------------------------------------------------------- two workers


def _worker(url: str, queue: Any) -> None:
    settings = replace(Settings(), database_url=url, batch_size=20, process_workers=1, progress=False)
    conn = psycopg2.connect(url)
    report = pipeline.process_pending(settings, conn, Models.load(settings))
    conn.close()
    queue.put(report.processed + report.duplicates)


@pytest.mark.slow
def test_two_processing_workers_never_claim_the_same_article(db: Connection, database_url: str) -> None:
    seed_articles(db, 600)
    ctx = multiprocessing.get_context("spawn")  # separate interpreters, as two Celery workers would be
    queue = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(database_url, queue)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
        assert w.exitcode == 0
    done = sorted(queue.get(timeout=5) for _ in workers)
    # Each article was taken by exactly one of them: the counts add up to the total, and with SKIP
    # LOCKED both got a share instead of one waiting for the other.
    assert sum(done) == 600
    assert done[0] > 0
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'processed'") == 600
    assert (
        count(db, "SELECT count(*) FROM (SELECT article_id FROM article_topics GROUP BY article_id) t") == 600
    )


# ------------------------------------------------------------------------------ database restarted


@pytest.fixture
def own_server() -> Iterator[Path]:
    """A PostgreSQL of this test's own, so stopping it disturbs nobody else."""
    # Short path: unix socket paths are limited to ~100 characters.
    pgdata = Path(tempfile.mkdtemp(prefix="pgf-")) / "d"
    try:
        yield pgdata
    finally:
        stop_embedded_server(pgdata)
        shutil.rmtree(pgdata.parent, ignore_errors=True)


@pytest.mark.slow
def test_database_restart_during_processing_loses_and_doubles_nothing(
    own_server: Path, models: Models
) -> None:
    server = embedded_server_uri(own_server)
    ensure_database(server, "monitor")
    url = with_database(server, "monitor")
    conn = psycopg2.connect(url)
    migrate(conn, REPO / "sql")
    seed_articles(conn, 400)
    conn.close()
    settings = replace(Settings(), database_url=url, batch_size=10, process_workers=1, progress=False)

    errors: list[BaseException] = []

    def run() -> None:
        c = psycopg2.connect(url)
        try:
            pipeline.process_pending(settings, c, models)
        except BaseException as exc:  # the run is expected to die with the server
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    # Stop the server once some batches are committed and others are not.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = psycopg2.connect(url)
            done = count(probe, "SELECT count(*) FROM articles WHERE status <> 'new'")
            probe.close()
        except psycopg2.OperationalError:
            done = 0
        if done >= 40:
            break
        time.sleep(0.05)
    assert stop_embedded_server(own_server)
    worker.join(timeout=60)
    assert errors, "the run should have failed when the database went away"
    assert isinstance(errors[0], psycopg2.Error)

    # The retry, as Airflow would do it, against the restarted server.
    embedded_server_uri(own_server)
    conn = psycopg2.connect(url)
    partial = count(conn, "SELECT count(*) FROM articles WHERE status = 'processed'")
    assert 0 < partial < 400
    pipeline.process_pending(settings, conn, models)
    assert count(conn, "SELECT count(*) FROM articles") == 400
    assert count(conn, "SELECT count(*) FROM articles WHERE status = 'processed'") == 400
    # No article was tagged twice (the primary key would refuse it) nor left untagged.
    assert (
        count(conn, "SELECT count(*) FROM (SELECT article_id FROM article_topics GROUP BY article_id) t")
        == 400
    )
    conn.close()


# ------------------------------------------------------------------------------------ SMTP outages


def _after(day: date) -> datetime:
    """An hour into the day after `day` (UTC, the test settings' time zone): `day` is over."""
    return datetime.combine(day + timedelta(days=1), clock_time(1), tzinfo=UTC)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def test_digest_waits_for_the_smtp_server_and_is_then_sent_once(
    db: Connection, settings: Settings, models: Models
) -> None:
    from aiosmtpd.controller import Controller

    seed_articles(db, 3)
    pipeline.process_pending(settings, db, models)
    day = datetime.now(UTC).date()
    over = _after(day)  # sent once the day is over: today's digest would be a preview, never marked sent
    port = free_port()

    def transport(msg: EmailMessage) -> None:
        send_message(msg, host="127.0.0.1", port=port, timeout=5)

    # The server is down: the task fails (so Airflow retries) and nothing is recorded as sent.
    with pytest.raises(MailError, match="refused"):
        pipeline.send_daily_digest(
            settings, db, models, day, transport=transport, recipients=["a@example.org"], now=over
        )
    assert count(db, "SELECT count(*) FROM digests WHERE sent_at IS NOT NULL") == 0

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        first = pipeline.send_daily_digest(
            settings, db, models, day, transport=transport, recipients=["a@example.org"], now=over
        )
        again = pipeline.send_daily_digest(
            settings, db, models, day, transport=transport, recipients=["a@example.org"], now=over
        )
    finally:
        controller.stop()
    assert (first.sent, again.sent) == (True, False)
    assert "already sent" in again.reason
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["Subject"].startswith(f"Security digest {day.isoformat()}: 3 articles")


def test_a_crash_after_the_server_accepted_the_mail_sends_it_twice(
    db: Connection,
    settings: Settings,
    models: Models,
) -> None:
    """The documented limit: SMTP acceptance and our commit cannot be one atomic step."""
    from aiosmtpd.controller import Controller

    seed_articles(db, 2)
    pipeline.process_pending(settings, db, models)
    day = datetime.now(UTC).date()
    over = _after(day)  # sent once the day is over: today's digest would be a preview, never marked sent
    port = free_port()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:

        def crash_after_send(msg: EmailMessage) -> None:
            send_message(msg, host="127.0.0.1", port=port, timeout=5)
            raise KeyboardInterrupt("worker killed right after the server accepted the message")

        with pytest.raises(KeyboardInterrupt):
            pipeline.send_daily_digest(
                settings, db, models, day, transport=crash_after_send, recipients=["a@example.org"], now=over
            )
        retry = pipeline.send_daily_digest(
            settings,
            db,
            models,
            day,
            transport=lambda m: send_message(m, host="127.0.0.1", port=port, timeout=5),
            recipients=["a@example.org"],
            now=over,
        )
    finally:
        controller.stop()
    assert retry.sent
    assert len(mailbox.messages) == 2  # sent twice, never zero times
    assert count(db, "SELECT count(*) FROM digests WHERE sent_at IS NOT NULL") == 1


def test_parallel_processing_with_overlapped_batches_processes_each_article_once(
    db: Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    models: Models,
) -> None:
    """The backlog path: forked workers, each claiming and saving on its own connection."""
    monkeypatch.setattr(pipeline.process, "_PARALLEL_MIN_PENDING", 10)
    seed_articles(db, 61)
    report = pipeline.process_pending(replace(settings, batch_size=7, process_workers=2), db, models)
    assert (report.processed, report.failed, report.batches) == (61, 0, 9)
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'processed'") == 61
    tagged = "SELECT count(*) FROM (SELECT article_id FROM article_topics GROUP BY article_id) t"
    assert count(db, tagged) == 61
    assert pipeline.process_pending(replace(settings, process_workers=2), db, models).processed == 0


def test_workers_saving_the_same_text_at_once_keep_one_copy_and_lose_nothing(
    db: Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    models: Models,
) -> None:
    """Every batch holds the same three texts, so the workers' first batches race to save them."""
    monkeypatch.setattr(pipeline.process, "_PARALLEL_MIN_PENDING", 10)
    texts = [f"{topic} " * 4 for topic in TOPICS[:3]]  # over 200 characters: the title is not hashed
    items = [(FeedItem(title=f"Copy {i}", raw=texts[i % 3]), f"c{i}") for i in range(120)]
    articles.insert_items(db, source_id=None, origin="inbox", items=items)
    db.commit()
    report = pipeline.process_pending(replace(settings, batch_size=6, process_workers=2), db, models)
    assert (report.processed, report.duplicates, report.failed) == (3, 117, 0)
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'processed'") == 3
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'duplicate'") == 117
    # Every duplicate points at the processed copy of its own text.
    assert (
        count(
            db,
            """SELECT count(*) FROM articles d JOIN articles p ON p.id = d.duplicate_of
                WHERE d.status = 'duplicate' AND p.status = 'processed'
                  AND p.content_hash = d.content_hash""",
        )
        == 117
    )


def test_a_save_blocked_by_another_transactions_same_text_retries_as_its_duplicate(
    db: Connection,
    database_url: str,
    models: Models,
) -> None:
    """The race made certain: two transactions save the same text, the first commits last."""
    text = TOPICS[0] * 4
    items = [(FeedItem(title=f"Copy {i}", raw=text), f"same{i}") for i in range(2)]
    articles.insert_items(db, source_id=None, origin="inbox", items=items)
    db.commit()
    first, second = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        results = []
        for conn in (first, second):
            (claimed,) = articles.claim_pending(conn, 1)
            article_id, result, error = process_one(claimed, models)
            assert result is not None, error
            results.append((conn, article_id, result))
        assert articles.save_processed(first, [results[0][1:]], "t") == (1, 0)
        outcome: list[Any] = []

        def save_second() -> None:
            try:
                outcome.append(articles.save_processed(second, [results[1][1:]], "t"))
                second.commit()
            except BaseException as exc:
                outcome.append(exc)

        saver = threading.Thread(target=save_second)
        saver.start()
        time.sleep(0.5)
        assert saver.is_alive(), "the second save should wait for the first transaction"
        first.commit()
        saver.join(timeout=30)
        assert outcome == [(0, 1)]
    finally:
        first.close()
        second.close()
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'processed'") == 1
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'duplicate'") == 1


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing(db: Connection, settings: Settings, models: Models) -> None:
    """SIGKILL of a processing worker (the OOM killer, a crash in a C library) while both workers hold
    processed but uncommitted batches: the run fails, nothing of those batches is stored, and the
    retry processes every article once."""
    import os
    import signal
    from concurrent.futures.process import BrokenProcessPool

    seed_articles(db, 200)
    # As in an Airflow task: the task runner's SIGTERM handler is in this process when the pool forks.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    others = """SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND backend_type = 'client backend'"""
    # Holding this lock makes every save wait at its first write, after claiming and processing.
    blocker = psycopg2.connect(settings.database_url)
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE article_topics IN SHARE MODE")
    run_settings = replace(settings, batch_size=10, process_workers=2)
    try:
        workers = pipeline.ProcessingWorkers(run_settings, models)
    finally:
        signal.signal(signal.SIGTERM, previous)
    victim = next(iter(workers.executor._processes))  # a worker's pid (the pool forks them at start)
    outcome: list[BaseException | pipeline.ProcessReport] = []

    def run() -> None:
        c = psycopg2.connect(settings.database_url)
        try:
            outcome.append(pipeline.process_pending(run_settings, c, models, workers=workers))
        except BaseException as exc:
            outcome.append(exc)
        finally:
            c.close()

    runner = threading.Thread(target=run)
    runner.start()
    waiting = f"{others} AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + 120
    try:
        while count(db, waiting) < 2:  # both workers are in the middle of saving a batch
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)
        runner.join(timeout=120)
    finally:
        blocker.rollback()
        blocker.close()
        workers.close()
    assert len(outcome) == 1 and isinstance(outcome[0], BrokenProcessPool)
    while count(db, others) > 0:  # the dead workers' sessions end once the lock is gone
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'new'") == 200
    assert count(db, "SELECT count(*) FROM article_topics") == 0

    retry = pipeline.process_pending(replace(settings, process_workers=1), db, models)
    assert retry.processed == 200
    tagged = "SELECT count(*) FROM (SELECT article_id FROM article_topics GROUP BY article_id) t"
    assert count(db, tagged) == 200


def test_a_limit_is_kept_exactly_by_parallel_workers(
    db: Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    models: Models,
) -> None:
    monkeypatch.setattr(pipeline.process, "_PARALLEL_MIN_PENDING", 10)
    seed_articles(db, 40)
    report = pipeline.process_pending(
        replace(settings, batch_size=4, process_workers=2), db, models, limit=11
    )
    assert report.processed == 11
    assert count(db, "SELECT count(*) FROM articles WHERE status = 'new'") == 29
