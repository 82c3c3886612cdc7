"""What the workbench pages compute from the store's reads: the trends table with its spikes (the
statistics of `digest/trends.py`, as the digest judges a day), the feed's next poll on the feed DAG's
tick, search snippets as safe markup, and the same-origin check of the forms. No SQL here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from markupsafe import Markup, escape

from monitor.digest.build import digest_window
from monitor.digest.trends import Spike, baseline, counts_of_window, find_spikes
from monitor.settings import Settings
from monitor.store import digests as digest_store
from monitor.store import trends as trend_store
from monitor.store import workbench as store
from monitor.store.db import Connection
from monitor.store.search import MARK_END, MARK_START

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def topic_labels() -> dict[str, str]:
    """Topic id -> label in taxonomy order (the order of every per-topic list)."""
    from monitor.classify.rules import default_taxonomy_text
    from monitor.classify.taxonomy import parse_taxonomy

    taxonomy = parse_taxonomy(default_taxonomy_text(), source="monitor/classify/taxonomies/security.yaml")
    return {t.id: t.label for t in taxonomy.topics}


def snippet_markup(snippet: str) -> Markup:
    """A search snippet as HTML: the text escaped, then ts_headline's marks turned into <mark>."""
    out, open_mark = [], False
    for i, part in enumerate(snippet.replace(MARK_END, MARK_START + "\0").split(MARK_START)):
        if i:
            if part.startswith("\0"):
                part = part[1:]
                if open_mark:
                    out.append("</mark>")
                    open_mark = False
            elif not open_mark:
                out.append("<mark>")
                open_mark = True
        out.append(str(escape(part)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


# --- same origin -----------------------------------------------------------------------------------


# --- feeds -----------------------------------------------------------------------------------------


def next_tick(schedule: str, tz: str, due: datetime, now: datetime) -> datetime | None:
    """When the feed DAG (cron `schedule` in `tz`) next runs at or after `due` (or now, when the feed
    is overdue): the time the feed is actually polled. None when the cron cannot be read."""
    try:
        from zoneinfo import ZoneInfo

        from croniter import croniter  # Airflow's dependency: the api-server always has it
    except ImportError:  # pragma: no cover - outside Airflow the page shows the due time only
        return None
    start = max(due, now).astimezone(ZoneInfo(tz)) - timedelta(seconds=1)  # "at or after"
    try:
        return croniter(schedule, start).get_next(datetime).astimezone(UTC)
    except (ValueError, KeyError) as exc:
        log.warning("cannot read MONITOR_FEED_SCHEDULE %r: %s", schedule, exc)
        return None


# --- trends ----------------------------------------------------------------------------------------

SPARK = "▁▂▃▄▅▆▇█"
COUNTRIES_LISTED = 20


@dataclass
class TrendCell:
    day: date
    count: int
    spike: Spike | None = None

    def level(self, top: int) -> str:
        if self.count == 0 or top == 0:
            return "·"
        return SPARK[min(len(SPARK) - 1, (self.count * len(SPARK) - 1) // top)]


@dataclass
class TrendRow:
    kind: str
    key: str
    label: str
    cells: list[TrendCell]
    total: int = 0
    top: int = 0
    spikes: list[TrendCell] = field(default_factory=list)


@dataclass
class Trends:
    days: list[date]
    topics: list[TrendRow]
    countries: list[TrendRow]


def _day_rows(
    settings: Settings, conn: Connection, day: date, labels: dict[str, str], now: datetime
) -> list[tuple[str, str, str, int]]:
    """A day's counts as the pipeline keeps them (pipeline/trends.py day_counts): counted from the
    articles when not stored, and stored when the day is over, for the next reader."""
    start, end = digest_window(day, settings.timezone)
    rows = counts_of_window(digest_store.window_counts(conn, start, end), labels)
    if end <= now:
        trend_store.store_day_counts(conn, day, settings.timezone, rows)
        conn.commit()
    return rows


def trends(settings: Settings, conn: Connection, days: int, today: date, now: datetime) -> Trends:
    """Articles per day by topic and by country over the `days` days up to `today`, each day marked
    where it is a spike against the days before it, judged as the digest judges its day."""
    labels = topic_labels()
    back = settings.spike_baseline_days
    first = today - timedelta(days=days - 1)
    stored = store.stored_counts_between(conn, first - timedelta(days=back), today, settings.timezone)
    per_day: dict[date, list[tuple[str, str, str, int]]] = {}
    for offset in range(days + back):
        d = first - timedelta(days=back) + timedelta(days=offset)
        rows = stored.get(d)
        per_day[d] = rows if rows is not None and d != today else _day_rows(settings, conn, d, labels, now)
    shown = [first + timedelta(days=i) for i in range(days)]
    spikes: dict[tuple[str, str, date], Spike] = {}
    for d in shown:
        previous = [per_day[d - timedelta(days=b)] for b in range(1, back + 1)]
        for s in find_spikes(
            baseline(previous, per_day[d]),
            factor=settings.spike_factor,
            minimum=settings.spike_min_articles,
            min_history=settings.spike_min_history_days,
            max_p=settings.spike_max_p,
        ):
            spikes[(s.kind, s.key, d)] = s
    counts: dict[tuple[str, str], dict[date, int]] = {}
    names: dict[tuple[str, str], str] = {}
    for d in shown:
        for kind, key, label, n in per_day[d]:
            counts.setdefault((kind, key), {})[d] = n
            names[(kind, key)] = label

    def row(kind: str, key: str) -> TrendRow:
        cells = [TrendCell(d, counts[(kind, key)].get(d, 0), spikes.get((kind, key, d))) for d in shown]
        label = labels.get(key, names[(kind, key)]) if kind == "topic" else names[(kind, key)]
        r = TrendRow(kind, key, label, cells)
        r.total = sum(c.count for c in cells)
        r.top = max(c.count for c in cells)
        r.spikes = [c for c in cells if c.spike]
        return r

    topic_keys = [k for k in labels if ("topic", k) in counts]
    topic_keys += sorted(k for kind, k in counts if kind == "topic" and k not in labels)
    country_rows = sorted(
        (row("country", k) for kind, k in counts if kind == "country"), key=lambda r: (-r.total, r.label)
    )
    # The busiest countries, and any other that spiked in the window.
    country_rows = country_rows[:COUNTRIES_LISTED] + [r for r in country_rows[COUNTRIES_LISTED:] if r.spikes]
    return Trends(shown, [row("topic", k) for k in topic_keys], country_rows)
