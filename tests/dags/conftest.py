"""Airflow for the DAG tests: its own AIRFLOW_HOME and a metadata database on the test PostgreSQL.

Airflow reads its configuration when first imported, so the environment is set here, when pytest
loads this file, before any test module imports Airflow. The metadata database is created and
migrated only when an end-to-end test asks for it (`airflow_db`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from monitor.store.db import embedded_server_uri, with_database

REPO = Path(__file__).resolve().parents[2]

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
