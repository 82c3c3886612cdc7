"""The four DAGs end to end with dag.test(): real PostgreSQL (monitor and Airflow metadata), a feed
from a local HTTP server, files in an inbox folder, and a real SMTP server (aiosmtpd) that receives
the digest, which is parsed and checked."""

from __future__ import annotations

import email
import email.policy
import json
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from httpserver import Route, serve
from monitor.store.db import Connection
from ports import free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>E2E Wire</title><link>https://e2e.example/</link><description>t</description>
<item><title>Car bomb kills nine near army base</title><link>https://e2e.example/car-bomb</link>
<guid>https://e2e.example/car-bomb</guid><pubDate>Mon, 02 Nov 2026 06:00:00 GMT</pubDate>
<description>&lt;p&gt;A car bomb exploded outside an army base, killing nine soldiers. Police said the
terrorist attack bore the hallmarks of the Islamic State.&lt;/p&gt;</description></item>
<item><title>Smugglers caught with cocaine at port</title><link>https://e2e.example/cocaine</link>
<guid>https://e2e.example/cocaine</guid><pubDate>Mon, 02 Nov 2026 07:00:00 GMT</pubDate>
<description>&lt;p&gt;Customs officers seized two tonnes of cocaine hidden in a banana shipment; the drug
trafficking cartel behind it is under investigation.&lt;/p&gt;</description></item>
</channel></rss>"""


class Inbox:
    """The received mail of a real SMTP server."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture(autouse=True)
def signal_handlers_restored() -> Iterator[None]:
    """dag.test() runs tasks in this process, and Airflow's task runner installs its own SIGTERM
    handler; later tests in the same process (forked processing workers) must not inherit it."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    from aiosmtpd.controller import Controller

    port = free_port()
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def _monitor_conn(database_url: str) -> str:
    parts = urlsplit(database_url)
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    fields = {
        "conn_type": "postgres",
        "host": socket_dir or parts.hostname,
        "port": parts.port,
        "login": parts.username,
        "password": parts.password,
        "schema": parts.path.lstrip("/"),
    }
    return json.dumps({k: v for k, v in fields.items() if v})


def _task_times(airflow_db: str, dag_id: str, tasks: tuple[str, str]) -> tuple[datetime, datetime]:
    """The end of the first task and the start of the second in the DAG's latest run (Airflow's
    metadata database)."""
    import psycopg2

    conn = psycopg2.connect(airflow_db.replace("postgresql+psycopg2://", "postgresql://", 1))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT ti.task_id, ti.start_date, ti.end_date FROM task_instance ti
                    WHERE ti.dag_id = %s AND ti.run_id = (SELECT run_id FROM dag_run WHERE dag_id = %s
                                                          ORDER BY id DESC LIMIT 1)""",
                (dag_id, dag_id),
            )
            times = {task: (start, end) for task, start, end in cur.fetchall()}
    finally:
        conn.close()
    return times[tasks[0]][1], times[tasks[1]][0]


def _xcom(airflow_db: str, dag_id: str, task_id: str) -> Any:
    """The return value of `task_id` in the DAG's latest run (Airflow's metadata database)."""
    import psycopg2

    conn = psycopg2.connect(airflow_db.replace("postgresql+psycopg2://", "postgresql://", 1))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT x.value FROM xcom x
                    WHERE x.dag_id = %s AND x.task_id = %s AND x.key = 'return_value'
                      AND x.run_id = (SELECT run_id FROM dag_run WHERE dag_id = %s
                                      ORDER BY id DESC LIMIT 1)""",
                (dag_id, task_id, dag_id),
            )
            (value,) = cur.fetchone()
    finally:
        conn.close()
    return json.loads(value) if isinstance(value, str | bytes) else value


def _task_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, smtp_port: int, tmp_path: Path, **extra: str
) -> None:
    """What the DAGs' tasks read when they run: the connections, the inbox `tmp_path/inbox`, UTC."""
    for name, value in {
        "AIRFLOW_CONN_MONITOR_DB": _monitor_conn(database_url),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp_port}
        ),
        "MONITOR_INBOX": str(tmp_path / "inbox"),
        "MONITOR_OUT": str(tmp_path / "out"),
        "MONITOR_HOME": str(tmp_path / "home"),
        "MONITOR_TIMEZONE": "UTC",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)


