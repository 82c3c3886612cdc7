"""`make up` / `make down`: Airflow with the web UI on one machine, no Docker, no services assumed.

`up` starts, in order: the embedded PostgreSQL (Airflow's metadata database `airflow` and the
monitor's database `monitor` on one server, unless MONITOR_DATABASE_URL / AIRFLOW__DATABASE__
SQL_ALCHEMY_CONN are given), a local SMTP sink that saves every mail under out/mail/, and
`airflow standalone` (scheduler, dag-processor, triggerer, api-server) with this project's dags/ and
plugins/. It creates the pool and connections, seeds the sample inbox and feed, and waits until the
UI answers. Every process it starts is recorded under .monitor/run/, and `down` stops exactly those.

Configuration comes in as a `StackConfig` (parsed once by `python -m monitor.dev`) and the monitor's
`Settings`; nothing here reads the environment.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.dev.embedded import (
    MONITOR_DATABASE,
    embedded_server_uri,
    ensure_database,
    stop_embedded_server,
    with_database_url,
)
from monitor.errors import ConfigError
from monitor.settings import Settings

ADMIN_USER = "admin"
AIRFLOW_DATABASE = "airflow"
FETCH_POOL_SLOTS = 4  # concurrent feed batches; each batch fetches with its own thread pool
# Airflow standalone takes ~30 s to migrate, start its four components and report a healthy scheduler
# here; three minutes leaves room for a slow first start (DAG parsing, cold imports).
UI_TIMEOUT_SECONDS = 180.0


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name}={port} is not a port number (1-65535)")
    return port


def _ui_host(env: Mapping[str, str]) -> str:
    raw = (env.get("MONITOR_UI_HOST") or "").strip() or "127.0.0.1"
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        raise ConfigError(
            f"MONITOR_UI_HOST={raw!r} is not an IP address (127.0.0.1, the default; a LAN address; "
            "or 0.0.0.0 for every interface)"
        ) from None
    return raw


@dataclass(frozen=True)
class StackConfig:
    """What `make up` needs beyond the monitor's Settings."""

    root: Path  # the checkout: dags/, plugins/, and .monitor/ for pids, logs and AIRFLOW_HOME
    ui_port: int = 8080
    # Where the api-server listens: loopback unless MONITOR_UI_HOST says otherwise (README: exposing
    # the UI), because Airflow's own default (0.0.0.0) would put an admin/admin login on the network.
    ui_host: str = "127.0.0.1"
    smtp_port: int = 2525
    # Out of repr, like everything here that may hold a password.
    admin_password: str = field(default="admin", repr=False)
    airflow_database_url: str | None = field(default=None, repr=False)  # None: on the embedded server
    # The environment the Airflow processes inherit (PATH, locale, …), with the stack's settings on top.
    inherited_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str], root: Path) -> StackConfig:
        ui_port = _port(env, "MONITOR_UI_PORT", 8080)
        smtp_port = _port(env, "MONITOR_SMTP_SINK_PORT", 2525)
        if ui_port == smtp_port:
            raise ConfigError(f"MONITOR_UI_PORT and MONITOR_SMTP_SINK_PORT are both {ui_port}")
        ui_host = _ui_host(env)
        admin_password = (env.get("MONITOR_ADMIN_PASSWORD") or "").strip() or "admin"
        if not ipaddress.ip_address(ui_host).is_loopback and admin_password == "admin":
            raise ConfigError(
                f"MONITOR_UI_HOST={ui_host} puts the UI on the network: set MONITOR_ADMIN_PASSWORD "
                "to a real password first (the default login is admin/admin)"
            )
        return cls(
            root=root.resolve(),
            ui_port=ui_port,
            ui_host=ui_host,
            smtp_port=smtp_port,
            admin_password=admin_password,
            airflow_database_url=(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or "").strip() or None,
            inherited_env=dict(env),
        )

    @property
    def home(self) -> Path:
        return self.root / ".monitor"

    @property
    def ui_probe_host(self) -> str:
        """Where this machine reaches the UI: its listening address, or loopback for a wildcard."""
        return "127.0.0.1" if ipaddress.ip_address(self.ui_host).is_unspecified else self.ui_host

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def test_pgdata(self) -> Path:
        """The embedded server the test suite shares (tests/conftest.py), left running between runs."""
        return self.home / "test-pgdata"


