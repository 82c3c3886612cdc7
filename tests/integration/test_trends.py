"""Spikes of a topic or a country against its trailing 28-day baseline, in the digest and by e-mail:
only with a week of history before them, and only when improbable under a Poisson law."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from monitor import pipeline
from monitor.analyze import Models
from monitor.digest.trends import DailyCount, baseline, counts_of_window, find_spikes, poisson_tail
from monitor.models import CountryCount, FeedItem, WindowCounts
from monitor.settings import Settings
from monitor.store import articles
from monitor.store.db import Connection

DAY = date(2026, 11, 20)
BOMBING = "A car bomb exploded in {city}; the terrorist attack killed {n} people, police said. Report {i}."
SMUGGLING = "Border guards seized heroin from a drug trafficking gang in {city}. Report {i}."


def add(db: Connection, text: str, seen: datetime, ref: str) -> None:
    articles.insert_items(db, source_id=None, origin="inbox", items=[(FeedItem(title=ref, raw=text), ref)],
                          seen_at=seen)  # fmt: skip


RULES = {"factor": 3.0, "minimum": 5, "min_history": 7, "max_p": 0.001}  # the defaults


def test_find_spikes_rules() -> None:
    counts = [
        DailyCount("topic", "terrorism", "Terrorism", 12, 2.0, 14),  # 6× the usual, P ≈ 2e-6: spike
        DailyCount("topic", "cyber", "Cyber", 4, 0.0, 14),  # below the minimum of 5
        DailyCount("country", "UA", "Ukraine", 30, 12.0, 14),  # 2.5×: not enough (however improbable)
        DailyCount("country", "NE", "Niger", 6, 0.1, 14),  # a baseline under 1 counts as 1: P ≈ 6e-4
        # 3.3× the usual and over the minimum, a spike by the old ratio rule alone, but P(X >= 5 | 1.5)
        # ≈ 0.019: a quiet topic's ordinary fluctuation.
        DailyCount("topic", "arms", "Arms control", 5, 1.5, 14),
        DailyCount("topic", "border", "Border security", 9, 0.0, 6),  # six days of history: too few
    ]
    spikes = find_spikes(counts, **RULES)
    assert [(s.kind, s.key) for s in spikes] == [("topic", "terrorism"), ("country", "NE")]
    assert spikes[0].describe() == "Terrorism: 12 articles (usual 2.0/day)"


def test_the_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0 and poisson_tail(1, 0.0) == 0.0
    assert abs(poisson_tail(1, 2.0) - (1 - math.exp(-2.0))) < 1e-12
    assert abs(poisson_tail(5, 1.5) - 0.018575) < 1e-6  # below the mean's side: 1 - P(X < 5)
    assert abs(poisson_tail(6, 1.0) - 0.000594) < 1e-6
    assert poisson_tail(3000, 2000.0) < 1e-90  # a busy day: no underflow to a wrong 0 or 1
    assert 0.45 < poisson_tail(2000, 2000.0) < 0.51


def test_day_rows_and_baseline_are_plain_arithmetic() -> None:
    counts = WindowCounts(
        total=9,
        by_topic={"terrorism": 7, "cyber": 2},
        by_country=[CountryCount("AF", "Afghanistan", 7)],
        untagged=0,
    )
    today = counts_of_window(counts, {"terrorism": "Terrorism"})  # a topic missing a label keeps its id
    assert today == [("country", "AF", "Afghanistan", 7), ("topic", "cyber", "cyber", 2),
                     ("topic", "terrorism", "Terrorism", 7)]  # fmt: skip
    # Three days before, the latest first: yesterday without the topic counts as zero in the mean,
    # and so does a day with data on other keys only. (The old rule divided by every day of the
    # window, so the day before the monitor had anything counted as a zero too: now the mean starts
    # at the oldest day with data, and the days with data are the history.)
    past = [[], [("topic", "cyber", "cyber", 1)], [("topic", "terrorism", "Terrorism", 3)], [], []]
    assert baseline(past, today) == [
        DailyCount("country", "AF", "Afghanistan", 7, 0.0, 2),
        DailyCount("topic", "cyber", "cyber", 2, 1 / 3, 2),
        DailyCount("topic", "terrorism", "Terrorism", 7, 1.0, 2),
    ]
    assert baseline([], today)[2] == DailyCount("topic", "terrorism", "Terrorism", 7, 0.0, 0)  # no history
    assert baseline([[], []], today)[2].history_days == 0  # days without data are no history


def test_a_surge_of_bombings_is_a_spike_in_the_digest_and_alerted_once(
    db: Connection,
    settings: Settings,
    models: Models,
) -> None:
    noon = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    for d in range(1, 29):  # the usual: one bombing report a day for four weeks
        add(db, BOMBING.format(city="Kabul", n=d, i=f"b{d}"), noon - timedelta(days=d), f"old-{d}")
    for i in range(9):  # the day: nine of them
        add(db, BOMBING.format(city="Kabul", n=i + 3, i=f"t{i}"), noon + timedelta(minutes=i), f"today-{i}")
    for i in range(2):  # a quiet topic with no history: too few to be a spike
        add(db, SMUGGLING.format(city="Termez", i=i), noon, f"smuggling-{i}")
    db.commit()
    pipeline.process_pending(settings, db, models)

    result = pipeline.build_daily_digest(settings, db, models, DAY)
    spikes = {(s.kind, s.key): s for s in result.digest.spikes}
    assert ("topic", "terrorism") in spikes
    assert spikes[("topic", "terrorism")].count == 9
    assert abs(spikes[("topic", "terrorism")].baseline - 1.0) < 1e-9
    assert ("topic", "organised_crime") not in spikes
    assert "SPIKES" in result.text and "Terrorism: 9 articles (usual 1.0/day)" in result.text
    assert "Spikes" in result.html

    sent: list[EmailMessage] = []
    assert (
        pipeline.send_spike_alerts(
            settings, db, models, DAY, transport=sent.append, recipients=["desk@example.org"]
        )
        >= 1
    )
    assert (
        pipeline.send_spike_alerts(
            settings, db, models, DAY, transport=sent.append, recipients=["desk@example.org"]
        )
        == 0
    )
    assert len(sent) == 1
    assert "Terrorism: 9 articles" in sent[0].get_content()
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM alerts WHERE sent_at IS NULL")
        assert cur.fetchone() == (0,)


def test_a_busy_day_is_counted_in_full_but_listed_in_part(
    db: Connection, settings: Settings, models: Models
) -> None:
    from dataclasses import replace

    noon = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    for i in range(25):
        add(db, BOMBING.format(city="Kabul", n=i + 2, i=f"x{i}"), noon + timedelta(seconds=i), f"bomb-{i}")
    for i in range(60):
        add(db, f"The cup final ended in a draw after extra time. Match report {i}.", noon, f"match-{i}")
    db.commit()
    pipeline.process_pending(settings, db, models)
    result = pipeline.build_daily_digest(replace(settings, digest_max_per_topic=10), db, models, DAY)
    d = result.digest
    assert d.total_articles == 85 and result.articles == 85
    terrorism = next(t for t in d.by_topic if t.topic_id == "terrorism")
    # Counted in full (25 articles) though only the best 10 were read and shown as stories.
    assert terrorism.article_count == 25 and terrorism.partial
    shown = sum(
        len(s.articles) + s.more_articles for s in d.stories if "terrorism" in [t.topic_id for t in s.topics]
    )
    assert shown <= 10 and "25 articles)" in result.text
    assert (d.other_count, len(d.other)) == (60, 50)
    assert "OTHER ARTICLES (60, no security topic)" in result.text and "… and 10 more" in result.text
    assert "85 articles in this window" in result.text


def test_day_one_is_no_spike_but_a_surge_after_two_quiet_weeks_is(
    db: Connection, settings: Settings, models: Models
) -> None:
    """The first `make up`: seven bombing reports on the first day are "7 articles (usual none
    before)" by a bare ratio, but no history, no spike. After fourteen quiet days (a smuggling
    report a day, nothing on terrorism) the same seven are one; a small rise of a busy topic is not."""
    first = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    for i in range(7):
        add(db, BOMBING.format(city="Kabul", n=i + 2, i=f"d1-{i}"), first + timedelta(minutes=i), f"d1-{i}")
    db.commit()
    pipeline.process_pending(settings, db, models)
    day_one = pipeline.build_daily_digest(settings, db, models, first.date())
    assert day_one.digest.spikes == ()
    assert "SPIKES" not in day_one.text

    quiet_start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for d in range(14):
        add(db, SMUGGLING.format(city="Termez", i=f"q{d}"), quiet_start + timedelta(days=d), f"quiet-{d}")
    surge = quiet_start + timedelta(days=14)
    for i in range(7):
        add(db, BOMBING.format(city="Herat", n=i + 2, i=f"s{i}"), surge + timedelta(minutes=i), f"surge-{i}")
    db.commit()
    pipeline.process_pending(settings, db, models)
    spikes = {
        (s.kind, s.key): s
        for s in pipeline.build_daily_digest(settings, db, models, surge.date()).digest.spikes
    }
    assert ("topic", "terrorism") in spikes and spikes[("topic", "terrorism")].count == 7


def test_a_small_rise_of_a_busy_topic_is_no_spike(db: Connection, settings: Settings, models: Models) -> None:
    start = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    for d in range(14):  # six bombing reports a day for two weeks
        for i in range(6):
            at = start + timedelta(days=d, minutes=i)
            add(db, BOMBING.format(city="Kabul", n=i + 2, i=f"{d}-{i}"), at, f"busy-{d}-{i}")
    day = start + timedelta(days=14)
    for i in range(9):  # then nine: 1.5× the usual, P(X >= 9 | 6) ≈ 0.15
        add(db, BOMBING.format(city="Kabul", n=i + 2, i=f"t{i}"), day + timedelta(minutes=i), f"today-{i}")
    db.commit()
    pipeline.process_pending(settings, db, models)
    spikes = pipeline.build_daily_digest(settings, db, models, day.date()).digest.spikes
    assert ("topic", "terrorism") not in {(s.kind, s.key) for s in spikes}
