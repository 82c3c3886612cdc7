"""dedupe.stories: incremental story clustering with stable ids, order independence and states."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.dedupe.stories import StoryArticle, StoryIndex, cluster, state

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stories"
RAW = json.loads((FIXTURES / "articles.json").read_text(encoding="utf-8"))["articles"]
ORIGINAL = (FIXTURES / "wire_original.txt").read_text(encoding="utf-8")


def article(raw: dict, **changes: object) -> StoryArticle:
    fields = {
        "id": raw["id"],
        "title": raw["title"],
        "text": raw["text"],
        "seen_at": datetime.fromisoformat(raw["seen_at"]),
        "entities": raw["entities"],
        "source": raw["source"],
    }
    fields.update(changes)
    return StoryArticle(**fields)  # type: ignore[arg-type]


ARTICLES = [article(r) for r in RAW]
EVENT = {r["id"]: r["event"] for r in RAW}


def partition(assigned: dict[str, str]) -> set[frozenset[str]]:
    """Docs grouped by their value: the stories of an assignment, or the events of a gold map."""
    groups: dict[str, set[str]] = {}
    for doc, story in assigned.items():
        groups.setdefault(story, set()).add(doc)
    return {frozenset(g) for g in groups.values()}


def test_articles_of_one_event_share_a_story_and_events_stay_apart() -> None:
    assert partition(StoryIndex().add_many(ARTICLES)) == partition(EVENT)


def test_story_id_is_its_first_article_and_never_changes() -> None:
    index = StoryIndex()
    ordered = sorted(ARTICLES, key=lambda a: (a.seen_at, a.id))
    seen: dict[str, str] = {}
    for a in ordered:
        story_id = index.add(a)
        seen[a.id] = story_id
        # every earlier article still reports the story it was given
        assert all(index.story_of(doc) == sid for doc, sid in seen.items())
    assert seen["a02"] == seen["a03"] == "a01"
    assert seen["c03"] == "c01"
    story = index.story("a01")
    assert story is not None
    assert story.article_ids == ["a01", "a02", "a03"]
    assert story.title == RAW[0]["title"]
    assert story.first_seen == ARTICLES[0].seen_at
    assert story.last_seen == datetime.fromisoformat("2026-03-04T09:15:00+00:00")
    assert story.source_count == 3


@pytest.mark.parametrize("seed", range(5))
def test_any_order_of_a_batch_gives_the_same_stories(seed: int) -> None:
    shuffled = ARTICLES[:]
    random.Random(seed).shuffle(shuffled)
    assert StoryIndex().add_many(shuffled) == StoryIndex().add_many(ARTICLES)


def test_an_article_fed_twice_keeps_its_story_and_creates_nothing() -> None:
    index = StoryIndex()
    first = index.add_many(ARTICLES)
    stories_before = len(index)
    again = article(RAW[1], seen_at=datetime(2026, 3, 5, tzinfo=UTC), title="A rewritten title entirely")
    assert index.add(again) == first["a02"]
    assert index.add_many(ARTICLES) == first
    assert len(index) == stories_before
    story = index.story(first["a02"])
    assert story is not None and story.article_ids.count("a02") == 1


def test_a_near_duplicate_joins_its_originals_story() -> None:
    index = StoryIndex()
    index.add_many(ARTICLES)
    copy = StoryArticle(
        "copy", "Totally different headline", "unrelated words", ARTICLES[3].seen_at, (), "x", "b01"
    )
    assert index.add(copy) == "b01"


def test_states_new_developing_quiet() -> None:
    index = StoryIndex()
    index.add_many(ARTICLES)
    day1 = datetime(2026, 3, 3, tzinfo=UTC)
    day2 = day1 + timedelta(days=1)
    day3 = day2 + timedelta(days=1)
    convoy, port, summit = index.story("a01"), index.story("b01"), index.story("c01")
    assert convoy is not None and port is not None and summit is not None
    assert state(convoy, day1, day2) == "new"
    assert state(convoy, day2, day3) == "developing"  # a03 arrived on day 2
    assert state(port, day2, day3) == "quiet"  # nothing new on day 2
    assert state(summit, day3, day3 + timedelta(days=1)) == "quiet"


def test_stories_close_after_the_window_and_memory_is_bounded() -> None:
    index = StoryIndex(window=timedelta(hours=72))
    index.add_many(ARTICLES)
    later = article(RAW[0], id="late", seen_at=datetime(2026, 3, 10, tzinfo=UTC))
    assert index.add(later) == "late"  # the convoy story closed: same words, new story
    assert [s.id for s in index.stories()] == ["late"]
    assert index.story_of("a01") is None
    assert index._n_docs == 1
    assert set(index._postings) <= set(index.story("late").centroid) | {  # type: ignore[union-attr]
        "e:" + e for e in RAW[0]["entities"]
    }


def test_cluster_cli_output_in_input_order_and_independent_of_it() -> None:
    docs = [
        {
            "id": r["id"],
            "title": r["title"],
            "text": r["text"],
            "published": r["seen_at"],
            "entities": r["entities"],
        }
        for r in RAW
    ]
    docs.append({"id": "wire", "title": "Convoy", "text": ORIGINAL, "published": "2026-03-03T08:30:00+00:00"})
    docs.append(
        {
            "id": "wire-copy",
            "title": "Other headline",
            "text": ORIGINAL[:1200],
            "published": "2026-03-03T09:00:00Z",
        }
    )
    out = list(cluster(docs))
    assert [o["id"] for o in out] == [d["id"] for d in docs]
    by_id = {o["id"]: o for o in out}
    assert by_id["wire-copy"]["duplicate_of"] == "wire"
    assert by_id["wire-copy"]["story_id"] == by_id["wire"]["story_id"]
    assert by_id["a02"]["story_id"] == "a01" and by_id["a01"]["duplicate_of"] is None
    shuffled = docs[:]
    random.Random(1).shuffle(shuffled)
    assert {o["id"]: o for o in cluster(shuffled)} == by_id
    json.dumps(out)  # JSON-able


def test_same_stories_in_a_process_with_another_hash_seed() -> None:
    """Sets of strings iterate in a per-process order; the clustering must not depend on it."""
    code = (
        "import json, sys; from monitor.dedupe.stories import cluster; "
        "docs = json.load(open(sys.argv[1], encoding='utf-8'))['articles']; "
        "docs = [dict(d, published=d['seen_at']) for d in docs]; "
        "sys.stdout.write(json.dumps(list(cluster(docs))))"
    )
    expected = list(cluster([dict(d, published=d["seen_at"]) for d in RAW]))
    for seed in ("1", "2", "3"):
        out = subprocess.run(
            [sys.executable, "-c", code, str(FIXTURES / "articles.json")],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        assert json.loads(out) == expected


def test_copies_follow_their_group_after_the_original_left_the_window() -> None:
    """A wire text republished every day keeps one story: once its original has left the window,
    the next copies join the story its latest copy joined, without any similarity work."""
    index = StoryIndex(window=timedelta(hours=72))
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    assert index.add(StoryArticle("orig", "Wire", ORIGINAL, t0)) == "orig"
    for day in range(1, 10):
        copy = StoryArticle(
            f"copy{day}", f"Headline {day}", "unrelated words", t0 + timedelta(days=day), (), None, "orig"
        )
        assert index.add(copy) == "orig"
    story = index.story("orig")
    assert story is not None
    assert story.article_count == 10
    # memory follows the window: only the articles of the last 72 h (inclusive) are kept by the story
    assert story.article_ids == ["copy6", "copy7", "copy8", "copy9"]
    assert index.story_of("orig") is None and index.story_of("copy9") == "orig"
    assert len(index._story_of) == 4 and len(index._group_story) == 1
    assert index._n_docs == 0  # copies never counted in the idf


def test_a_copy_after_its_group_went_quiet_starts_over() -> None:
    index = StoryIndex(window=timedelta(hours=72))
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    index.add(StoryArticle("orig", "Wire", ORIGINAL, t0))
    late = StoryArticle("copy", "Wire again", ORIGINAL, t0 + timedelta(days=5), (), None, "orig")
    assert index.add(late) == "copy"  # the story closed: the copy is compared like any article
    again = StoryArticle(
        "copy2", "Other", "unrelated words", t0 + timedelta(days=5, hours=1), (), None, "orig"
    )
    assert index.add(again) == "copy"  # and the next copies follow it
    assert index.story("orig") is None


def test_an_index_restored_from_stored_stories_assigns_the_next_articles_alike() -> None:
    # A new run puts back the window's stored assignments (no search) and goes on: the next articles
    # must get the stories the index that saw everything gave them, copies included.
    copy = article(RAW[0], id="copy", seen_at=ARTICLES[0].seen_at + timedelta(minutes=30), duplicate_of="a01")
    stream = sorted([*ARTICLES, copy], key=lambda a: (a.seen_at, a.id))
    whole = StoryIndex()
    stored = [whole.add(a) for a in stream]
    assert len(set(stored)) == len(set(EVENT.values()))
    for cut in range(1, len(stream)):
        restored = StoryIndex()
        for a, story in zip(stream[:cut], stored[:cut], strict=True):
            restored.restore(a, story)
        assert [restored.add(a) for a in stream[cut:]] == stored[cut:], cut


# -- stories across outlets ------------------------------------------------------------------------

CROSS = json.loads((FIXTURES / "cross_outlet.json").read_text(encoding="utf-8"))["articles"]
CROSS_ARTICLES = sorted((article(r) for r in CROSS), key=lambda a: (a.seen_at, a.id))
CROSS_EVENT = {r["id"]: r["event"] for r in CROSS}


def test_one_event_in_other_words_from_other_outlets_is_one_story() -> None:
    # an aircraft lost, the search, the wreckage, the flight recorder: four outlets, two days, their
    # own words; what carries across is the rare vocabulary (the airline, the sea, the flight code)
    index = StoryIndex()
    assigned = index.add_many(CROSS_ARTICLES)
    aircraft = {assigned[d] for d, event in CROSS_EVENT.items() if event == "aircraft"}
    assert len(aircraft) == 1
    story = index.story(aircraft.pop())
    assert story is not None and story.source_count == 4


def test_two_bombings_told_in_the_same_words_stay_apart_and_keep_their_follow_ups() -> None:
    assert partition(StoryIndex().add_many(CROSS_ARTICLES)) == partition(CROSS_EVENT)


def test_background_rarity_ranks_names_above_common_words() -> None:
    from monitor.dedupe.stories import background_rarity

    assert background_rarity("said") < background_rarity("airport") < background_rarity("spillway")
    assert background_rarity("xqzvwk") >= background_rarity("spillway")  # unknown: among the rarest


def test_codes_of_letters_and_digits_are_terms_counts_and_times_are_not() -> None:
    from monitor.dedupe.stories import terms

    bag = terms("Flight MR417 lost; G20 summit at 10am, 2017", "")
    assert {"mr417", "g20"} <= set(bag)
    assert not {"10am", "2017"} & set(bag)


def test_a_story_silent_for_long_needs_more_in_common() -> None:
    # the same follow-up joins a story silent for an hour and, with a short half-life, not one that
    # has been silent for most of the window
    first, follow = CROSS_ARTICLES[0], next(a for a in CROSS_ARTICLES if a.id == "p2")
    for gap, decay, joins in ((timedelta(hours=1), 6.0, True), (timedelta(hours=60), 6.0, False)):
        index = StoryIndex(decay_hours=decay)
        index.add(first)
        moved = article(next(r for r in CROSS if r["id"] == "p2"), seen_at=first.seen_at + gap)
        assert (index.add(moved) == first.id) is joins, gap
    undecayed = StoryIndex(decay_hours=None)
    undecayed.add(first)
    late = article(
        next(r for r in CROSS if r["id"] == follow.id), seen_at=first.seen_at + timedelta(hours=60)
    )
    assert undecayed.add(late) == first.id


def test_a_restored_index_answers_like_a_replay_across_outlets() -> None:
    whole = StoryIndex()
    stored = [whole.add(a) for a in CROSS_ARTICLES]
    for cut in range(1, len(CROSS_ARTICLES)):
        restored = StoryIndex()
        for a, story in zip(CROSS_ARTICLES[:cut], stored[:cut], strict=True):
            restored.restore(a, story)
        assert [restored.add(a) for a in CROSS_ARTICLES[cut:]] == stored[cut:], cut


# -- stories across languages ----------------------------------------------------------------------

LANGS = json.loads((FIXTURES / "cross_language.json").read_text(encoding="utf-8"))["articles"]


def _lang_article(raw: dict) -> StoryArticle:
    return article(raw, language=raw["language"], topics=raw["topics"])


def test_one_event_reported_in_english_and_russian_is_one_story_and_neighbours_stay_apart() -> None:
    # The bombing in Osh in two languages and a follow-up; an earthquake in the same city, a plot in
    # the same country by the same security service, and the same body (OSCE) at another event, each
    # in a story of their own.
    assigned = StoryIndex().add_many(_lang_article(r) for r in LANGS)
    assert partition(assigned) == partition({r["id"]: r["event"] for r in LANGS})


def test_without_languages_the_russian_report_is_compared_by_words_it_does_not_share() -> None:
    # What the languages add: the same articles with no language known are compared by their words,
    # which the two scripts do not share, and its entities alone fall short of the bar.
    assigned = StoryIndex().add_many(article(r, topics=r["topics"]) for r in LANGS)
    assert assigned["osh-ru"] != assigned["osh-en"]