def _say(message: str) -> None:
    print(f"[make up] {message}", flush=True)


def _venv_bin() -> Path:
    return Path(sys.executable).parent


# ------------------------------------------------------------------------------------ processes


def _pidfile(config: StackConfig, name: str) -> Path:
    return config.run_dir / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(config: StackConfig, name: str) -> int | None:
    path = _pidfile(config, name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def _spawn(config: StackConfig, name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start a detached process group logging to .monitor/logs/NAME.log; remember its pid."""
    config.logs_dir.mkdir(parents=True, exist_ok=True)
    config.run_dir.mkdir(parents=True, exist_ok=True)
    log = open(config.logs_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child, which outlives us
    proc = subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    _pidfile(config, name).write_text(str(proc.pid))
    return proc.pid


def _group_alive(pgid: int) -> bool:
    """Any process left in the group. Standalone's children (scheduler, api-server, task runners)
    outlive their parent by seconds; waiting on the leader alone returned while they still held the
    port and the database."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_group(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.3)
    return True


def _stop(config: StackConfig, name: str, timeout: float = 30.0) -> bool:
    """Stop a recorded process group and return only once every process of it has exited."""
    pid = _running(config, name)
    if pid is None:
        _pidfile(config, name).unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)  # the whole group: standalone's children too
    except ProcessLookupError:
        _pidfile(config, name).unlink(missing_ok=True)
        return False
    if not _wait_group(pid, timeout):
        os.killpg(pid, signal.SIGKILL)
        _wait_group(pid, 10.0)
    _pidfile(config, name).unlink(missing_ok=True)
    return True


def _port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Something already listens on host:port (another `make up`, another checkout's Airflow):
    starting beside it would fail, or worse, the health check would find the other one healthy."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# ------------------------------------------------------------------------------------ databases


def _connection_fields(url: str) -> dict[str, Any]:
    """The `monitor_db` Airflow connection for a libpq URL."""
    parts = urlsplit(url)
    return {
        "conn_type": "postgres",
        "host": parts.hostname or "",
        "port": parts.port,
        "login": parts.username,
        "password": parts.password,
        "schema": parts.path.lstrip("/"),
    }


def _databases(config: StackConfig, settings: Settings) -> tuple[str, str, dict[str, Any]]:
    """(monitor libpq URL, Airflow SQLAlchemy URL, monitor_db connection fields)."""
    airflow_url = config.airflow_database_url
    pgdata = settings.pgdata.resolve()
    if not settings.database_url or not airflow_url:
        fresh = not (pgdata / "postmaster.pid").exists()
        server = embedded_server_uri(pgdata)
        if fresh:  # ours to stop at `make down`; a server that was already running is left alone
            config.run_dir.mkdir(parents=True, exist_ok=True)
            (config.run_dir / "pg.started").write_text(str(pgdata))
        if not airflow_url:
            ensure_database(server, AIRFLOW_DATABASE)
            airflow_url = f"postgresql+psycopg2://postgres@/{AIRFLOW_DATABASE}?host={pgdata}"
    if settings.database_url:
        monitor_conn = _connection_fields(settings.database_url)
    else:
        monitor_conn = {
            "conn_type": "postgres",
            "host": str(pgdata),
            "login": "postgres",
            "schema": MONITOR_DATABASE,
        }
    monitor_url = with_database_url(settings).database_url
    assert monitor_url is not None  # with_database_url always sets one
    return monitor_url, airflow_url, monitor_conn


# ------------------------------------------------------------------------------------ airflow


def airflow_env(
    config: StackConfig, settings: Settings, airflow_url: str, monitor_conn: dict[str, Any]
) -> dict[str, str]:
    env = dict(config.inherited_env)
    env.update(
        {
            # standalone starts its components as `airflow …` subprocesses: the venv must be on PATH.
            "PATH": f"{_venv_bin()}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(config.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(config.root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(config.root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url,
            "AIRFLOW__API__HOST": config.ui_host,  # `airflow api-server`'s --host default (standalone)
            "AIRFLOW__API__PORT": str(config.ui_port),
            # The address browsers use (links, redirects): yours when the UI is exposed behind a proxy.
            "AIRFLOW__API__BASE_URL": env.get("AIRFLOW__API__BASE_URL")
            or f"http://localhost:{config.ui_port}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            # New DAG files and inbox files show up quickly on a laptop-sized install.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW_CONN_MONITOR_DB": json.dumps({k: v for k, v in monitor_conn.items() if v is not None}),
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": config.smtp_port,
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


ENV_FILE = "airflow.env.json"


def _save_env(config: StackConfig, env: dict[str, str]) -> None:
    """What `make airflow` needs to talk to this stack: the variables the stack set, not the whole
    inherited environment. Owner-only, since a given database URL may hold a password."""
    ours = {k: v for k, v in env.items() if k.startswith(("AIRFLOW", "MONITOR_")) or k == "PATH"}
    path = config.run_dir / ENV_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(ours, handle)


def _airflow(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(_venv_bin() / "airflow"), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def _seed(config: StackConfig, settings: Settings, monitor_url: str) -> None:
    """The sample inbox and feed, once: a second `make up` does not drop the samples again."""
    from monitor.store import sources
    from monitor.store.db import connection, migrate

    marker = config.run_dir / "seeded"
    samples = resources.files("monitor") / "samples"
    feed = (config.home / "samples" / "feed.xml").resolve()
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_bytes((samples / "feed.xml").read_bytes())
    with connection(monitor_url) as conn:
        migrate(conn, settings.migrations_dir)
        sources.add_feed(conn, feed.as_uri(), "Sample Security Wire", 15)
    if marker.exists():
        return
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    for entry in (samples / "inbox").iterdir():
        if entry.is_file():
            (settings.inbox_dir / entry.name).write_bytes(entry.read_bytes())
    marker.write_text("samples copied to the inbox\n")


def _wait_for_ui(config: StackConfig, timeout: float = UI_TIMEOUT_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    url = f"http://{_url_host(config.ui_probe_host)}:{config.ui_port}/api/v2/monitor/health"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                health = json.load(response)
            if health.get("scheduler", {}).get("status") == "healthy":
                return True
        except OSError:
            pass
        if not _running(config, "airflow"):
            return False
        time.sleep(2)
    return False


# ------------------------------------------------------------------------------------ commands


def up(config: StackConfig, settings: Settings) -> int:
    if _running(config, "airflow"):
        _say(f"already running: http://localhost:{config.ui_port} (make down stops it)")
        return 0
    busy = []
    if _port_taken(config.ui_port, config.ui_probe_host):
        busy.append(f"MONITOR_UI_PORT={config.ui_port}")
    if not _running(config, "smtp") and _port_taken(config.smtp_port):  # our own sink is reused
        busy.append(f"MONITOR_SMTP_SINK_PORT={config.smtp_port}")
    if busy:
        _say(f"port already in use: {', '.join(busy)}; set another one")
        return 1
    config.run_dir.mkdir(parents=True, exist_ok=True)
    _say("starting PostgreSQL")
    monitor_url, airflow_url, monitor_conn = _databases(config, settings)
    env = airflow_env(config, settings, airflow_url, monitor_conn)
    config.airflow_home.mkdir(parents=True, exist_ok=True)
    # A fixed admin login instead of the random one standalone would generate.
    (config.airflow_home / "simple_auth_manager_passwords.json.generated").write_text(
        json.dumps({ADMIN_USER: config.admin_password})
    )
    _say("migrating Airflow's metadata database")
    _airflow(env, "db", "migrate")
    # Tasks in a pool that does not exist are never scheduled: create it before anything runs.
    _airflow(env, "pools", "set", "monitor_fetch", str(FETCH_POOL_SLOTS), "feed fetching (monitor)")
    _seed(config, settings, monitor_url)
    if not _running(config, "smtp"):
        mail_dir = settings.out_dir.resolve() / "mail"
        argv = [sys.executable, "-m", "monitor.dev", "smtp-sink", "--port", str(config.smtp_port)]
        _spawn(config, "smtp", [*argv, "--dir", str(mail_dir)], env)
        _say(f"SMTP sink on 127.0.0.1:{config.smtp_port}, mails saved in {mail_dir}")
    _say("starting airflow standalone (scheduler, dag-processor, triggerer, api-server)")
    _save_env(config, env)
    _spawn(config, "airflow", [str(_venv_bin() / "airflow"), "standalone"], env)
    if not _wait_for_ui(config):
        _say(f"Airflow did not become healthy; see {config.logs_dir / 'airflow.log'}")
        return 1
    # The first feed poll now rather than at the next quarter hour.
    subprocess.run(
        [str(_venv_bin() / "airflow"), "dags", "trigger", "monitor_ingest_feeds"],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(
        f"""
Security media monitor is up.
  Airflow UI   http://localhost:{config.ui_port}    login: {ADMIN_USER} / {config.admin_password}
  inbox        {settings.inbox_dir.resolve()}   (drop .txt/.md/.html/.jsonl files here)
  mail         {(settings.out_dir / "mail").resolve()}   (every e-mail sent, as .eml)
  digests      {settings.out_dir.resolve()}
  logs         {config.logs_dir}
Trigger monitor_daily_digest in the UI to build and mail a digest now. `make down` stops everything.
  airflow CLI  make airflow ARGS="dags list"   (this stack's configuration)
""",
        flush=True,
    )
    return 0


def down(config: StackConfig, settings: Settings) -> int:
    stopped = [name for name in ("airflow", "smtp") if _stop(config, name)]
    (config.run_dir / ENV_FILE).unlink(missing_ok=True)
    started_pg = config.run_dir / "pg.started"
    # The monitor's embedded server, whoever started it: `make up`, or a `monitor` command run after
    # a `make down` (the CLI starts it when no database URL is set). Leaving the latter running made
    # the next `make down` say "nothing was running" while PostgreSQL still was.
    pgdata = Path(started_pg.read_text().strip()) if started_pg.exists() else settings.pgdata.resolve()
    if stop_embedded_server(pgdata):
        stopped.append("postgresql")
    started_pg.unlink(missing_ok=True)
    print(f"[make down] stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    return 0


def airflow_command(config: StackConfig, args: list[str]) -> int:
    """`make airflow ARGS="dags list"`: an `airflow` command with the running stack's own
    configuration (AIRFLOW_HOME, metadata database, connections), so it never reads a default
    airflow.cfg or creates a stray SQLite database."""
    saved = config.run_dir / ENV_FILE
    if not _running(config, "airflow") or not saved.exists():
        raise ConfigError("the stack is not running: `make up` first (the command uses its configuration)")
    env = dict(config.inherited_env)
    env.update(json.loads(saved.read_text()))
    return subprocess.run([str(_venv_bin() / "airflow"), *args], env=env, check=False).returncode


def db_stop(config: StackConfig, settings: Settings) -> int:
    """Both embedded servers: the monitor's (settings.pgdata) and the one the tests share, which
    `make test` leaves running so the next run starts in seconds."""
    for label, pgdata in (("monitor", settings.pgdata), ("test", config.test_pgdata)):
        stopped = stop_embedded_server(pgdata)
        print(f"{label} PostgreSQL ({pgdata}) {'stopped' if stopped else 'was not running'}")
    return 0
