"""What the four DAG files share: the assets that connect them and the task defaults.

Imported at DAG-file top level, so it stays light: only `airflow.sdk` declarations and the SMTP
notifier class, no database, no network, no pipeline modules.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import Asset, AssetWatcher

from monitor.orchestration.triggers import InboxTrigger
from monitor.settings import Settings

# Producers (feed and inbox ingestion) emit ARTICLES with counts; processing is scheduled on it.
ARTICLES = Asset(name="articles", uri="x-monitor://articles")
# Processing emits PROCESSED; anything downstream (alerts, exports) can be scheduled on it.
PROCESSED = Asset(name="processed_articles", uri="x-monitor://processed-articles")


def inbox_asset(settings: Settings) -> Asset:
    """The inbox folder as an asset whose watcher fires when files are dropped into it."""
    inbox = str(settings.inbox_dir.resolve())
    return Asset(
        name="inbox",
        uri="x-monitor://inbox",
        watchers=[AssetWatcher(name="inbox_files", trigger=InboxTrigger(inbox=inbox, poke_interval=2.0))],
    )


def default_args(settings: Settings) -> dict[str, Any]:
    """Retries with exponential backoff for every task (they all do I/O: database, network, files) and
    a task-level failure e-mail (a DAG-level SmtpNotifier crashes under dag.test(), see DESIGN.md)."""
    args: dict[str, Any] = {
        "owner": "security-monitor",
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
    }
    if settings.alert_recipients:
        args["on_failure_callback"] = [
            SmtpNotifier(
                to=list(settings.alert_recipients),
                from_email=settings.mail_from,
                subject="[security monitor] {{ ti.dag_id }}.{{ ti.task_id }} failed",
                html_content=(
                    "<p>Task <b>{{ ti.task_id }}</b> of <b>{{ ti.dag_id }}</b> failed "
                    "(run {{ ti.run_id }}, try {{ ti.try_number }}).</p>"
                ),
            )
        ]
    return args
