"""The digest's choice of articles on rows made to order: ties, one story filling a topic's top rows,
untagged articles, and the bounded read agreeing with the full one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.store import digests
from monitor.store.db import Connection

START = datetime(2026, 11, 20, tzinfo=UTC)
END = START + timedelta(days=1)


def make_day(db: Connection, rows: list[tuple[int, int | None, list[tuple[str, float]], int]]) -> None:
    """(article id, story id, [(topic, score)], minute of the day) per article."""
    with db.cursor() as cur:
        for article_id, story, topics, minute in rows:
            cur.execute(
                """INSERT INTO articles (id, origin, origin_ref, title, raw, raw_format, raw_hash, status,
                                         clean_text, content_hash, first_seen_at, story_id)
                   VALUES (%s, 'inbox', %s, %s, 'raw', 'text', %s, 'processed', 'text', %s, %s, %s)""",
                (
                    article_id,
                    f"r{article_id}",
                    f"Article {article_id}",
                    f"raw{article_id}",
                    f"c{article_id}",
                    START + timedelta(minutes=minute),
                    story,
                ),
            )
            for topic, score in topics:
                cur.execute(
                    """INSERT INTO article_topics (article_id, topic_id, label, score, evidence,
                                                   taxonomy_version)
                       VALUES (%s, %s, %s, %s, '[]', 't')""",
                    (article_id, topic, topic.title(), score),
                )
    db.commit()


def picked(db: Connection, per_topic: int, other: int) -> list[int]:
    ids = [r.id for r in digests.digest_selection(db, START, END, per_topic, other)]
    db.commit()
    return ids


def test_one_story_filling_the_top_rows_is_shown_once_and_the_next_stories_follow(
    db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Story 1 has the six best terrorism rows; stories 7 and 8 come next; 9 is untagged.
    rows = [(i, 1, [("terrorism", 10.0 - i * 0.1)], i) for i in range(1, 7)]
    rows += [(7, None, [("terrorism", 5.0)], 30), (8, None, [("terrorism", 5.0), ("cyber", 2.0)], 40)]
    rows += [(9, None, [], 50), (10, None, [], 10)]
    make_day(db, rows)
    monkeypatch.setattr(digests, "_CANDIDATES_PER_PICK", 1)  # reads 3 rows per topic: all story 1
    # Best of story 1 (article 1), then the tie at 5.0 broken by the newer one (8), then 7; cyber: 8;
    # untagged: the newest one only. A picked story brings its first five articles of the window
    # (STORY_ARTICLES_READ), so the digest can name its outlets and list its articles: 1-5 of story 1.
    assert picked(db, per_topic=3, other=1) == [1, 2, 3, 4, 5, 7, 8, 9]
    assert picked(db, per_topic=2, other=0) == [1, 2, 3, 4, 5, 8]
    assert picked(db, per_topic=0, other=5) == [9, 10]


def test_bounded_read_agrees_with_reading_every_row(db: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    topics = ["terrorism", "cyber", "armed_conflict"]
    rows = []
    for article_id in range(1, 401):
        story = rng.choice([None, None, 1, 2, 3, rng.randrange(1, 400)])
        tags = [(t, float(rng.randrange(1, 8))) for t in topics if rng.random() < 0.4]
        rows.append((article_id, story, tags, rng.randrange(0, 1440)))
    make_day(db, rows)
    bounded = picked(db, per_topic=5, other=7)
    monkeypatch.setattr(digests, "_CANDIDATES_PER_PICK", 10**6)  # every row of every topic
    assert picked(db, per_topic=5, other=7) == bounded
    monkeypatch.setattr(digests, "_CANDIDATES_PER_PICK", 1)  # the fallback on (almost) every topic
    assert picked(db, per_topic=5, other=7) == bounded