def _rows(db: Connection, sql: str) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute(sql)
        rows = list(cur.fetchall())
    db.commit()
    return rows


@pytest.mark.slow
def test_feed_and_inbox_to_mailed_digest_once_per_date(
    airflow_db: str,
    database_url: str,
    db: Connection,
    smtp_server: tuple[int, Inbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_port, mailbox = smtp_server
    inbox_dir = tmp_path / "inbox"
    inbox_dir.mkdir()
    (inbox_dir / "workshop.txt").write_bytes((FIXTURES / "golden" / "bishkek_workshop.txt").read_bytes())
    _task_environment(
        monkeypatch,
        database_url,
        smtp_port,
        tmp_path,
        MONITOR_DIGEST_RECIPIENTS="analysts@example.org,desk@example.org",
        MONITOR_FETCH_ALLOW_NETWORKS="127.0.0.0/8",  # the local feed server
    )

    from airflow.dag_processing.dagbag import DagBag

    from monitor.store import sources

    dags = DagBag(dag_folder=str(REPO / "dags")).dags
    with serve({"/feed.xml": Route(body=FEED, headers={"Content-Type": "application/rss+xml"})}) as base:
        sources.add_feed(db, base + "/feed.xml", "E2E Wire", 15)
        run = dags["monitor_ingest_feeds"].test()
        assert run.state == "success"
    run = dags["monitor_ingest_inbox"].test()
    assert run.state == "success"
    assert _rows(db, "SELECT count(*) FROM articles") == [(3,)]
    assert (inbox_dir / "processed" / "workshop.txt").exists()

    run = dags["monitor_process"].test()
    assert run.state == "success"
    assert _rows(db, "SELECT status, count(*) FROM articles GROUP BY status") == [("processed", 3)]

    # The first run after installing: the scheduled run digests yesterday, an empty day, stored but
    # never mailed, and the send task's result says why.
    now = datetime.now(UTC)
    today, yesterday = now.date().isoformat(), (now - timedelta(days=1)).date().isoformat()
    digest = dags["monitor_daily_digest"]
    assert digest.test(run_conf={"date": yesterday}).state == "success"
    assert mailbox.messages == []
    sent = _xcom(airflow_db, "monitor_daily_digest", "send")
    assert (sent["date"], sent["sent"]) == (yesterday, False)
    assert sent["reason"].startswith("no articles in the window")
    assert f"today has 3 articles so far: date={today} mails a preview" in sent["reason"]
    assert _rows(db, "SELECT digest_date::text, sent_at, unsent_reason FROM digests") == [
        (yesterday, None, "no articles in the window")
    ]

    # A manual run with its defaults (no date): no complete day has articles, today has, so it is a
    # preview of the day so far, mailed, marked in the subject, not recorded as sent.
    # (run_conf names the empty date: dag.test() keeps the params of the previous run on the DAG.)
    assert digest.test(run_conf={"date": None}).state == "success"
    assert len(mailbox.messages) == 1
    msg = mailbox.messages[0]
    assert msg["Subject"].startswith(f"Security digest {today} (preview): 3 articles")
    assert msg["To"] == "analysts@example.org, desk@example.org"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for title in (
        "Car bomb kills nine near army base",
        "Smugglers caught with cocaine at port",
        "Regional Counter-Terrorism Workshop Opens In Bishkek",
    ):
        assert title in text and title in html
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f"cid:{cid}" in html
    assert images[0].get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert _rows(db, f"SELECT sent_at, preview FROM digests WHERE digest_date = '{today}'") == [(None, True)]
    # What was mailed is what `build` stored, and `send` did not build it again: the stored row is
    # older than the send task (a rebuild rewrites it, and its built_at, while sending).
    ((stored_text, built_at),) = _rows(
        db, f"SELECT text, built_at FROM digests WHERE digest_date = '{today}'"
    )
    assert text.replace("\r\n", "\n") == stored_text  # the mail has CRLF line ends (RFC 5322)
    build_end, send_start = _task_times(airflow_db, "monitor_daily_digest", ("build", "send"))
    assert built_at <= build_end < send_start

    # The next morning (the articles' day moved back by one, as if the day had passed; the counts
    # cached for the days before go with it): a manual run without a date digests the day that is
    # now over and has the articles, mails it in full and records it...
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET first_seen_at = first_seen_at - interval '1 day'")
        cur.execute("TRUNCATE daily_counts, daily_counts_done")
    db.commit()
    assert digest.test(run_conf={"date": None, "force_send": False}).state == "success"
    assert len(mailbox.messages) == 2
    assert mailbox.messages[1]["Subject"].startswith(f"Security digest {yesterday}: 3 articles")
    assert "(preview)" not in mailbox.messages[1]["Subject"]
    assert _rows(db, f"SELECT sent_to FROM digests WHERE digest_date = '{yesterday}'") == [
        ("analysts@example.org, desk@example.org",)
    ]
    # ...once: a re-run for the same date does not mail again and says why...
    assert digest.test(run_conf={"date": yesterday}).state == "success"
    assert len(mailbox.messages) == 2
    assert "force_send" in _xcom(airflow_db, "monitor_daily_digest", "send")["reason"]
    # ...unless forced.
    assert digest.test(run_conf={"date": yesterday, "force_send": True}).state == "success"
    assert len(mailbox.messages) == 3


@pytest.mark.slow
def test_spike_alert_of_a_rerun_is_about_the_runs_day(
    airflow_db: str,
    database_url: str,
    db: Connection,
    smtp_server: tuple[int, Inbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run of the processing DAG for a past day (a rerun, a backfill) alerts on that day's spikes,
    whatever the clock says when it runs."""
    from dataclasses import replace

    from monitor import pipeline
    from monitor.analyze import Models
    from monitor.settings import Settings

    smtp_port, mailbox = smtp_server
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    inbox_dir = tmp_path / "inbox"
    inbox_dir.mkdir()
    lines = [
        json.dumps(
            {
                "title": f"Bomb attack number {i}",
                "text": f"A terrorist bomb attack in town {i} killed "
                "several people; police said the suicide bomber belonged to an extremist cell.",
            }
        )
        for i in range(7)
    ]
    (inbox_dir / "attacks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = replace(Settings(), database_url=database_url, inbox_dir=inbox_dir, progress=False)
    models = Models.load(replace(settings, cache_dir=REPO / ".monitor" / "cache"))
    # A week of history before it (a smuggling report a day): without it no day can spike.
    from monitor.models import FeedItem
    from monitor.store import articles

    for back in range(1, 8):
        text = f"Border guards seized heroin from a drug trafficking gang. Report {back}."
        item = (FeedItem(title=f"Seizure {back}", raw=text), f"history-{back}")
        articles.insert_items(
            db, source_id=None, origin="inbox", items=[item], seen_at=day - timedelta(days=back)
        )
    db.commit()
    pipeline.ingest_inbox(settings, db, now=day)
    assert pipeline.process_pending(settings, db, models).processed == 14
    _task_environment(
        monkeypatch,
        database_url,
        smtp_port,
        tmp_path,
        MONITOR_DIGEST_RECIPIENTS="desk@example.org",
        MONITOR_SPIKE_ALERTS="true",
    )

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["monitor_process"]
    assert dag.test(logical_date=day).state == "success"
    subjects = [str(m["Subject"]) for m in mailbox.messages]
    assert len(subjects) == 1 and subjects[0].startswith("[security monitor] spike alert 2026-03-10:"), (
        subjects
    )
    assert _rows(db, "SELECT DISTINCT alert_date::text FROM alerts") == [("2026-03-10",)]
