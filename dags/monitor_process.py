"""New articles → clean, deduplicated, classified, tagged. Runs whenever articles arrive."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, dag, task

from monitor.orchestration.defaults import ARTICLES, PROCESSED, default_args
from monitor.settings import Settings

settings = Settings.from_env()

DOC = """
### Processing

Scheduled on the **articles** asset: runs when feed or inbox ingestion stored something.

Takes `status = new` articles in batches (one transaction each, claimed with `FOR UPDATE SKIP LOCKED`,
so a retry resumes where a crash stopped and parallel workers never share an article): HTML → clean
text, language, exact-duplicate check on the clean text, security-topic classification **with
evidence** (taxonomy `classify/taxonomies/security.yaml`), entities (countries, places,
organisations, people). Emits the **processed_articles** asset with the counts.

`alert_spikes` then compares the volume of the run's day per topic and per country with the previous
28 days and, when `MONITOR_SPIKE_ALERTS=true`, mails new spikes at once (table `alerts`; each spike once). The
daily digest shows them at the top either way.

`watch` records the articles that match each analyst's watch-list (`monitor watch add`, or the
Watch-lists page) and mails them, at most once per watch-list per its interval.
"""


@dag(
    dag_id="monitor_process",
    schedule=[ARTICLES],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(settings),
    tags=["security-monitor", "process"],
    doc_md=DOC,
)
def monitor_process() -> None:
    @task(outlets=[PROCESSED])
    def process():  # type: ignore[no-untyped-def]
        from monitor.orchestration import tasks

        counts = tasks.process_pending()
        yield Metadata(PROCESSED, counts)
        return counts

    @task
    def alert_spikes(**context) -> dict:  # type: ignore[no-untyped-def]
        from monitor.orchestration import tasks

        return tasks.alert_spikes(context)

    @task
    def watch() -> dict:  # type: ignore[no-untyped-def]
        from monitor.orchestration import tasks

        return tasks.check_watchlists()

    processed = process()
    processed >> alert_spikes()
    processed >> watch()


monitor_process()
