"""Stories and syndicated copies end to end: stored, stable, and shown once in the digest."""

from __future__ import annotations

import io
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from monitor import cli, pipeline
from monitor.analyze import Models
from monitor.models import FeedItem
from monitor.settings import Settings
from monitor.store import articles
from monitor.store import stories as story_store
from monitor.store.db import Connection

WIRE = (
    "Gunmen attacked a police convoy on the highway north of the capital on Tuesday, killing six officers "
    "and wounding nine, the interior ministry said. The attackers fired rockets at the lead vehicle before "
    "opening fire with automatic rifles, according to a police spokesman. No group has claimed the attack, "
    "but security officials blamed an insurgent faction that has targeted police in the province for months. "
    "The ministry said reinforcements had sealed off the area and a search operation was under way. "
    "Hospitals in the provincial capital appealed for blood donations as the wounded were brought in. "
    "It was the deadliest attack on the police in the region this year."
)
FOLLOW_UP = (
    "Security forces arrested four suspects on Wednesday over the attack on a police convoy north of the "
    "capital that killed six officers, the interior ministry said. The ministry said the suspected "
    "insurgents "
    "were detained in a raid on a village near the highway where the convoy was ambushed with rockets and "
    "automatic rifles. Officials said the insurgent faction behind the attack on the police convoy had been "
    "planning further attacks in the province."
)
OTHER = (
    "Customs officers at the container port seized two tonnes of cocaine hidden in a shipment of bananas, "
    "the finance ministry said. Investigators believe a drug trafficking cartel organised the smuggling "
    "route through several transit countries, and prosecutors have opened a case against the importers."
)
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def add(db: Connection, ref: str, title: str, text: str, seen: datetime, source: str) -> None:
    item = FeedItem(title=title, raw=text, source_name=source)
    articles.insert_items(db, source_id=None, origin="inbox", items=[(item, ref)], seen_at=seen)
    db.commit()


def feed_all(db: Connection, order: list[int]) -> None:
    docs = [
        ("wire", "Six police killed in convoy attack", WIRE, T0, "Wire Agency"),
        # Republished by a newspaper: new headline, its own boilerplate, the last paragraph cut.
        (
            "paper",
            "Police convoy ambushed: six dead",
            "By our correspondent. " + WIRE.rsplit(" It was", 1)[0] + " Follow us for more news.",
            T0 + timedelta(hours=1),
            "Daily Paper",
        ),
        ("followup", "Four arrested over convoy attack", FOLLOW_UP, T0 + timedelta(hours=5), "Evening Post"),
        ("cocaine", "Two tonnes of cocaine seized at port", OTHER, T0 + timedelta(hours=2), "Port News"),
    ]
    for i in order:
        add(db, *docs[i])


def stories_of(db: Connection) -> dict[str, tuple[int, int | None]]:
    with db.cursor() as cur:
        cur.execute("""SELECT a.origin_ref, a.story_id, d.origin_ref FROM articles a
                       LEFT JOIN articles d ON d.id = a.near_duplicate_of ORDER BY a.id""")
        rows = cur.fetchall()
    db.commit()
    return {ref: (story, dup) for ref, story, dup in rows}


def test_syndicated_copy_and_follow_up_form_one_story_shown_once(
    db: Connection, settings: Settings, models: Models
) -> None:
    feed_all(db, [0, 1, 2, 3])
    pipeline.process_pending(settings, db, models)
    report = pipeline.assign_stories(settings, db)
    assert report.assigned == 4 and report.near_duplicates == 1
    got = stories_of(db)
    wire_story = got["wire"][0]
    assert got["paper"] == (wire_story, "wire")  # a copy of the wire text, linked to it
    assert got["followup"][0] == wire_story  # the same event, reported the next day
    assert got["cocaine"][0] not in (None, wire_story)
    with db.cursor() as cur:
        cur.execute("SELECT title, article_count, source_count FROM stories WHERE id = %s", (wire_story,))
        assert cur.fetchone() == ("Six police killed in convoy attack", 3, 3)
    db.commit()

    digest = pipeline.build_daily_digest(settings, db, models, T0.date())
    convoy = [s for s in digest.digest.stories if s.state == "new" and s.size == 3]
    assert len(convoy) == 1  # the story once, whatever its topics
    titles = [a.title for a in convoy[0].articles]
    # The syndicated copy never; the story's articles of the day once each.
    assert "Police convoy ambushed: six dead" not in titles
    assert "Six police killed in convoy attack" in titles or "Four arrested over convoy attack" in titles
    assert digest.text.count(f"#{convoy[0].number}".ljust(4) + convoy[0].title[:20]) == 1
    assert "New story, 3 articles from 3 sources" in digest.text
    assert pipeline.assign_stories(settings, db).assigned == 0  # nothing left: running again adds nothing


