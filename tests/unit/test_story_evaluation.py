"""evaluation.stories: B-cubed and cross-outlet pair recall over labelled articles; halves by event."""

from __future__ import annotations

import pytest

from monitor.evaluation.stories import half_of, score


def test_bcubed_and_pair_recall_of_a_split_and_a_merge() -> None:
    gold = {"a": "e1", "b": "e1", "c": "e1", "d": "e2"}
    sources = {"a": "x", "b": "y", "c": "x", "d": "y", "u": "z"}
    # e1 split into {a, b} and {c}; d alone with an unlabelled article u
    pred = {"a": "s1", "b": "s1", "c": "s2", "d": "s3", "u": "s3"}
    s = score(pred, gold, sources)
    assert s.precision == pytest.approx(1.0)
    assert s.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert (s.pairs, s.pairs_together) == (2, 1)  # a-b together, b-c apart; a-c same outlet: not a pair
    assert s.unlabelled_mates == pytest.approx(0.25)  # d's only mate is unlabelled
    merged = score({"a": "s", "b": "s", "c": "s", "d": "s"}, gold, sources)
    assert merged.recall == pytest.approx(1.0) and merged.precision == pytest.approx((3 * 3 / 4 + 1 / 4) / 4)
    assert merged.mixed_stories == 1


def test_halves_are_fixed_per_event_and_both_used() -> None:
    labels = [f"event-{i}" for i in range(40)]
    assert {half_of(e) for e in labels} == {"dev", "check"}
    assert [half_of(e) for e in labels] == [half_of(e) for e in labels]
