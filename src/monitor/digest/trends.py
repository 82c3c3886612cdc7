"""Spikes: a day whose count of a topic or a country is far above its trailing baseline. Pure: the
day's rows from the window counts, their baseline over the previous days' rows, the spikes among them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.models import WindowCounts


@dataclass(frozen=True)
class DailyCount:
    kind: str  # "topic" or "country"
    key: str  # topic id or ISO code
    label: str
    count: int  # articles on the day
    baseline: float  # mean articles per day over the trailing days (zero days included)


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


def find_spikes(counts: Iterable[DailyCount], *, factor: float, minimum: int) -> list[Spike]:
    """Counts at least `minimum` and at least `factor` × baseline (a baseline under 1 counts as 1,
    so a single article on a quiet topic is no spike). Largest excess first, then kind and key."""
    spikes = [
        Spike(c.kind, c.key, c.label, c.count, c.baseline)
        for c in counts
        if c.count >= minimum and c.count >= factor * max(c.baseline, 1.0)
    ]
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
    """Today's counts with the mean per day over `per_day` (days without an article count as zero)."""
    days = max(len(per_day), 1)
    sums: dict[tuple[str, str], int] = {}
    for rows in per_day:
        for kind, key, _label, n in rows:
            sums[(kind, key)] = sums.get((kind, key), 0) + n
    return [DailyCount(kind, key, label, n, sums.get((kind, key), 0) / days) for kind, key, label, n in today]
