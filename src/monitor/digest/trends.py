"""Spikes: a day whose count of a topic or a country is far above its trailing baseline. Pure: the
day's rows from the window counts, their baseline over the previous days' rows, the spikes among them.

A spike needs history and significance, not only a ratio: at least `min_history` days before it
with data (on day one every busy topic would be "far above" a baseline of nothing), and a count that
would be improbable if the day were usual: P(X >= count) under a Poisson law with the baseline's
mean is below `max_p`. The ratio (`factor`) stays as a guard: news volume varies more than a Poisson
law allows (one big event fills a topic for days), so on a busy topic a statistically "significant"
rise of a third would still be ordinary.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.models import WindowCounts


@dataclass(frozen=True)
class DailyCount:
    kind: str  # "topic" or "country"
    key: str  # topic id or ISO code
    label: str
    count: int  # articles on the day
    baseline: float  # mean articles per day since the first day with data (zero days included)
    history_days: int = 0  # days before with data (any topic or country counted)


@dataclass(frozen=True)
class Spike:
    kind: str
    key: str
    label: str
    count: int
    baseline: float

    @property
    def ratio(self) -> float | None:
        return self.count / self.baseline if self.baseline else None

    def describe(self) -> str:
        base = f"{self.baseline:.1f}/day" if self.baseline else "none before"
        return f"{self.label}: {self.count} articles (usual {base})"


# A baseline under one article a day counts as one: with a mean near zero any single article would be
# "improbable", and one a day is the least a monitor of hundreds of feeds can tell from noise.
_MIN_RATE = 1.0


def poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean). Summed upwards from `count` when it is above the mean
    (the terms then shrink, and tiny tails keep their precision), else as 1 - P(X < count); in log
    space either way, so a busy day's mean of thousands does not underflow."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0

    def log_term(i: int) -> float:
        return -mean + i * math.log(mean) - math.lgamma(i + 1)

    if count > mean:
        total, i = 0.0, count
        while True:
            term = math.exp(log_term(i))
            total += term
            if term < 1e-16 * total or term == 0.0:
                return min(total, 1.0)
            i += 1
    below = sum(math.exp(log_term(i)) for i in range(count))
    return max(0.0, 1.0 - below)


def find_spikes(
    counts: Iterable[DailyCount], *, factor: float, minimum: int, min_history: int, max_p: float
) -> list[Spike]:
    """Counts with at least `min_history` days of history before them, at least `minimum`, at least
    `factor` × baseline, and P(X >= count | Poisson(baseline)) below `max_p` (a baseline under 1
    counts as 1 in both). Largest excess first, then kind and key."""
    spikes = []
    for c in counts:
        rate = max(c.baseline, _MIN_RATE)
        if c.history_days < min_history or c.count < minimum or c.count < factor * rate:
            continue
        if poisson_tail(c.count, rate) < max_p:
            spikes.append(Spike(c.kind, c.key, c.label, c.count, c.baseline))
    spikes.sort(key=lambda s: (-(s.count - s.baseline), s.kind, s.key))
    return spikes


def counts_of_window(counts: WindowCounts, topic_labels: dict[str, str]) -> list[tuple[str, str, str, int]]:
    """(kind, key, label, n) of a day from the digest's window counts (topics and every country)."""
    rows = [("topic", k, topic_labels.get(k, k), int(n)) for k, n in counts.by_topic.items()]
    rows += [("country", c.id, c.name, c.count) for c in counts.by_country]
    return sorted(rows)


def baseline(
    per_day: Sequence[Sequence[tuple[str, str, str, int]]], today: Sequence[tuple[str, str, str, int]]
) -> list[DailyCount]:
    """Today's counts with their history: `per_day` holds the days before, the latest first. The
    history is the days with data (any row); the mean runs from the oldest of them to yesterday, so
    days without a given topic count as zero but days before the monitor had anything do not."""
    with_data = [i for i, rows in enumerate(per_day) if rows]
    span = with_data[-1] + 1 if with_data else 1
    sums: dict[tuple[str, str], int] = {}
    for rows in per_day[:span]:
        for kind, key, _label, n in rows:
            sums[(kind, key)] = sums.get((kind, key), 0) + n
    return [
        DailyCount(kind, key, label, n, sums.get((kind, key), 0) / span, len(with_data))
        for kind, key, label, n in today
    ]
