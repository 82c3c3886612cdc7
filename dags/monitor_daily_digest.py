"""The daily digest: built from the database for the previous day and mailed once per date (never
when the day had no articles; a day not yet over only as a preview)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from monitor.orchestration.defaults import default_args
from monitor.settings import Settings

settings = Settings.from_env()

DOC = f"""
### Daily digest

At `{settings.digest_cron}` ({settings.timezone}) builds the digest of the **previous day** (the run's
data interval) in {settings.timezone}: counts by topic and by country, then per topic the articles
ranked by score and recency with the evidence for every tag and their entities.

* `build` stores it (table `digests`) and writes `out/digest-YYYY-MM-DD.html` and `.txt`.
* `send` mails the digest `build` stored (it never builds again) through the `smtp_default`
  connection to the Variable `monitor_digest_recipients` (or `MONITOR_DIGEST_RECIPIENTS`): HTML with
  inline CSS, plain text, and a chart of volume by topic as an inline image. **Once per date**: a
  retry or a re-run does not send again (recorded in the database) unless the run is triggered with
  the param `force_send = true`.
* **A day without articles is never mailed** (not even with `force_send`): its digest is stored and
  viewable, and the reason "no articles in the window" is recorded with it, logged, and returned by
  `send` (its XCom `reason`). So the first run after installing mails nothing.
* Trigger it by hand with a `date` param (YYYY-MM-DD) to rebuild and send any day. **Without a
  date** a manual run builds the latest complete day that has articles; when only today has any (a fresh
  install), a preview of today; else yesterday,
  and says in the `digest_date` task's log which day it chose; when nothing is mailed, the `send`
  task's log and result say why (an empty day, or already sent: then use `force_send`).
* **Today's date gives a preview**: the day is not over in {settings.timezone}, so the digest (subject
  marked "(preview)") is mailed but never recorded as sent; the full digest of that day still goes
  out the next morning.
"""


@dag(
    dag_id="monitor_daily_digest",
    schedule=CronTriggerTimetable(settings.digest_cron, timezone=settings.timezone),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # never mail a backlog of old digests after downtime
    max_active_runs=1,
    default_args=default_args(settings),
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            description=(
                "Digest date (YYYY-MM-DD); empty: the latest complete day with articles, else today's "
                "preview (a scheduled run: the day before the run); today: a preview, never "
                "recorded as sent"
            ),
        ),
        "force_send": Param(
            False,
            type="boolean",
            description="Send even if this date was already sent (a day without articles is never sent)",
        ),
    },
    tags=["security-monitor", "digest"],
    doc_md=DOC,
)
def monitor_daily_digest() -> None:
    @task
    def digest_date(**context) -> str:  # type: ignore[no-untyped-def]
        from monitor.orchestration import tasks

        return tasks.digest_day(context)

    @task
    def build(day: str) -> dict:
        from monitor.orchestration import tasks

        return tasks.build_digest(day)

    @task
    def send(day: str, built: dict, **context) -> dict:  # type: ignore[no-untyped-def]
        # Mails what `build` stored; it never builds again.
        from monitor.orchestration import tasks

        return tasks.send_digest(day, force=bool(context["params"].get("force_send")))

    day = digest_date()
    send(day, build(day))


monitor_daily_digest()
