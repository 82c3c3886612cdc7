"""Which day a run of the digest DAG is about, when it needs no database: a `date` param, and a
scheduled run (the day before it, in MONITOR_TIMEZONE). A manual run without a date reads the
database: tests/integration/test_digest_first_run.py and tests/dags/test_dag_e2e.py."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from monitor.orchestration.tasks import digest_day


def context(run_type: str, when: datetime, **params: object) -> dict[str, object]:
    return {
        "params": params,
        "logical_date": when,
        "dag_run": SimpleNamespace(run_type=run_type, run_after=when),
    }


def test_a_date_param_wins_whatever_the_run() -> None:
    assert (
        digest_day(context("manual", datetime(2026, 3, 10, 5, tzinfo=UTC), date="2026-01-02")) == "2026-01-02"
    )


def test_a_scheduled_run_is_about_the_day_before_it_in_the_configured_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MONITOR_TIMEZONE", "Asia/Tokyo")
    # 06:00 in Tokyo on 10 March is 21:00 UTC on 9 March: the day before is 9 March in Tokyo.
    assert digest_day(context("scheduled", datetime(2026, 3, 9, 21, tzinfo=UTC), date=None)) == "2026-03-09"
    monkeypatch.setenv("MONITOR_TIMEZONE", "UTC")
    assert digest_day(context("scheduled", datetime(2026, 3, 9, 21, tzinfo=UTC))) == "2026-03-08"
