"""Test session set-up: a real PostgreSQL database created for this session and dropped after it.

MONITOR_TEST_DATABASE_URL (a server URI) is used when set; otherwise the embedded PostgreSQL under
.monitor/test-pgdata is started (or reused). With pytest-xdist each worker is its own session and so
gets its own database.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg2
import pytest

from monitor.analyze import Models
from monitor.dev.embedded import embedded_server_uri
from monitor.settings import FetchSettings, Settings
from monitor.store.db import Connection, migrate, with_database

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# ---- Airflow -------------------------------------------------------------------------------------------
# Airflow reads its configuration when first imported, so its environment is set here, when pytest loads
# this file, before any test imports Airflow: its own AIRFLOW_HOME (never ~/airflow) and a metadata
# database on the test PostgreSQL, created and migrated only when a test asks for it (`airflow_db`).

_SERVER = os.environ.get("MONITOR_TEST_DATABASE_URL") or embedded_server_uri(
    REPO / ".monitor" / "test-pgdata"
)
_AIRFLOW_DB = f"airflow_test_{os.getpid()}_{secrets.token_hex(3)}"
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="airflow-home-")


def _sqlalchemy_url(server: str, database: str) -> str:
    """The test server's URI on `database`, with the driver named as SQLAlchemy wants it."""
    return with_database(server, database).replace("postgresql://", "postgresql+psycopg2://", 1)


os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _sqlalchemy_url(_SERVER, _AIRFLOW_DB),
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[str]:
    admin = psycopg2.connect(_SERVER)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{_AIRFLOW_DB}"')
    try:
        subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
            env=dict(os.environ),
            check=True,
            capture_output=True,
        )
        yield os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    finally:
        if "airflow.settings" in sys.modules:
            # Close Airflow's pooled connections first, or they fail noisily at exit once the
            # database under them is gone.
            sys.modules["airflow.settings"].dispose_orm()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{_AIRFLOW_DB}" WITH (FORCE)')
        admin.close()


# ---- the monitor's database -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = os.environ.get("MONITOR_TEST_DATABASE_URL") or embedded_server_uri(
        REPO / ".monitor" / "test-pgdata"
    )
    name = f"monitor_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    try:
        conn = psycopg2.connect(url)
        migrate(conn, REPO / "sql")
        conn.close()
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def db(database_url: str) -> Iterator[Connection]:
    """A connection to the session database; every table is emptied after the test."""
    conn = psycopg2.connect(database_url)
    try:
        yield conn
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            # Every table the migrations made, so a new one can never leak state between tests.
            cur.execute(
                """SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables
                    WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"""
            )
            tables = cur.fetchone()[0]
            cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        conn.commit()
        conn.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own inbox and output folders, short network timeouts."""
    return replace(
        Settings(),
        database_url=database_url,
        home=tmp_path / "home",
        inbox_dir=tmp_path / "inbox",
        out_dir=tmp_path / "out",
        migrations_dir=REPO / "sql",
        progress=False,
        fetch=FetchSettings(
            connect_timeout=1.0,
            read_timeout=1.0,
            max_bytes=2 * 1024 * 1024,
            concurrency=4,
            allowed_networks=("127.0.0.0/8",),  # the local test servers
        ),
    )


@pytest.fixture(scope="session")
def models() -> Models:
    """The models, built once per test session as the edges build them once per process (built
    tables cached under .monitor/cache between sessions)."""
    return Models.load(replace(Settings(), cache_dir=REPO / ".monitor" / "cache"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real third-party news for evaluation); tests that need it skip without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
