"""The daily digest as data: articles of one local day in, a `Digest` out.

Pure: no database, no network, no environment. The store hands over its `StoredArticle` records as
they are (it may over-fetch: anything outside the window is dropped here), and everything downstream
of this module (render, mail) only formats what it is given. Every ordering below ends in a unique
key (article id, topic id, entity id) so the same set of articles, in any order, gives the same
`Digest` and hence the same rendered bytes.

Articles without any topic are listed in a final "Other articles" list, by title only (with source,
time and link): an analyst still sees that they arrived and were judged not security-relevant, without
their extracts drowning the topical sections.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitor.digest.trends import Spike
from monitor.models import CountryCount, Entity, StoredArticle, TopicCount, TopicHit, WindowCounts

# The summary table is there to orient, not to inventory: past ~15 rows it stops being glanceable.
TOP_COUNTRIES = 15
ELLIPSIS = "…"


@dataclass(frozen=True)
class EntryTopic:
    """Why an article is in a section: the topic, its score, the article's matched words with counts."""

    topic_id: str
    label: str
    score: float  # rounded to 2 decimals
    evidence: tuple[tuple[str, int], ...]  # (word as written, count), most frequent first

    @property
    def evidence_text(self) -> str:
        """'heroin ×2, opium ×1'"""
        return ", ".join(f"{term} ×{count}" for term, count in self.evidence)


@dataclass(frozen=True)
class Person:
    name: str
    title: str | None


@dataclass(frozen=True)
class EntryEntities:
    """An article's entities grouped by type, most mentioned first."""

    countries: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.countries or self.places or self.organisations or self.people)


@dataclass(frozen=True)
class DigestEntry:
    article_id: int
    title: str
    source: str
    time: str  # first_seen as local "HH:MM" in the digest's timezone
    url: str | None
    extract: str
    topics: tuple[EntryTopic, ...]  # all the article's topics, highest score first
    entities: EntryEntities
    story: str | None = None  # "new story: 4 articles from 3 sources" (None for a lone article)


@dataclass(frozen=True)
class DigestSection:
    topic_id: str
    label: str
    entries: tuple[DigestEntry, ...]  # at most max_per_topic, best first
    total: int  # articles with this topic in the window, before the cut

    @property
    def more(self) -> int:
        """Articles left out of this section by `max_per_topic`."""
        return self.total - len(self.entries)


@dataclass(frozen=True)
class OtherArticle:
    """An article of the window that no topic matched: listed by title only."""

    article_id: int
    title: str
    source: str
    time: str
    url: str | None


@dataclass(frozen=True)
class Digest:
    date: dt.date
    timezone: str
    window_start: dt.datetime  # aware, local midnight of `date` in `timezone`
    window_end: dt.datetime  # aware, local midnight of the next day (23 h or 25 h away on DST days)
    total_articles: int
    by_topic: tuple[TopicCount, ...]  # taxonomy order, zeros omitted
    by_country: tuple[CountryCount, ...]  # count desc, then name; top 15
    sections: tuple[DigestSection, ...]  # taxonomy order, empty topics omitted
    other: tuple[OtherArticle, ...]  # articles without topic, newest first
    spikes: tuple[Spike, ...] = ()  # topics and countries far above their baseline, shown first
    other_total: int | None = None  # untagged articles in the window; `other` may list fewer

    @property
    def other_count(self) -> int:
        return len(self.other) if self.other_total is None else self.other_total

    @property
    def empty(self) -> bool:
        return self.total_articles == 0


