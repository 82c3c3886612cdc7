"""Spikes of a topic or a country against its trailing 28-day baseline, in the digest and by e-mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from monitor import pipeline
from monitor.analyze import Models
from monitor.digest.trends import DailyCount, baseline, counts_of_window, find_spikes
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


def test_find_spikes_rules() -> None:
    counts = [
        DailyCount("topic", "terrorism", "Terrorism", 12, 2.0),  # 6× the usual: spike
        DailyCount("topic", "cyber", "Cyber", 4, 0.0),  # below the minimum of 5
        DailyCount("country", "UA", "Ukraine", 30, 12.0),  # 2.5×: not enough
        DailyCount("country", "NE", "Niger", 6, 0.1),  # a baseline under 1 counts as 1: 6× → spike
    ]
    spikes = find_spikes(counts, factor=3.0, minimum=5)
    assert [(s.kind, s.key) for s in spikes] == [("topic", "terrorism"), ("country", "NE")]
    assert spikes[0].describe() == "Terrorism: 12 articles (usual 2.0/day)"


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
    # Two days before: a day without the topic counts as zero in the mean.
    past = [[("topic", "terrorism", "Terrorism", 2)], []]
    assert baseline(past, today) == [
        DailyCount("country", "AF", "Afghanistan", 7, 0.0),
        DailyCount("topic", "cyber", "cyber", 2, 0.0),
        DailyCount("topic", "terrorism", "Terrorism", 7, 1.0),
    ]
    assert baseline([], today)[2].baseline == 0.0  # no history: no division by zero


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
    terrorism = next(s for s in d.sections if s.topic_id == "terrorism")
    assert (terrorism.total, len(terrorism.entries)) == (25, 10)
    assert (d.other_count, len(d.other)) == (60, 50)
    assert "OTHER ARTICLES (60, no security topic)" in result.text and "… and 10 more" in result.text
    assert "85 articles in this window" in result.text
