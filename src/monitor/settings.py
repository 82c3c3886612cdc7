"""All configuration, parsed once from the environment into one frozen object.

No other module reads `os.environ`: `Settings.from_env()` is called at the edge (the CLI, an Airflow
task) and the object is passed down. Every invalid value raises `ConfigError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import ConfigError

# The repository root when running from a checkout (src/monitor/settings.py → ../..). Used only for
# defaults that name project folders (sql/); every one of them can be overridden.
_REPO_ROOT = Path(__file__).resolve().parents[2]

# Sub-folder of the inbox where the Airflow inbox trigger moves the files it claims (atomic rename).
INBOX_CLAIMED = "claimed"

USER_AGENT = "security-media-monitor/0.1 (+https://github.com/security-media-monitor/monitor)"


def redact_url(url: str | None) -> str | None:
    """`url` with its password replaced by *** (in the user part and in a `password=` parameter)."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k == "password" for k, _ in pairs):
            query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _str(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip()


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = _str(env, name, None)
    return Path(raw).expanduser() if raw else default


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _str(env, name, None)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def _addresses(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    values = tuple(r.strip() for r in (_str(env, name, "") or "").split(",") if r.strip())
    for r in values:
        if "@" not in r:
            raise ConfigError(f"{name}: {r!r} is not an e-mail address")
    return values


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    import ipaddress

    values = tuple(v.strip() for v in (_str(env, name, "") or "").split(",") if v.strip())
    for v in values:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: {v!r} is not a network such as 10.0.0.0/8 or 127.0.0.1/32") from None
    return values


def _cron(env: Mapping[str, str], name: str, default: str) -> str:
    value = _str(env, name, default) or default
    if len(value.split()) != 5:
        raise ConfigError(f"{name}={value!r} is not a 5-field cron expression such as '0 6 * * *'")
    return value


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0  # per read: the longest silence tolerated between two chunks
    # A server that drips a byte per read_timeout would never trip the read timeout: cap the total.
    total_timeout: float = 120.0
    # Counted after decompression (gzip bombs). Real feeds are well under 2 MB; 10 MB leaves room for
    # huge archives while stopping a runaway body.
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    # Fetching is I/O bound: a handful of threads hides slow servers without hammering anyone.
    concurrency: int = 8
    # Requests to one host at once (feeds and full-text pages of one site share it): polite to small
    # sites, and one slow host cannot take every fetch thread.
    per_host: int = 2
    # Private, loopback and link-local addresses are refused (SSRF); these CIDRs are let through.
    allowed_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # None → embedded PostgreSQL under `home`
    home: Path = Path(".monitor")
    inbox_dir: Path = Path(".monitor/inbox")
    out_dir: Path = Path("out")
    migrations_dir: Path = _REPO_ROOT / "sql"
    timezone: str = "UTC"
    fetch: FetchSettings = field(default_factory=FetchSettings)
    inbox_max_bytes: int = 10 * 1024 * 1024
    batch_size: int = 200
    # Processes for the pure processing work on a backlog (classify, entities): one per core.
    process_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    feed_interval_minutes: int = 30
    # A dead feed is retried at interval × 2^errors, but never less often than once a day.
    feed_max_backoff_minutes: int = 24 * 60
    digest_max_per_topic: int = 20
    # The digest's top stories are capped (the rest are counted: "… and N more stories"); each
    # topic's index lists at most digest_topic_list stories beyond the top ones.
    digest_max_stories: int = 15
    digest_topic_list: int = 5
    # A secondary tag is shown (and counted in the digest) only if its score is at least this
    # fraction of the article's primary score and at least the absolute minimum (rule scores run
    # from about 2 to 40). Calibrated on the dev set (/work/shared/data/classify, 2,428 secondary
    # tags): a secondary is its article's gold family 26-30% of the time below 0.40 of the primary
    # and 44-50% from 0.40 to 0.80, a step at 0.40. On the sample day the secondaries from 0.13 to
    # 0.30 are one or two incidental terms ("Europol ×1, violence ×1" at 2.50 beside 18.50); those
    # from 0.44 up are real second subjects (border guards on a drug seizure, 0.60). The minimum
    # drops the single-term hits of short texts (a score under 4 is one or two terms).
    digest_secondary_ratio: float = 0.40
    digest_secondary_min_score: float = 4.0
    # A spike: at least this many articles and this many times the trailing daily mean, improbable
    # under a Poisson law with that mean (P(X >= n) below spike_max_p: about one false spike per
    # topic or country every three years of ordinary days), after at least spike_min_history_days
    # days with data (a week: one of each weekday, so a busy Monday is not measured against a weekend).
    spike_factor: float = 3.0
    spike_min_articles: int = 5
    spike_baseline_days: int = 28
    spike_min_history_days: int = 7
    spike_max_p: float = 0.001
    # Syndicated copies are looked for among the articles of the last week; stories group 72 hours.
    near_duplicate_window: timedelta = timedelta(days=7)
    story_window: timedelta = timedelta(hours=72)
    spike_alerts: bool = False  # mail spikes at once from the processing DAG, not only in the digest
    digest_recipients: tuple[str, ...] = ()
    alert_recipients: tuple[str, ...] = ()  # failed Airflow tasks are reported here
    feed_schedule: str = "*/15 * * * *"  # cron of the feed DAG
    digest_cron: str = "0 6 * * *"  # when the daily digest goes out, in `timezone`
    smtp_url: str | None = None  # smtp://user:password@host:port for `monitor digest --send`
    mail_from: str = "security-monitor@localhost"
    progress: bool = True
    # Built lookup tables (the gazetteer) shared between processes; None: rebuild in every process.
    cache_dir: Path | None = None

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks (an Airflow task's, a bug report's): the passwords in
        # the connection URLs must not.
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("database_url", "smtp_url"):
            shown[name] = redact_url(shown[name])
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = _path(env, "MONITOR_HOME", Path(".monitor"))
        timezone = _str(env, "MONITOR_TIMEZONE", "UTC") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"MONITOR_TIMEZONE={timezone!r} is not an IANA time zone such as Europe/Vienna"
            ) from None
        recipients = _addresses(env, "MONITOR_DIGEST_RECIPIENTS")
        alert_recipients = _addresses(env, "MONITOR_ALERT_RECIPIENTS") or recipients
        baseline_days = _int(env, "MONITOR_SPIKE_BASELINE_DAYS", 28, 1)
        min_history = _int(env, "MONITOR_SPIKE_MIN_HISTORY_DAYS", 7, 1)
        if min_history > baseline_days:
            raise ConfigError(
                f"MONITOR_SPIKE_MIN_HISTORY_DAYS={min_history} is more than MONITOR_SPIKE_BASELINE_DAYS="
                f"{baseline_days}: no day could ever have enough history to spike"
            )
        max_p = _float(env, "MONITOR_SPIKE_MAX_P", 0.001, 0.0)
        if not 0 < max_p < 1:
            raise ConfigError(
                f"MONITOR_SPIKE_MAX_P={max_p} must be a probability between 0 and 1 (e.g. 0.001)"
            )
        database_url = _str(env, "MONITOR_DATABASE_URL", None)
        if database_url and not database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("MONITOR_DATABASE_URL must start with postgresql:// (a libpq URI)")
        return cls(
            database_url=database_url,
            home=home,
            inbox_dir=_path(env, "MONITOR_INBOX", home / "inbox"),
            out_dir=_path(env, "MONITOR_OUT", Path("out")),
            migrations_dir=_path(env, "MONITOR_MIGRATIONS", _REPO_ROOT / "sql"),
            timezone=timezone,
            fetch=FetchSettings(
                connect_timeout=_float(env, "MONITOR_FETCH_CONNECT_TIMEOUT", 5.0, 0.1),
                read_timeout=_float(env, "MONITOR_FETCH_READ_TIMEOUT", 20.0, 0.1),
                total_timeout=_float(env, "MONITOR_FETCH_TOTAL_TIMEOUT", 120.0, 0.1),
                max_bytes=_int(env, "MONITOR_FETCH_MAX_BYTES", 10 * 1024 * 1024, 1024),
                max_redirects=_int(env, "MONITOR_FETCH_MAX_REDIRECTS", 5, 0),
                user_agent=_str(env, "MONITOR_USER_AGENT", USER_AGENT) or USER_AGENT,
                concurrency=_int(env, "MONITOR_FETCH_CONCURRENCY", 8, 1),
                per_host=_int(env, "MONITOR_FETCH_PER_HOST", 2, 1),
                allowed_networks=_networks(env, "MONITOR_FETCH_ALLOW_NETWORKS"),
            ),
            inbox_max_bytes=_int(env, "MONITOR_INBOX_MAX_BYTES", 10 * 1024 * 1024, 1024),
            batch_size=_int(env, "MONITOR_BATCH_SIZE", 200, 1),
            process_workers=_int(env, "MONITOR_PROCESS_WORKERS", min(4, os.cpu_count() or 1), 1),
            feed_interval_minutes=_int(env, "MONITOR_FEED_INTERVAL_MINUTES", 30, 1),
            feed_max_backoff_minutes=_int(env, "MONITOR_FEED_MAX_BACKOFF_MINUTES", 24 * 60, 1),
            digest_max_per_topic=_int(env, "MONITOR_DIGEST_MAX_PER_TOPIC", 20, 1),
            digest_max_stories=_int(env, "MONITOR_DIGEST_MAX_STORIES", 15, 1),
            digest_topic_list=_int(env, "MONITOR_DIGEST_TOPIC_LIST", 5, 0),
            digest_secondary_ratio=_float(env, "MONITOR_DIGEST_SECONDARY_RATIO", 0.40, 0.0),
            digest_secondary_min_score=_float(env, "MONITOR_DIGEST_SECONDARY_MIN_SCORE", 4.0, 0.0),
            spike_factor=_float(env, "MONITOR_SPIKE_FACTOR", 3.0, 1.0),
            spike_min_articles=_int(env, "MONITOR_SPIKE_MIN_ARTICLES", 5, 1),
            spike_baseline_days=baseline_days,
            spike_min_history_days=min_history,
            spike_max_p=max_p,
            spike_alerts=_bool(env, "MONITOR_SPIKE_ALERTS", False),
            near_duplicate_window=timedelta(hours=_int(env, "MONITOR_NEAR_DUPLICATE_HOURS", 7 * 24, 1)),
            story_window=timedelta(hours=_int(env, "MONITOR_STORY_HOURS", 72, 1)),
            digest_recipients=recipients,
            alert_recipients=alert_recipients,
            feed_schedule=_cron(env, "MONITOR_FEED_SCHEDULE", "*/15 * * * *"),
            digest_cron=_cron(env, "MONITOR_DIGEST_CRON", "0 6 * * *"),
            smtp_url=_str(env, "MONITOR_SMTP_URL", None),
            mail_from=_str(env, "MONITOR_MAIL_FROM", "security-monitor@localhost")
            or "security-monitor@localhost",
            progress=_bool(env, "MONITOR_PROGRESS", True),
            cache_dir=_path(
                env,
                "MONITOR_CACHE_DIR",
                Path(env.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "security-media-monitor",
            ),
        )