def digest_window(date: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """The local day `date` in `tz` as a half-open interval [start, end) of aware datetimes.

    Built from two local midnights rather than start + 24 h, so a DST day is 23 or 25 hours long.
    The store can use it for its query; comparisons with UTC datetimes are exact.
    """
    zone = ZoneInfo(tz)  # raises ZoneInfoNotFoundError for an unknown name: a per-run problem
    start = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def build_digest(
    articles: Sequence[StoredArticle],
    *,
    date: dt.date,
    tz: str,
    taxonomy_labels: Mapping[str, str],
    max_per_topic: int = 20,
    extract_chars: int = 300,
    spikes: Sequence[Spike] = (),
    counts: WindowCounts | None = None,
) -> Digest:
    """Group the window's articles by topic, rank them, count topics and countries.

    `taxonomy_labels` maps topic id to label in taxonomy order; topics found on articles but missing
    from it (a taxonomy edited since classification) still get a section, after the known ones.
    """
    if max_per_topic < 1:
        raise ValueError(f"max_per_topic must be at least 1, got {max_per_topic}")
    start, end = digest_window(date, tz)
    zone = start.tzinfo
    assert zone is not None
    window = _in_window(articles, start, end)

    labels = _topic_labels(window, taxonomy_labels)
    order = {topic_id: i for i, topic_id in enumerate(labels)}

    entries: dict[int, DigestEntry] = {
        a.id: _entry(a, labels, order, zone, extract_chars, start) for a in window if a.topics
    }
    sections = []
    by_topic = []
    for topic_id, label in labels.items():
        members = [(a, score) for a in window if (score := _score(a, topic_id)) is not None]
        if not members:
            continue
        # Score desc, then newest first, then id: the id makes the order total.
        members.sort(key=lambda m: (-m[1], -m[0].first_seen.timestamp(), m[0].id))
        members = _one_per_story(members)
        total = counts.by_topic.get(topic_id, len(members)) if counts else len(members)
        by_topic.append(TopicCount(topic_id, label, total))
        sections.append(
            DigestSection(
                topic_id=topic_id,
                label=label,
                entries=tuple(entries[a.id] for a, _ in members[:max_per_topic]),
                total=total,
            )
        )

    untagged = sorted((a for a in window if not a.topics), key=lambda a: (-a.first_seen.timestamp(), a.id))
    other = tuple(
        OtherArticle(a.id, _one_line(a.title), _one_line(a.source), _local_time(a.first_seen, zone), a.url)
        for a in untagged
    )
    return Digest(
        date=date,
        timezone=tz,
        window_start=start,
        window_end=end,
        total_articles=counts.total if counts else len(window),
        by_topic=tuple(by_topic),
        by_country=tuple(counts.by_country[:TOP_COUNTRIES]) if counts else _country_counts(window),
        sections=tuple(sections),
        other=other,
        spikes=tuple(spikes),
        other_total=counts.untagged if counts else None,
    )


def make_extract(text: str, limit: int = 300, *, title: str | None = None) -> str:
    """The first sentences of `text` that fit in `limit` characters.

    Whole sentences when at least one fits; otherwise the first sentence cut at a word boundary with
    an ellipsis. The result is never longer than `limit`. A leading copy of the title (inbox files
    and some extractors put it there) is skipped so the extract does not repeat the headline.
    """
    flat = _one_line(text)
    if title:
        head = _one_line(title)
        if head and flat.startswith(head) and (len(flat) == len(head) or flat[len(head)].isspace()):
            flat = flat[len(head) :].lstrip()
    if len(flat) <= limit:
        return flat
    kept = ""
    for sentence in _SENTENCE_END.split(flat):
        candidate = f"{kept} {sentence}" if kept else sentence
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = flat[: limit - len(ELLIPSIS) + 1]  # one extra char: tells whether the cut falls between words
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else cut[:-1]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


# A sentence ends at . ! ? or … optionally followed by a closing quote or bracket, then whitespace.
# Abbreviations ("Gen. Smith") split too early; that only makes the extract shorter, never wrong.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]?\s+")
_WHITESPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    """Collapse all whitespace (newlines in titles would break the text layout and the subject)."""
    return _WHITESPACE.sub(" ", text).strip()


def _in_window(
    articles: Iterable[StoredArticle], start: dt.datetime, end: dt.datetime
) -> list[StoredArticle]:
    seen: dict[int, StoredArticle] = {}
    for a in articles:
        if a.first_seen.tzinfo is None or a.first_seen.utcoffset() is None:
            raise ValueError(f"article {a.id}: first_seen must be timezone-aware, got {a.first_seen!r}")
        if a.id in seen and seen[a.id] != a:
            # Which record wins would depend on input order; refuse rather than be non-deterministic.
            raise ValueError(f"article {a.id} given twice with different content")
        seen[a.id] = a
    return sorted((a for a in seen.values() if start <= a.first_seen < end), key=lambda a: a.id)


def _topic_labels(window: Sequence[StoredArticle], taxonomy_labels: Mapping[str, str]) -> dict[str, str]:
    """Taxonomy topics in taxonomy order, then unknown topic ids (sorted) with their own label."""
    labels = dict(taxonomy_labels)
    unknown: dict[str, str] = {}
    for a in window:
        for hit in a.topics:
            if hit.topic_id not in labels:
                # min() so that the label does not depend on which article came first.
                label = hit.label or hit.topic_id
                unknown[hit.topic_id] = min(unknown.get(hit.topic_id, label), label)
    labels.update(sorted(unknown.items()))
    return labels


def _score(article: StoredArticle, topic_id: str) -> float | None:
    scores = [hit.score for hit in article.topics if hit.topic_id == topic_id]
    return max(scores) if scores else None


def _local_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _entry(
    article: StoredArticle,
    labels: Mapping[str, str],
    order: Mapping[str, int],
    zone: dt.tzinfo,
    extract_chars: int,
    window_start: dt.datetime,
) -> DigestEntry:
    best: dict[str, TopicHit] = {}
    for hit in article.topics:
        if hit.topic_id not in best or hit.score > best[hit.topic_id].score:
            best[hit.topic_id] = hit
    hits = sorted(best.values(), key=lambda h: (-h.score, order[h.topic_id]))
    return DigestEntry(
        article_id=article.id,
        title=_one_line(article.title),
        source=_one_line(article.source),
        time=_local_time(article.first_seen, zone),
        url=article.url,
        extract=make_extract(article.text, extract_chars, title=article.title),
        topics=tuple(_entry_topic(h, labels[h.topic_id]) for h in hits),
        entities=_group_entities(article.entities),
        story=_story_line(article, window_start),
    )


def _one_per_story(members: list[tuple[StoredArticle, float]]) -> list[tuple[StoredArticle, float]]:
    """Each story once per section, by its best-ranked article (members are already ranked)."""
    seen: set[int] = set()
    kept = []
    for article, score in members:
        story = article.story_id if article.story_id is not None else -article.id
        if story not in seen:
            seen.add(story)
            kept.append((article, score))
    return kept


def _story_line(article: StoredArticle, window_start: dt.datetime) -> str | None:
    """The story badge: new (first seen in this window) or developing, and how widely it is carried."""
    if article.story_articles <= 1:
        return None
    state = "developing" if article.story_first_seen and article.story_first_seen < window_start else "new"
    n, sources = article.story_articles, article.story_sources
    return f"{state} story: {n} articles from {sources} source{'' if sources == 1 else 's'}"


def _entry_topic(hit: TopicHit, label: str) -> EntryTopic:
    # The words as the article wrote them ("heroin ×2, opium ×1"), not the taxonomy's term that
    # they matched ("cocaine"); one word reached by several terms is summed (case ignored). An old
    # row stored without forms shows its term.
    counts: dict[str, list] = {}
    for ev in hit.evidence:
        if ev.count <= 0:  # a term that did not fire explains nothing
            continue
        for word, n in ev.shown:
            entry = counts.setdefault(word.lower(), [word, 0])
            entry[1] += n
    evidence = tuple(sorted(((w, n) for w, n in counts.values()), key=lambda wn: (-wn[1], wn[0])))
    return EntryTopic(hit.topic_id, label, round(hit.score, 2), evidence)


def _merge_entities(entities: Iterable[Entity]) -> list[Entity]:
    """One entity per id (mention counts summed), most mentioned first, then by name and id."""
    merged: dict[tuple[str, str], Entity] = {}
    for e in entities:
        key = (e.type, e.id)
        if key in merged:
            old = merged[key]
            # Keep a title if either record has one; prefer the longer (more specific) one.
            title = max((t for t in (old.title, e.title) if t), key=lambda t: (len(t), t), default=None)
            merged[key] = Entity(e.type, min(old.name, e.name), e.id, old.count + e.count, title=title)
        else:
            merged[key] = e
    return sorted(merged.values(), key=lambda e: (-e.count, e.name, e.id))


def _group_entities(entities: Iterable[Entity]) -> EntryEntities:
    merged = _merge_entities(entities)
    return EntryEntities(
        countries=tuple(e.name for e in merged if e.type == "country"),
        places=tuple(e.name for e in merged if e.type == "place"),
        organisations=tuple(e.name for e in merged if e.type == "organisation"),
        people=tuple(
            Person(e.name, _one_line(e.title) if e.title else None) for e in merged if e.type == "person"
        ),
    )


def _country_counts(window: Sequence[StoredArticle]) -> tuple[CountryCount, ...]:
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for a in window:
        for country_id in {e.id for e in a.entities if e.type == "country"}:
            counts[country_id] = counts.get(country_id, 0) + 1
        for e in a.entities:
            if e.type == "country":
                names[e.id] = min(names.get(e.id, e.name), e.name)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], names[kv[0]], kv[0]))
    return tuple(CountryCount(cid, names[cid], n) for cid, n in rows[:TOP_COUNTRIES])