@pytest.mark.parametrize("seed", [1, 2])
def test_story_ids_do_not_depend_on_arrival_order(
    db: Connection, settings: Settings, seed: int, models: Models
) -> None:
    order = [0, 1, 2, 3]
    random.Random(seed).shuffle(order)
    feed_all(db, order)
    pipeline.process_pending(settings, db, models)
    pipeline.assign_stories(settings, db)
    got = stories_of(db)
    # Story ids are article ids, which depend on arrival; the partition and the copy link must not.
    assert got["paper"][0] == got["wire"][0] == got["followup"][0] != got["cocaine"][0]
    assert got["paper"][1] == "wire"


def test_articles_arriving_later_join_the_stored_story(
    db: Connection, settings: Settings, models: Models
) -> None:
    feed_all(db, [0, 3])
    pipeline.process_pending(settings, db, models)
    pipeline.assign_stories(settings, db)
    first = stories_of(db)["wire"][0]
    feed_all(db, [1, 2])  # a later run: the indexes are rebuilt from the database
    pipeline.process_pending(settings, db, models)
    pipeline.assign_stories(settings, db)
    got = stories_of(db)
    assert got["wire"][0] == first
    assert got["paper"] == (first, "wire") and got["followup"][0] == first


def test_cluster_command_is_offline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        {"id": "a", "title": "Six police killed", "text": WIRE, "published": "2026-11-20T08:00:00Z"},
        {
            "id": "b",
            "title": "Convoy ambushed",
            "text": "By our correspondent. " + WIRE,
            "published": "2026-11-20T09:00:00Z",
        },
        {"id": "c", "title": "Cocaine seized", "text": OTHER, "published": "2026-11-20T10:00:00Z"},
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(x) for x in lines) + "\nnot json\n"))
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert cli.main(["cluster", "-"]) == 0
    out, err = capsys.readouterr()
    results = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert results["b"]["duplicate_of"] == "a" and results["b"]["story_id"] == results["a"]["story_id"]
    assert results["c"]["story_id"] != results["a"]["story_id"]
    assert "line 4" in err


def test_a_run_per_article_gives_the_stories_of_one_run(
    db: Connection, settings: Settings, models: Models
) -> None:
    # Each run warms its indexes from what earlier runs stored; the result must not depend on how
    # arrivals were split into runs.
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "articles.json"
    docs = [
        (a["id"], a["title"], a["text"], datetime.fromisoformat(a["seen_at"]), a["source"])
        for a in json.loads(fixture.read_text(encoding="utf-8"))["articles"]
    ]
    _, _, text, seen, _ = docs[0]  # syndicated an hour later by another outlet, under its own headline
    docs.append(("a01-copy", "Weapons convoy stopped at pass", text, seen + timedelta(hours=1), "Paper"))
    docs.sort(key=lambda d: d[3])
    for doc in docs:
        add(db, *doc)
        pipeline.process_pending(settings, db, models)
        assert pipeline.assign_stories(settings, db).assigned == 1
    per_run = stories_of(db)
    assert per_run["a01-copy"] == (per_run["a01"][0], "a01")
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET story_id = NULL, near_duplicate_of = NULL")
        cur.execute("DELETE FROM stories")
    db.commit()
    assert pipeline.assign_stories(settings, db).assigned == len(docs)
    assert stories_of(db) == per_run
    events: dict[int, set[str]] = {}
    for a in json.loads(fixture.read_text(encoding="utf-8"))["articles"]:
        events.setdefault(per_run[a["id"]][0], set()).add(a["event"])
    assert all(len(e) == 1 for e in events.values()) and len(events) == 4


def test_one_assigner_at_a_time_and_the_lock_is_released(
    db: Connection,
    settings: Settings,
    database_url: str,
    models: Models,
) -> None:
    feed_all(db, [0, 1])
    pipeline.process_pending(settings, db, models)
    other = psycopg2.connect(database_url)
    try:
        assert story_store.try_lock(other)
        report = pipeline.assign_stories(settings, db)
        assert report.skipped and report.assigned == 0
        story_store.unlock(other)
        other.commit()
        assert pipeline.assign_stories(settings, db).assigned == 2
        assert story_store.try_lock(other)  # the run let it go
        story_store.unlock(other)
    finally:
        other.close()
