"""Inbox files → articles, started by files being dropped into the inbox (no clock schedule)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Metadata, dag, task

from monitor.orchestration.defaults import ARTICLES, default_args, inbox_asset
from monitor.settings import Settings

settings = Settings.from_env()
INBOX = inbox_asset(settings)

DOC = f"""
### Inbox ingestion

Runs **when files are dropped** into the inbox folder `{settings.inbox_dir.resolve()}`: the triggerer
watches it (`InboxTrigger`), claims each completely written file by an atomic rename into
`claimed/` (never deleting it) and fires the **inbox** asset, which starts this DAG within seconds.

* `.txt`/`.md` (title line, paragraphs, sub-headings, trailing source line), `.html` (main text
  extracted) and `.jsonl` (one article per line) are accepted.
* A stored file moves to `processed/`; an unusable one to `rejected/` with a `.reason.txt` beside it
  and a row in `rejects`. The same content dropped again is a duplicate, never a second article.
* Emits the **articles** asset with the counts, which starts `monitor_process`.
"""


@dag(
    dag_id="monitor_ingest_inbox",
    schedule=[INBOX],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # one run takes everything claimed so far; overlapping runs would only race
    default_args=default_args(settings),
    tags=["security-monitor", "ingest"],
    doc_md=DOC,
)
def monitor_ingest_inbox() -> None:
    @task(outlets=[ARTICLES])
    def ingest():  # type: ignore[no-untyped-def]
        from monitor.orchestration import tasks

        counts = tasks.ingest_inbox()
        yield Metadata(
            ARTICLES, {"origin": "inbox", **{k: v for k, v in counts.items() if isinstance(v, int)}}
        )
        return counts

    ingest()


monitor_ingest_inbox()
