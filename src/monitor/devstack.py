"""`make up` / `make down`: Airflow with the web UI on one machine, no Docker, no services assumed.

`up` starts, in order: the embedded PostgreSQL (Airflow's metadata database `airflow` and the
monitor's database `monitor` on one server, unless MONITOR_DATABASE_URL / AIRFLOW__DATABASE__
SQL_ALCHEMY_CONN are given), a local SMTP sink that saves every mail under out/mail/, and
`airflow standalone` (scheduler, dag-processor, triggerer, api-server) with this project's dags/ and
plugins/. It creates the pool and connections, seeds the sample inbox and feed, and waits until the
UI answers. Every process it starts is recorded under .monitor/run/, and `down` stops exactly those.

Also `python -m monitor.devstack smtp-sink --port P --dir D`, the sink itself (aiosmtpd).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.settings import Settings

ROOT = Path.cwd()
HOME = ROOT / ".monitor"
RUN = HOME / "run"
LOGS = HOME / "logs"
AIRFLOW_HOME = HOME / "airflow"
UI_PORT = int(os.environ.get("MONITOR_UI_PORT", "8080"))
SMTP_PORT = int(os.environ.get("MONITOR_SMTP_SINK_PORT", "2525"))
ADMIN_USER, ADMIN_PASSWORD = "admin", os.environ.get("MONITOR_ADMIN_PASSWORD", "admin")
FETCH_POOL_SLOTS = 4  # concurrent feed batches; each batch fetches with its own thread pool


def _say(message: str) -> None:
    print(f"[make up] {message}", flush=True)


def _pidfile(name: str) -> Path:
    return RUN / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(name: str) -> int | None:
    path = _pidfile(name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start a detached process group logging to .monitor/logs/NAME.log; remember its pid."""
    LOGS.mkdir(parents=True, exist_ok=True)
    RUN.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child, which outlives us
    proc = subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    _pidfile(name).write_text(str(proc.pid))
    return proc.pid


def _database_urls(settings: Settings) -> tuple[str, str, dict[str, Any]]:
    """(monitor libpq URL, Airflow SQLAlchemy URL, monitor_db connection fields)."""
    from monitor.dev.embedded import embedded_server_uri, ensure_database
    from monitor.store.db import with_database

    airflow_url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    server = None
    if not settings.database_url or not airflow_url:
        pgdata = settings.pgdata.resolve()
        fresh = not (pgdata / "postmaster.pid").exists()
        server = embedded_server_uri(pgdata)
        if fresh:
            (RUN / "pg.started").parent.mkdir(parents=True, exist_ok=True)
            (RUN / "pg.started").write_text(str(pgdata))
        ensure_database(server, "monitor")
        ensure_database(server, "airflow")
        airflow_url = airflow_url or f"postgresql+psycopg2://postgres@/airflow?host={pgdata}"
    if settings.database_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.database_url)
        conn = {
            "conn_type": "postgres",
            "host": parts.hostname or "",
            "port": parts.port,
            "login": parts.username,
            "password": parts.password,
            "schema": parts.path.lstrip("/"),
        }
        return settings.database_url, airflow_url, conn
    assert server is not None
    pgdata = settings.pgdata.resolve()
    conn = {"conn_type": "postgres", "host": str(pgdata), "login": "postgres", "schema": "monitor"}
    return with_database(server, "monitor"), airflow_url, conn


def airflow_env(settings: Settings, airflow_url: str, monitor_conn: dict[str, Any]) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        {
            # standalone starts its components as `airflow …` subprocesses: the venv must be on PATH.
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url,
            "AIRFLOW__API__PORT": str(UI_PORT),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{UI_PORT}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            # New DAG files and inbox files show up quickly on a laptop-sized install.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW_CONN_MONITOR_DB": json.dumps({k: v for k, v in monitor_conn.items() if v is not None}),
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": SMTP_PORT,
                    # The local sink speaks plain SMTP; the provider's notifier reads these extras.
                    "extra": {"disable_ssl": True, "disable_tls": True, "ssl": False, "starttls": False},
                }
            ),
            "MONITOR_HOME": str(settings.home.resolve()),
            "MONITOR_INBOX": str(settings.inbox_dir.resolve()),
            "MONITOR_OUT": str(settings.out_dir.resolve()),
            "MONITOR_MIGRATIONS": str(settings.migrations_dir.resolve()),
            "MONITOR_DIGEST_RECIPIENTS": ",".join(settings.digest_recipients) or "analysts@example.org",
            "MONITOR_ALERT_RECIPIENTS": ",".join(settings.alert_recipients) or "operators@example.org",
            "MONITOR_TIMEZONE": settings.timezone,
        }
    )
    env.pop("MONITOR_DATABASE_URL", None)  # inside Airflow the monitor_db connection is the one truth
    return env


def _airflow(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *args], env=env, check=True, stdout=subprocess.DEVNULL
    )


