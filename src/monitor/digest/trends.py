"""Spikes: a day whose count of a topic or a country is far above its trailing baseline. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
