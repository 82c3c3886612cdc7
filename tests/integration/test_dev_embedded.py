"""The embedded PostgreSQL (monitor.dev.embedded), on a server of this test's own."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg2
import pytest

from monitor.dev.embedded import ensure_database, stop_embedded_server, with_database_url
from monitor.settings import Settings


@pytest.fixture
def home() -> Iterator[Path]:
    # Short path: unix socket paths are limited to ~100 characters.
    path = Path(tempfile.mkdtemp(prefix="pge-"))
    try:
        yield path
    finally:
        stop_embedded_server(path / "pgdata")
        shutil.rmtree(path, ignore_errors=True)


def test_a_configured_database_is_left_alone(home: Path) -> None:
    settings = replace(Settings(), database_url="postgresql://monitor@db.invalid/monitor", home=home)
    assert with_database_url(settings) is settings
    assert not (home / "pgdata").exists()  # no server was started


def test_without_a_url_the_embedded_server_is_started_and_reused(home: Path) -> None:
    settings = replace(Settings(), home=home)
    first = with_database_url(settings)
    assert first.database_url is not None
    assert first.database_url.startswith("postgresql://") and "/monitor?" in first.database_url
    assert replace(first, database_url=None) == settings  # nothing else changed
    assert with_database_url(settings).database_url == first.database_url
    conn = psycopg2.connect(first.database_url)
    with conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone() == ("monitor",)
    conn.close()
    ensure_database(first.database_url, "monitor")  # idempotent

    assert stop_embedded_server(settings.pgdata)
    assert not stop_embedded_server(settings.pgdata)
    # Stopped since, in this same process: started again rather than a dead URI handed out.
    again = with_database_url(settings)
    assert again.database_url is not None
    psycopg2.connect(again.database_url).close()