def _seed(settings: Settings, monitor_url: str) -> None:
    """The sample inbox and feed, once: a second `make up` does not drop the samples again."""
    from dataclasses import replace

    from monitor.store import sources
    from monitor.store.db import connection, migrate

    marker = RUN / "seeded"
    samples = resources.files("monitor") / "samples"
    feed = (HOME / "samples" / "feed.xml").resolve()
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_bytes((samples / "feed.xml").read_bytes())
    with connection(monitor_url) as conn:
        migrate(conn, settings.migrations_dir)
        sources.add_feed(conn, feed.as_uri(), "Sample Security Wire", 15)
    if marker.exists():
        return
    inbox = replace(settings).inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    for entry in (samples / "inbox").iterdir():
        if entry.is_file():
            (inbox / entry.name).write_bytes(entry.read_bytes())
    marker.write_text("samples copied to the inbox\n")


def _wait_for_ui(timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{UI_PORT}/api/v2/monitor/health"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                health = json.load(response)
            if health.get("scheduler", {}).get("status") == "healthy":
                return True
        except OSError:
            pass
        if not _running("airflow"):
            return False
        time.sleep(2)
    return False


def up() -> int:
    settings = Settings.from_env()
    if _running("airflow"):
        _say(f"already running: http://localhost:{UI_PORT} (make down stops it)")
        return 0
    RUN.mkdir(parents=True, exist_ok=True)
    _say("starting PostgreSQL")
    monitor_url, airflow_url, monitor_conn = _database_urls(settings)
    env = airflow_env(settings, airflow_url, monitor_conn)
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    # A fixed admin login instead of the random one standalone would generate.
    (AIRFLOW_HOME / "simple_auth_manager_passwords.json.generated").write_text(
        json.dumps({ADMIN_USER: ADMIN_PASSWORD})
    )
    _say("migrating Airflow's metadata database")
    _airflow(env, "db", "migrate")
    # Tasks in a pool that does not exist are never scheduled: create it before anything runs.
    _airflow(env, "pools", "set", "monitor_fetch", str(FETCH_POOL_SLOTS), "feed fetching (monitor)")
    _seed(settings, monitor_url)
    if not _running("smtp"):
        mail_dir = settings.out_dir.resolve() / "mail"
        _spawn(
            "smtp",
            [
                sys.executable,
                "-m",
                "monitor.devstack",
                "smtp-sink",
                "--port",
                str(SMTP_PORT),
                "--dir",
                str(mail_dir),
            ],
            env,
        )
        _say(f"SMTP sink on 127.0.0.1:{SMTP_PORT}, mails saved in {mail_dir}")
    _say("starting airflow standalone (scheduler, dag-processor, triggerer, api-server)")
    _spawn("airflow", [str(Path(sys.executable).parent / "airflow"), "standalone"], env)
    if not _wait_for_ui():
        _say(f"Airflow did not become healthy; see {LOGS / 'airflow.log'}")
        return 1
    # The first feed poll now rather than at the next quarter hour.
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "dags", "trigger", "monitor_ingest_feeds"],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(
        f"""
Security media monitor is up.
  Airflow UI   http://localhost:{UI_PORT}    login: {ADMIN_USER} / {ADMIN_PASSWORD}
  inbox        {settings.inbox_dir.resolve()}   (drop .txt/.md/.html/.jsonl files here)
  mail         {(settings.out_dir / "mail").resolve()}   (every e-mail sent, as .eml)
  digests      {settings.out_dir.resolve()}
  logs         {LOGS}
Trigger monitor_daily_digest in the UI to build and mail a digest now. `make down` stops everything.
""",
        flush=True,
    )
    return 0


def _stop(name: str, timeout: float = 20.0) -> bool:
    pid = _running(name)
    _pidfile(name).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)  # the whole group: standalone's children too
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.3)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    return True


def down() -> int:
    stopped = [name for name in ("airflow", "smtp") if _stop(name)]
    started_pg = RUN / "pg.started"
    if started_pg.exists():
        from monitor.dev.embedded import stop_embedded_server

        if stop_embedded_server(Path(started_pg.read_text().strip())):
            stopped.append("postgresql")
        started_pg.unlink()
    print(f"[make down] stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    return 0


def smtp_sink(port: int, folder: Path) -> int:
    """A real SMTP server that accepts everything and saves each message as an .eml file."""
    import asyncio
    import itertools

    from aiosmtpd.controller import Controller

    folder.mkdir(parents=True, exist_ok=True)
    counter = itertools.count(1)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(counter):04d}.eml"
            tmp = folder / (name + ".part")
            tmp.write_bytes(envelope.original_content or envelope.content)
            tmp.rename(folder / name)  # readers never see half a mail
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"SMTP sink listening on 127.0.0.1:{port}, saving to {folder}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    sink = sub.add_parser("smtp-sink")
    sink.add_argument("--port", type=int, default=SMTP_PORT)
    sink.add_argument("--dir", type=Path, default=Path("out/mail"))
    args = parser.parse_args(argv)
    if args.command == "up":
        return up()
    if args.command == "down":
        return down()
    return smtp_sink(args.port, args.dir)


if __name__ == "__main__":
    sys.exit(main())
