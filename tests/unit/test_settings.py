"""Settings: what they show of themselves in logs and tracebacks."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError
from monitor.settings import Settings, redact_url


def test_settings_never_show_the_passwords_of_their_urls() -> None:
    settings = Settings.from_env(
        {
            "MONITOR_DATABASE_URL": "postgresql://monitor:db-S3cret@db.example:5432/monitor?sslmode=require",
            "MONITOR_SMTP_URL": "smtp://mailer:smtp-S3cret@mail.example:587?starttls=1",
        }
    )
    shown = repr(settings)
    assert "db-S3cret" not in shown and "smtp-S3cret" not in shown
    assert "postgresql://monitor:***@db.example:5432/monitor?sslmode=require" in shown
    assert "smtp://mailer:***@mail.example:587?starttls=1" in shown
    assert settings.database_url == "postgresql://monitor:db-S3cret@db.example:5432/monitor?sslmode=require"
    assert "batch_size=200" in shown  # the rest is shown as it is


def test_redact_url_covers_the_password_parameter_and_leaves_other_urls_alone() -> None:
    assert redact_url("postgresql://u@/monitor?host=/tmp/pg&password=p%40ss") == (
        "postgresql://u@/monitor?host=/tmp/pg&password=***"
    )
    assert (
        redact_url("postgresql://postgres@127.0.0.1:5432/monitor")
        == "postgresql://postgres@127.0.0.1:5432/monitor"
    )
    assert redact_url("postgresql://u:p%3Aw@h/db") == "postgresql://u:***@h/db"
    assert redact_url(None) is None


def test_spike_history_and_significance_settings() -> None:
    s = Settings.from_env({})
    assert (s.spike_min_history_days, s.spike_max_p) == (7, 0.001)
    s = Settings.from_env({"MONITOR_SPIKE_MIN_HISTORY_DAYS": "14", "MONITOR_SPIKE_MAX_P": "0.01"})
    assert (s.spike_min_history_days, s.spike_max_p) == (14, 0.01)
    for env, name in (
        ({"MONITOR_SPIKE_MIN_HISTORY_DAYS": "0"}, "MONITOR_SPIKE_MIN_HISTORY_DAYS"),
        ({"MONITOR_SPIKE_MIN_HISTORY_DAYS": "week"}, "MONITOR_SPIKE_MIN_HISTORY_DAYS"),
        ({"MONITOR_SPIKE_MIN_HISTORY_DAYS": "30"}, "MONITOR_SPIKE_MIN_HISTORY_DAYS=30 is more than"),
        ({"MONITOR_SPIKE_MAX_P": "1.5"}, "MONITOR_SPIKE_MAX_P"),
        ({"MONITOR_SPIKE_MAX_P": "0"}, "MONITOR_SPIKE_MAX_P"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env(env)
