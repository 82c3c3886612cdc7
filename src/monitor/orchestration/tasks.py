"""What the DAG tasks call: one function per task, each returning small JSON-able counts for XCom.

Settings come from the environment as everywhere else; inside Airflow the `monitor_db` connection
(if defined) gives the database and `smtp_default` the mail server, and the Airflow Variable
`monitor_digest_recipients` (if set) overrides MONITOR_DIGEST_RECIPIENTS. Airflow is imported inside
the functions that need it, so this module also imports (and is testable) without Airflow set up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import date
from email.message import EmailMessage
from typing import Any

from monitor.settings import Settings

log = logging.getLogger(__name__)

MONITOR_DB_CONN_ID = "monitor_db"
SMTP_CONN_ID = "smtp_default"
RECIPIENTS_VARIABLE = "monitor_digest_recipients"
FEED_POOL = "monitor_fetch"


def _airflow_connection(conn_id: str) -> Any | None:
    """The Airflow connection `conn_id`, or None when it is not defined (then settings apply)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def dsn_from_connection(conn: Any) -> str:
    """A libpq DSN from an Airflow postgres connection's fields.

    Built from fields rather than `get_uri()`, because a unix-socket host (the embedded server's data
    folder) does not survive the URI round trip.
    """
    from psycopg2.extensions import make_dsn

    params = {
        "host": conn.host or None,
        "port": conn.port or None,
        "user": conn.login or None,
        "password": conn.password or None,
        "dbname": conn.schema or None,
    }
    return make_dsn(**{k: v for k, v in params.items() if v is not None})


def task_settings() -> Settings:
    """The settings of a task, read when it runs (never when the DAG file is parsed), with the
    database resolved: the `monitor_db` connection, else MONITOR_DATABASE_URL, else the embedded
    server of a one-machine install."""
    from monitor.dev.embedded import with_database_url

    settings = Settings.from_env()
    conn = _airflow_connection(MONITOR_DB_CONN_ID)
    if conn is not None:
        settings = replace(settings, database_url=dsn_from_connection(conn))
    return replace(with_database_url(settings), progress=False)  # task logs are not terminals


def _models(settings: Settings) -> Any:
    from monitor.analyze import Models

    return Models.load(settings)


@contextmanager
def _database(settings: Settings) -> Iterator[Any]:
    from monitor.store.db import connect, migrate

    assert settings.database_url is not None  # resolved by task_settings
    conn = connect(settings.database_url)
    try:
        migrate(conn, settings.migrations_dir)  # a no-op once applied; makes a fresh database usable
        yield conn
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------- tasks


def feed_batches(batch_size: int = 20) -> list[list[int]]:
    """Ids of due feeds in batches; each batch becomes one mapped fetch task (never one per feed)."""
    from monitor import pipeline

    settings = task_settings()
    with _database(settings) as conn:
        return pipeline.due_feed_batches(conn, batch_size)


def ingest_feed_batch(feed_ids: list[int]) -> dict[str, Any]:
    from monitor import pipeline

    settings = task_settings()
    with _database(settings) as conn:
        report = pipeline.ingest_due_feeds(settings, conn, feed_ids=feed_ids)
    for problem in report.problems:
        log.warning("feed problem: %s", problem)
    counts = asdict(report)
    counts["problems"] = len(report.problems)
    return counts


def sum_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """Add up the counts of mapped tasks (for the asset event's metadata and the task log)."""
    total: dict[str, int] = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
    return total


def ingest_inbox() -> dict[str, Any]:
    from monitor import pipeline

    settings = task_settings()
    with _database(settings) as conn:
        report = pipeline.ingest_inbox(settings, conn)
    for problem in report.problems:
        log.warning("inbox problem: %s", problem)
    counts = asdict(report)
    counts["problems"] = len(report.problems)
    return counts


def process_pending() -> dict[str, Any]:
    from monitor import pipeline

    settings = task_settings()
    with _database(settings) as conn:
        report = pipeline.process_pending(settings, conn, _models(settings))
        stories = pipeline.assign_stories(settings, conn)
    return {
        **asdict(report),
        "stories_assigned": stories.assigned,
        "near_duplicates": stories.near_duplicates,
        "new_stories": stories.new_stories,
    }


def digest_recipients(settings: Settings) -> list[str]:
    from airflow.sdk import Variable

    value = Variable.get(RECIPIENTS_VARIABLE, default=None)
    if value:
        return [r.strip() for r in str(value).split(",") if r.strip()]
    return list(settings.digest_recipients)


def smtp_transport() -> Any:
    """Send through the Airflow connection `smtp_default` (host, port, login, password, extra ssl/
    starttls flags as in the SMTP provider)."""
    from monitor.digest.mail import send_message

    conn = _airflow_connection(SMTP_CONN_ID)
    if conn is None:
        from monitor.errors import ConfigError

        raise ConfigError(f"the Airflow connection {SMTP_CONN_ID!r} is not defined")
    extra = conn.extra_dejson or {}

    def _flag(name: str, default: bool) -> bool:
        value = extra.get(name, default)
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}

    use_ssl = _flag("ssl", False)

    def transport(msg: EmailMessage) -> None:
        send_message(
            msg,
            host=conn.host or "localhost",
            port=int(conn.port or (465 if use_ssl else 25)),
            username=conn.login or None,
            password=conn.password or None,
            use_ssl=use_ssl,
            starttls=_flag("starttls", False) and not use_ssl,
            timeout=float(extra.get("timeout", 30)),
        )

    return transport


