"""Metric arithmetic and the floors gate: pure functions over counts, no data files, no I/O.

Every gated metric is a share where higher is better (a false-positive rate enters as its
complement, specificity), so one rule serves them all: a floor is a minimum, and floors only go up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Speed depends on the machine and on what else runs on it (the same classify pass measured 928 and
# 1,921 docs/s of CPU time on a busy 2-core machine), so a speed floor is a third of the measured
# value: only a real slow-down (an accidental quadratic loop, a lost cache) trips it.
SPEED_FLOOR_SHARE = 1 / 3
SPEED_PREFIX = "speed."


@dataclass(frozen=True)
class Confusion:
    """Counts of a binary decision: true/false positives and negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)

    @property
    def fpr(self) -> float:
        """Share of negatives predicted positive."""
        return ratio(self.fp, self.fp + self.tn)

    @property
    def specificity(self) -> float:
        """Share of negatives predicted negative: 1 - FPR (0 when there are no negatives)."""
        return ratio(self.tn, self.fp + self.tn)


@dataclass(frozen=True)
class Matches:
    """Counts of a retrieval task where predictions and gold items are matched separately
    (overlapping spans): `pred_ok` of `pred` predictions are right, `gold_found` of `gold` are found."""

    pred: int = 0
    pred_ok: int = 0
    gold: int = 0
    gold_found: int = 0

    @property
    def precision(self) -> float:
        return ratio(self.pred_ok, self.pred)

    @property
    def recall(self) -> float:
        return ratio(self.gold_found, self.gold)

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)

    def __add__(self, other: Matches) -> Matches:
        return Matches(
            self.pred + other.pred,
            self.pred_ok + other.pred_ok,
            self.gold + other.gold,
            self.gold_found + other.gold_found,
        )


def ratio(part: int, whole: int) -> float:
    """part / whole, 0.0 for an empty whole (nothing to measure counts as nothing achieved)."""
    return part / whole if whole else 0.0


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def confusion(pairs: Iterable[tuple[bool | None, bool]]) -> Confusion:
    """Counts of (gold, predicted) pairs; a gold None means "not judged" and is ignored."""
    tp = fp = fn = tn = 0
    for gold, predicted in pairs:
        if gold is None:
            continue
        if gold:
            tp, fn = (tp + 1, fn) if predicted else (tp, fn + 1)
        else:
            fp, tn = (fp + 1, tn) if predicted else (fp, tn + 1)
    return Confusion(tp, fp, fn, tn)


def recall_by_group(pairs: Iterable[tuple[str, bool]]) -> dict[str, tuple[int, int]]:
    """(group, found) pairs of positives → {group: (found, total)}, groups sorted by name."""
    counts: dict[str, list[int]] = {}
    for group, found in pairs:
        c = counts.setdefault(group, [0, 0])
        c[0] += int(found)
        c[1] += 1
    return {group: (c[0], c[1]) for group, c in sorted(counts.items())}


# ------------------------------------------------------------------------------------------ floors


def floor_value(value: float, decimals: int = 3) -> float:
    """`value` rounded down to `decimals` (0.9759 → 0.975). The product is rounded to 6 places
    first so binary noise (0.95 * 1000 = 949.999…) does not lose a whole step."""
    scale = 10**decimals
    return math.floor(round(value * scale, 6)) / scale


def is_speed(name: str) -> bool:
    return name.startswith(SPEED_PREFIX)


def check_floors(metrics: Mapping[str, float], floors: Mapping[str, float]) -> list[str]:
    """One message per floor that is not met: the metric is below it or was not measured."""
    failures = []
    for name, minimum in sorted(floors.items()):
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: not measured (floor {minimum:g})")
        elif value < minimum:
            failures.append(f"{name}: {value:.4f} is below its floor {minimum:g}")
    return failures


def raised_floors(floors: Mapping[str, float], metrics: Mapping[str, float]) -> dict[str, float]:
    """New floors: max(old floor, current value rounded down to 3 decimals); speed metrics at
    SPEED_FLOOR_SHARE of the measured value, rounded down to a whole number. Never lowers a floor,
    and keeps floors of metrics not measured this time."""
    new = dict(floors)
    for name, value in metrics.items():
        candidate = float(math.floor(value * SPEED_FLOOR_SHARE)) if is_speed(name) else floor_value(value)
        new[name] = max(new.get(name, candidate), candidate)
    return dict(sorted(new.items()))
