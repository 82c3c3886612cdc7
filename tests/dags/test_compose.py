"""The Docker Compose deployment (docker-compose.yml, Dockerfile, docker/), checked by parsing: no Docker.

The compose file is read with PyYAML, which resolves the `<<: *airflow-common` merges the way Compose
does; `${VAR:-default}` is then resolved to its default, i.e. what `docker compose up` uses with an
empty environment and no .env file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
)
LONG_RUNNING = tuple(s for s in AIRFLOW_SERVICES if s != "airflow-init")
OTHER_SERVICES = ("postgres", "redis", "monitor-db", "monitor-migrate", "mailpit")

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")


def _interpolate(value: Any) -> Any:
    """Compose interpolation with an empty environment: `${X:-d}` → d, `${X}` → '', `$$` → '$'."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: "$" if m.group(0) == "$$" else (m.group("default") or ""), value)
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict) and "services" in raw
    return _interpolate(raw)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _published(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs of `ports:` entries such as "8080:8080", "127.0.0.1:1025:1025"."""
    pairs = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):  # long syntax
            pairs.add((int(entry["published"]), int(entry["target"])))
            continue
        *_, host, container = str(entry).split(":")
        pairs.add((int(host), int(container.split("/")[0])))
    return pairs


def _volume_sources(service: dict[str, Any]) -> list[tuple[str, str]]:
    mounts = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            mounts.append((str(entry["source"]), str(entry["target"])))
        else:
            source, target, *_ = str(entry).split(":")
            mounts.append((source, target))
    return mounts


def _is_bind(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def test_all_services_exist(services: dict[str, Any]) -> None:
    missing = [s for s in AIRFLOW_SERVICES + OTHER_SERVICES if s not in services]
    assert not missing, f"services missing from docker-compose.yml: {missing}"


def test_airflow_services_share_one_image_and_the_celery_executor(services: dict[str, Any]) -> None:
    images = {(services[s].get("image"), services[s].get("build")) for s in AIRFLOW_SERVICES}
    assert len(images) == 1, f"Airflow services differ in image/build: {images}"
    image, build = images.pop()
    assert build in (".", {"context": "."}), "the image must be built from ./Dockerfile"
    assert image, "a tagged image, so the build is shared instead of repeated per service"
    # monitor-migrate runs `monitor db migrate`, which only the built image contains.
    assert (services["monitor-migrate"].get("image"), services["monitor-migrate"].get("build")) == (
        image,
        build,
    )
    for name in AIRFLOW_SERVICES:
        env = _env(services[name])
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor", name
        assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis", name
        assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name


def test_commands_are_the_airflow3_components(services: dict[str, Any]) -> None:
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-triggerer"]["command"] == "triggerer"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert "monitor db migrate" in " ".join(services["monitor-migrate"]["command"])


def test_every_airflow_service_has_the_connections_and_monitor_settings(services: dict[str, Any]) -> None:
    required = (
        "AIRFLOW_CONN_MONITOR_DB",
        "AIRFLOW_CONN_SMTP_DEFAULT",
        "MONITOR_DATABASE_URL",
        "MONITOR_INBOX",
        "MONITOR_OUT",
        "MONITOR_TIMEZONE",
        "MONITOR_DIGEST_RECIPIENTS",
        "MONITOR_MAIL_FROM",
        "AIRFLOW__API__BASE_URL",
    )
    for name in (*AIRFLOW_SERVICES, "monitor-migrate"):
        env = _env(services[name])
        missing = [k for k in required if not env.get(k)]
        assert not missing, f"{name} lacks {missing}"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name
        assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "false", name
        assert env["MONITOR_INBOX"] == "/opt/airflow/inbox", name
        assert env["MONITOR_OUT"] == "/opt/airflow/out", name


def test_connections_point_at_monitor_db_and_mailpit(services: dict[str, Any]) -> None:
    db_env = _env(services["monitor-db"])
    env = _env(services["airflow-worker"])
    for key in ("AIRFLOW_CONN_MONITOR_DB", "MONITOR_DATABASE_URL"):
        url = urlsplit(env[key])
        assert url.scheme in ("postgres", "postgresql"), key
        assert (url.hostname, url.port or 5432) == ("monitor-db", 5432), key
        # The same user, password and database monitor-db is created with.
        assert (url.username, url.password, url.path.lstrip("/")) == (
            db_env["POSTGRES_USER"],
            db_env["POSTGRES_PASSWORD"],
            db_env["POSTGRES_DB"],
        ), key
    # The monitor's settings accept only a libpq URI (monitor.settings).
    assert env["MONITOR_DATABASE_URL"].startswith("postgresql://")
    smtp = urlsplit(env["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert (smtp.scheme, smtp.hostname, smtp.port) == ("smtp", "mailpit", 1025)
    assert urlsplit(env["MONITOR_SMTP_URL"]).hostname == "mailpit"


def test_dags_and_plugins_are_mounted_and_the_work_folders_are_shared(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        mounts = dict((target, source) for source, target in _volume_sources(services[name]))
        assert Path(mounts.get("/opt/airflow/dags", "")).name == "dags", name
        assert Path(mounts.get("/opt/airflow/plugins", "")).name == "plugins", name
        for target in ("/opt/airflow/inbox", "/opt/airflow/out", "/opt/airflow/logs"):
            assert target in mounts, f"{name} does not mount {target}"
    # Every worker must see the same inbox: one named volume, mounted by all of them.
    inbox_sources = {
        dict((t, s) for s, t in _volume_sources(services[n]))["/opt/airflow/inbox"] for n in AIRFLOW_SERVICES
    }
    assert len(inbox_sources) == 1


def test_ports(services: dict[str, Any]) -> None:
    assert (8080, 8080) in _published(services["airflow-apiserver"])
    assert {(1025, 1025), (8025, 8025)} <= _published(services["mailpit"])
    # Scaling the workers needs services without fixed host ports or container names.
    assert not services["airflow-worker"].get("ports")
    assert "container_name" not in services["airflow-worker"]


def test_depends_on_conditions(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["monitor-migrate"]["condition"] == "service_completed_successfully", name
    for name in LONG_RUNNING:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["monitor-migrate"]["depends_on"]["monitor-db"]["condition"] == "service_healthy"
    # Every dependency is a service of this file.
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_healthchecks(services: dict[str, Any]) -> None:
    for name in (
        "postgres",
        "redis",
        "monitor-db",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-worker",
    ):
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
    # A `service_healthy` condition on a service without a healthcheck never comes true.
    for name, service in services.items():
        for dep, spec in service.get("depends_on", {}).items():
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], (
                    f"{name} waits for {dep} to be healthy, which it cannot"
                )


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = {
        source
        for service in compose["services"].values()
        for source, _ in _volume_sources(service)
        if not _is_bind(source)
    }
    assert used, "expected named volumes (databases, logs, inbox, out)"
    assert used <= declared, f"undeclared named volumes: {used - declared}"


def test_bind_mounted_folders_exist_in_the_repo(compose: dict[str, Any]) -> None:
    sources = {
        source
        for service in compose["services"].values()
        for source, _ in _volume_sources(service)
        if _is_bind(source)
    }
    assert {"./dags", "./plugins"} <= sources
    for source in sources:
        assert (ROOT / source).is_dir(), f"{source} is mounted but is not a folder of the repo"


def test_secrets_are_overridable() -> None:
    """Passwords and keys are `${VAR:-default}`, never literals only an edit of the file could change."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for key in ("POSTGRES_PASSWORD", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        for line in (ln for ln in text.splitlines() if ln.strip().startswith(f"{key}:")):
            assert "${" in line, f"{key} is hard-coded: {line.strip()}"


def test_dockerfile_extends_the_official_image_and_installs_with_constraints(dockerfile: str) -> None:
    instructions = [
        ln.strip() for ln in dockerfile.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    assert re.fullmatch(r"FROM apache/airflow:3\.3\.2(-python3\.\d+)?", instructions[0]), instructions[0]
    logical = re.sub(r"\\\n", " ", dockerfile)  # join continued lines
    installs = [ln for ln in logical.splitlines() if ln.strip().startswith("RUN") and "pip install" in ln]
    assert installs, "no pip install in the Dockerfile"
    assert any(re.search(r"-c\s+\S*constraints\.txt", ln) for ln in installs)
    assert any("apache-airflow==" in ln for ln in installs), "Airflow itself must stay pinned"
    # Installed as the airflow user, as the official image asks.
    users = [ln.split()[1] for ln in instructions if ln.startswith("USER ")]
    assert users and users[-1] == "airflow"


def test_dockerfile_copies_existing_paths_and_points_at_the_migrations(
    dockerfile: str, services: dict[str, Any]
) -> None:
    copies = [ln.split() for ln in dockerfile.splitlines() if ln.startswith("COPY ")]
    copied: dict[str, str] = {}
    for parts in copies:
        args = [p for p in parts[1:] if not p.startswith("--")]
        *sources, dest = args
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repo"
            copied[source.rstrip("/")] = dest
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "src", "sql"):
        assert needed in copied, f"Dockerfile does not copy {needed}"
    migrations = re.search(r"^ENV MONITOR_MIGRATIONS=(\S+)", dockerfile, re.M)
    assert migrations, "MONITOR_MIGRATIONS is not set in the image"
    assert migrations.group(1).rstrip("/") == copied["sql"].rstrip("/")
    assert any((ROOT / "sql").glob("0001_*.sql"))
    for name in (*AIRFLOW_SERVICES, "monitor-migrate"):
        assert _env(services[name]).get("MONITOR_MIGRATIONS", migrations.group(1)) == migrations.group(1)


def test_dockerignore_keeps_local_state_out_but_not_the_build_inputs() -> None:
    patterns = {
        ln.strip().rstrip("/")
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    assert {".venv", ".monitor", "out", ".git", ".env"} <= patterns
    assert not patterns & {"src", "sql", "pyproject.toml", "constraints.txt", "README.md", "docker"}


def test_airflow_init_script_and_pools(services: dict[str, Any], dockerfile: str) -> None:
    init = services["airflow-init"]
    script = " ".join(init["command"])
    assert "/opt/monitor/docker/airflow-init.sh" in script
    assert re.search(r"^COPY .*docker/ /opt/monitor/docker/", dockerfile, re.M)
    body = (ROOT / "docker" / "airflow-init.sh").read_text(encoding="utf-8")
    assert "airflow db migrate" in body
    assert "airflow pools import /opt/monitor/docker/pools.json" in body
    pools = json.loads((ROOT / "docker" / "pools.json").read_text(encoding="utf-8"))
    assert pools and all(isinstance(p["slots"], int) and p["slots"] > 0 for p in pools.values())
    # The admin login written by the script is the one the auth manager is told about.
    env = _env(init)
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{env['_AIRFLOW_WWW_USER_USERNAME']}:admin"