def build_digest(day: str) -> dict[str, Any]:
    """Build and store the digest of `day` (the send task mails this stored digest)."""
    from monitor import pipeline

    settings = task_settings()
    with _database(settings) as conn:
        result = pipeline.build_daily_digest(settings, conn, _models(settings), date.fromisoformat(day))
    if result.preview:
        log.info("digest %s is a preview: the day is not over in %s", day, settings.timezone)
    return {
        "date": day,
        "articles": result.articles,
        "preview": result.preview,
        "subject": result.subject,
        "html": str(result.html_path),
    }


def _not_sent_hint(settings: Settings, conn: Any, day: date, reason: str) -> str:
    """What an operator can do about a digest that was not mailed, added to the reason."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from monitor.digest.build import digest_window
    from monitor.pipeline.digest import EMPTY_WINDOW
    from monitor.store import digests as digest_store

    if reason == EMPTY_WINDOW:
        start, end = digest_window(day, settings.timezone)
        today = datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()
        so_far = digest_store.window_counts(conn, *digest_window(today, settings.timezone)).total
        conn.commit()
        hint = f"{reason} ({start.isoformat()} to {end.isoformat()}): nothing to mail"
        if so_far and today != day:
            hint += f"; today has {so_far} articles so far: date={today.isoformat()} mails a preview of them"
        return hint
    if reason.startswith("already sent"):
        return f"{reason}; trigger with force_send=true to send it again"
    return reason


def send_digest(day: str, force: bool = False) -> dict[str, Any]:
    """Mail the digest of `day` as the build task stored it, once per date unless `force`; a digest of
    an empty window never, and a preview (a day not yet over) without recording it as sent. When
    nothing is mailed the result's `reason` says why."""
    from monitor import pipeline

    settings = task_settings()
    recipients = digest_recipients(settings)
    transport = smtp_transport()
    the_day = date.fromisoformat(day)
    with _database(settings) as conn:
        result = pipeline.send_daily_digest(
            settings,
            conn,
            _models(settings),
            the_day,
            transport=transport,
            recipients=recipients,
            force=force,
        )
        reason = result.reason if result.sent else _not_sent_hint(settings, conn, the_day, result.reason)
    if result.sent:
        log.info("digest %s: %s", day, reason)
    else:
        log.warning("digest %s NOT mailed: %s", day, reason)
    return {
        "date": day,
        "sent": result.sent,
        "preview": result.preview,
        "reason": reason,
        "articles": result.articles,
    }


def run_moment(context: Any) -> Any:
    """When a run is about: its logical date, or (Airflow 3 manual and asset-triggered runs may have
    none) its `run_after`. The same for a rerun of that run, whatever the clock says then."""
    return context.get("logical_date") or context["dag_run"].run_after


def digest_day(context: Any) -> str:
    """The digest date of a run: the `date` param if given; for a manual run without one, the latest
    complete day with articles (else today's preview, else yesterday; see
    `pipeline.latest_complete_day`); else (a scheduled run, a backfill) the day before the run.
    Days are local to the time zone of the settings when the task runs."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    param = (context.get("params") or {}).get("date")
    if param:
        return date.fromisoformat(str(param)).isoformat()
    moment = run_moment(context)
    run_type = getattr(context.get("dag_run"), "run_type", None)
    if run_type == "manual":
        from monitor import pipeline

        settings = task_settings()
        with _database(settings) as conn:
            day = pipeline.latest_complete_day(settings, conn, now=moment)
        log.info(
            "no date given: the digest of %s, the latest complete day with articles in %s (else "
            "today's preview when only today has articles, else yesterday); give date=YYYY-MM-DD "
            "for another day, today's for a preview",
            day.isoformat(),
            settings.timezone,
        )
        return day.isoformat()
    timezone = Settings.from_env().timezone
    return (moment.astimezone(ZoneInfo(timezone)) - timedelta(days=1)).date().isoformat()


def alert_spikes(context: Any) -> dict[str, Any]:
    """Mail the new spikes of the run's day at once when MONITOR_SPIKE_ALERTS is on (the digest shows
    them anyway). The day is the run's (its local date), so a rerun of yesterday's run judges
    yesterday, not today."""
    from zoneinfo import ZoneInfo

    from monitor import pipeline

    settings = task_settings()
    day = run_moment(context).astimezone(ZoneInfo(settings.timezone)).date()
    if not settings.spike_alerts:
        return {"enabled": False, "date": day.isoformat(), "sent": 0}
    recipients = list(settings.alert_recipients) or digest_recipients(settings)
    transport = smtp_transport()
    with _database(settings) as conn:
        sent = pipeline.send_spike_alerts(
            settings, conn, _models(settings), day, transport=transport, recipients=recipients
        )
    return {"enabled": True, "date": day.isoformat(), "sent": sent}


def check_watchlists() -> dict[str, Any]:
    """Record the new hits of every watch-list and mail those whose interval has passed (to the
    watch-list's own recipients, else the alert recipients). Without an SMTP connection hits are
    still recorded (the UI shows them) and the mail waits."""
    from monitor import pipeline
    from monitor.errors import ConfigError

    settings = task_settings()
    try:
        transport = smtp_transport()
    except ConfigError as exc:  # no mail server must not lose the hits
        log.warning("watch-lists: no mail (%s); hits are recorded", exc)
        transport = None
    recipients = list(settings.alert_recipients) or digest_recipients(settings)
    with _database(settings) as conn:
        r = pipeline.check_watchlists(settings, conn, transport=transport, recipients=recipients)
    return {
        "watchlists": r.watchlists,
        "new_hits": r.new_hits,
        "mails": r.mails,
        "mailed_hits": r.mailed_hits,
        "waiting": r.waiting,
    }
