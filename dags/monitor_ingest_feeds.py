"""Feeds → articles, every 15 minutes (MONITOR_FEED_SCHEDULE)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from monitor.orchestration.defaults import ARTICLES, default_args
from monitor.settings import Settings

settings = Settings.from_env()

DOC = """
### Feed ingestion

Fetches the RSS/Atom feeds that are **due** (each feed has its own interval; failing feeds back off
exponentially, up to a day) and stores new items verbatim as articles.

* `plan` lists the due feeds in batches of 20; `fetch` is **mapped over the batches** (never one task
  per feed) and runs in the `monitor_fetch` pool, which limits how many batches fetch at once.
* Conditional GET (`If-None-Match` / `If-Modified-Since`), timeouts and a size cap on every request;
  every attempt is in the `fetch_log` table, feed state in `sources` (`monitor sources list`).
* `publish` emits the **articles** asset with the counts, which starts `monitor_process`.

Manage feeds with `monitor sources add URL --name NAME --interval MINUTES`.
"""


@dag(
    dag_id="monitor_ingest_feeds",
    # A trigger timetable: runs at the cron times themselves (no data intervals to wait for).
    schedule=CronTriggerTimetable(settings.feed_schedule, timezone=settings.timezone),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # a missed poll is simply the next poll; replays would only refetch the same feeds
    max_active_runs=1,
    default_args=default_args(settings),
    tags=["security-monitor", "ingest"],
    doc_md=DOC,
)
def monitor_ingest_feeds() -> None:
    @task
    def plan() -> list[list[int]]:
        from monitor.orchestration import tasks

        return tasks.feed_batches()

    @task(pool="monitor_fetch", max_active_tis_per_dagrun=4)
    def fetch(feed_ids: list[int]) -> dict:
        from monitor.orchestration import tasks

        return tasks.ingest_feed_batch(feed_ids)

    @task(outlets=[ARTICLES], retries=0)
    def publish(results: list[dict]):  # type: ignore[no-untyped-def]
        from monitor.orchestration import tasks

        counts = tasks.sum_counts(list(results))
        yield Metadata(ARTICLES, {"origin": "feeds", **counts})

    publish(fetch.expand(feed_ids=plan()))


monitor_ingest_feeds()
