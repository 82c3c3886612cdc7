"""The DAG files: they import cleanly, declare what operators need, and stay light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {"monitor_ingest_feeds", "monitor_ingest_inbox", "monitor_process", "monitor_daily_digest"}


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors_and_all_dags(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_every_dag_has_tags_docs_and_no_catchup(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id in EXPECTED:
        dag = dagbag.dags[dag_id]
        assert "security-monitor" in dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 200, dag_id
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id


def test_io_tasks_retry_with_backoff(dagbag) -> None:  # type: ignore[no-untyped-def]
    # `publish` only adds up XCom values of its upstream tasks: no I/O, no retries needed.
    no_io = {("monitor_ingest_feeds", "publish"), ("monitor_daily_digest", "digest_date")}
    for dag_id in EXPECTED:
        for task in dagbag.dags[dag_id].tasks:
            if (dag_id, task.task_id) in no_io:
                continue
            assert task.retries >= 2, (dag_id, task.task_id)
            assert task.retry_exponential_backoff == 2.0, (dag_id, task.task_id)


def test_schedules_and_assets(dagbag) -> None:  # type: ignore[no-untyped-def]
    feeds = dagbag.dags["monitor_ingest_feeds"]
    assert feeds.timetable.serialize()["expression"] == "*/15 * * * *"
    fetch = feeds.get_task("fetch")
    assert fetch.pool == "monitor_fetch"
    inbox = dagbag.dags["monitor_ingest_inbox"]
    watchers = [w for a in inbox.timetable.asset_condition.objects for w in a.watchers]
    assert [type(w.trigger).__name__ for w in watchers] == ["InboxTrigger"]
    process = dagbag.dags["monitor_process"]
    assert [a.name for a in process.timetable.asset_condition.objects] == ["articles"]
    assert [o.name for o in process.get_task("process").outlets] == ["processed_articles"]
    digest = dagbag.dags["monitor_daily_digest"]
    assert digest.timetable.serialize()["expression"] == "0 6 * * *"
    assert set(digest.params.keys()) == {"date", "force_send"}


def test_dag_files_import_with_no_database_reachable(tmp_path: Path) -> None:
    """Parsing touches neither the monitor's database nor Airflow's: both point nowhere here."""
    env = dict(os.environ)
    env.update(
        {
            "MONITOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://nobody@127.0.0.1:1/nothing",
            "AIRFLOW_HOME": str(tmp_path),
        }
    )
    code = (
        "import sys, time; t = time.monotonic()\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"b = DagBag(dag_folder={str(REPO / 'dags')!r})\n"
        "assert not b.import_errors, b.import_errors\n"
        "assert len(b.dags) == 4, b.dags\n"
        # Heavy libraries and the database layer stay out of DAG parsing; they are imported inside the tasks.
        "heavy = ('matplotlib', 'trafilatura', 'feedparser', 'monitor.pipeline', 'monitor.store.db')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_plugin_registers_the_monitor_pages() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("monitor_plugin", REPO / "plugins" / "monitor_plugin.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.SecurityMonitorPlugin
    assert [a["url_prefix"] for a in plugin.fastapi_apps] == ["/security-monitor"]
    routes = {r.path for r in plugin.fastapi_apps[0]["app"].routes}
    assert {"/digests", "/digests/{day}", "/search"} <= routes
    assert all(v["href"].startswith("/security-monitor/") for v in plugin.external_views)
