"""The daily digest as data: articles of one local day in, a `Digest` out.

Pure: no database, no network, no environment. The store hands over its `StoredArticle` records as
they are (it may over-fetch: anything outside the window is dropped here), and everything downstream
of this module (render, mail) only formats what it is given. Every ordering below ends in a unique
key (article id, topic id, entity id) so the same set of articles, in any order, gives the same
`Digest` and hence the same rendered bytes.

The digest is organised by story, as an analyst reads a morning brief: the tagged articles are grouped
into their stories, and each story is shown once (ranked by size, distinct sources, novelty and topic
weight) with its topics, countries, outlets and articles; the topic index then refers back to the
stories by number instead of repeating them. A secondary tag counts only above a calibrated fraction of
the article's primary score (settings.digest_secondary_ratio), so incidental terms do not put an article
under a topic it is not about. Articles without any (shown) topic are listed in a final "Other
articles" list, by title only (with source, time and link).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import pycountry  # ISO 639 language names ship in the package

from monitor.digest.trends import Spike
from monitor.models import CountryCount, Entity, StoredArticle, TopicHit, WindowCounts

# The summary table is there to orient, not to inventory: past ~15 rows it stops being glanceable.
TOP_COUNTRIES = 15
# A story names its most mentioned countries and its most frequent evidence terms per topic: enough
# to see what it is about in one line each; the article page has them all.
STORY_COUNTRIES = 5
# Who a story is about, beside where: the few most mentioned organisations and people (with their
# titles) of its articles; more would turn a brief's line into an index.
STORY_ORGANISATIONS = 4
STORY_PEOPLE = 3
# The lead's first sentences, under its title: what happened, in the outlet's words (two lines of
# the text part; the title is often a headline pun or a label).
STORY_EXTRACT_CHARS = 140
EVIDENCE_TERMS = 3
# The language the digest is written in (its headings and topic labels); titles in others say theirs.
DIGEST_LANGUAGE = "en"
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
class StoryArticle:
    """One article of a story, compact: title, outlet, local time, link."""

    article_id: int
    title: str
    source: str
    time: str  # first_seen as local "HH:MM" in the digest's timezone
    url: str | None


@dataclass(frozen=True)
class DigestStory:
    """A story of the day, shown once: its lead article, topics, countries, outlets, articles."""

    number: int  # 1-based rank in the digest ("#3"); the topic index refers to it
    title: str  # the lead article's title
    state: str | None  # "new" / "developing" (None: a lone article)
    size: int  # articles in the story, syndicated copies included
    source_count: int  # distinct outlets carrying the story
    outlets: tuple[str, ...]  # outlets of its articles in this window, sorted
    topics: tuple[EntryTopic, ...]  # primary first, then secondaries above the threshold
    countries: tuple[str, ...]  # most mentioned first, at most STORY_COUNTRIES
    articles: tuple[StoryArticle, ...]  # its articles in this window, oldest first (capped)
    more_articles: int = 0  # articles of the window left out of `articles`
    more_countries: int = 0  # countries left out of `countries`
    extract: str = ""  # the lead's first sentences (at most STORY_EXTRACT_CHARS), title not repeated
    organisations: tuple[str, ...] = ()  # most mentioned first, at most STORY_ORGANISATIONS
    people: tuple[Person, ...] = ()  # most mentioned first, with titles, at most STORY_PEOPLE

    @property
    def lead(self) -> StoryArticle:
        return self.articles[0]


@dataclass(frozen=True)
class TopicIndex:
    """A topic's line in the index: counts, the numbers of its top stories, a few further stories."""

    topic_id: str
    label: str
    story_count: int  # of the articles the digest was given (a lower bound when `partial`)
    article_count: int  # articles with this topic shown (when `partial`: every tagged one, counted in full)
    numbers: tuple[int, ...]  # its stories among the top stories, by rank
    listed: tuple[DigestStory, ...]  # further stories of the topic (not among the top), by rank
    more: int  # its stories neither among the top ones nor listed
    partial: bool = False  # the store handed over only the best of this topic's articles (a busy day)


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
    by_topic: tuple[TopicIndex, ...]  # taxonomy order, zeros omitted
    by_country: tuple[CountryCount, ...]  # articles, count desc, then name; top 15
    stories: tuple[DigestStory, ...]  # the top stories, best first (at most max_stories)
    story_total: int  # stories of the window with a topic (before the cut)
    other: tuple[OtherArticle, ...]  # articles without topic, newest first
    spikes: tuple[Spike, ...] = ()  # topics and countries far above their baseline, shown first
    other_total: int | None = None  # untagged articles in the window; `other` may list fewer
    tagged_articles: int = 0  # articles of the window with a (shown) topic
    # Set when the day is not over: the digest shows the day until then (a preview, never "sent").
    preview_until: dt.datetime | None = None
    # Articles in languages the taxonomy has no terms for: stored and searchable, but not read for
    # topics; (language name, articles), most first. Counted so that silence is never mistaken for
    # "no security news" in, say, the Kazakh press.
    uncovered: tuple[tuple[str, int], ...] = ()

    @property
    def uncovered_count(self) -> int:
        return sum(n for _, n in self.uncovered)

    @property
    def other_count(self) -> int:
        return len(self.other) if self.other_total is None else self.other_total

    @property
    def empty(self) -> bool:
        return self.total_articles == 0

    @property
    def more_stories(self) -> int:
        return self.story_total - len(self.stories)


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
    max_per_topic: int = 5,
    max_stories: int = 15,
    story_articles: int = 5,
    secondary_ratio: float = 0.40,
    secondary_min_score: float = 4.0,
    spikes: Sequence[Spike] = (),
    counts: WindowCounts | None = None,
    preview_until: dt.datetime | None = None,
    covered_languages: Collection[str] | None = None,
) -> Digest:
    """Group the window's tagged articles into stories, rank them, index them by topic.

    Each story is shown once, as a top story (at most `max_stories`); each topic then lists the
    numbers of its top stories and at most `max_per_topic` further ones. An article's secondary tag
    counts only if its score is at least `secondary_ratio` × its primary score and at least
    `secondary_min_score` (weak incidental tags would otherwise put it under topics it is not about).
    `taxonomy_labels` maps topic id to label in taxonomy order; topics found on articles but missing
    from it (a taxonomy edited since classification) still get an index line, after the known ones.
    `covered_languages` are the languages the classifier reads (None: do not count the others).
    """
    if max_per_topic < 0:
        raise ValueError(f"max_per_topic must be at least 0, got {max_per_topic}")
    if max_stories < 1:
        raise ValueError(f"max_stories must be at least 1, got {max_stories}")
    start, end = digest_window(date, tz)
    zone = start.tzinfo
    assert zone is not None
    window = _in_window(articles, start, end)

    labels = _topic_labels(window, taxonomy_labels)
    order = {topic_id: i for i, topic_id in enumerate(labels)}

    # The tags each article shows: its primary, then secondaries strong enough to mean something.
    shown: dict[int, list[TopicHit]] = {}
    for a in window:
        hits = _shown_hits(a, order, secondary_ratio, secondary_min_score)
        if hits:
            shown[a.id] = hits
    groups: dict[int, list[StoredArticle]] = {}
    for a in window:
        if a.id in shown:
            groups.setdefault(_story_key(a), []).append(a)
    ranked = sorted(groups.values(), key=lambda g: _story_rank(g, shown, start))
    stories = [
        _story(i, group, shown, labels, order, zone, start, story_articles)
        for i, group in enumerate(ranked, 1)
    ]
    top = stories[:max_stories]

    by_topic = []
    for topic_id, label in labels.items():
        members = [s for s, g in zip(stories, ranked, strict=True) if _has_topic(g, shown, topic_id)]
        if not members:
            continue
        n_articles = sum(1 for hits in shown.values() if any(h.topic_id == topic_id for h in hits))
        given = sum(1 for a in window if any(h.topic_id == topic_id for h in a.topics))
        # The store lists only the best articles of a busy topic but counts them all: when it gave
        # fewer than it counted, the full count is shown (with every tag, the threshold cannot be
        # applied to articles not read) and the story count is marked as a lower bound.
        partial = counts is not None and counts.by_topic.get(topic_id, 0) > given
        if partial:
            assert counts is not None
            n_articles = counts.by_topic[topic_id]
        rest = [s for s in members if s.number > max_stories]
        by_topic.append(
            TopicIndex(
                topic_id=topic_id,
                label=label,
                story_count=len(members),
                article_count=n_articles,
                numbers=tuple(s.number for s in members if s.number <= max_stories),
                listed=tuple(rest[:max_per_topic]),
                more=max(0, len(rest) - max_per_topic),
                partial=partial,
            )
        )

    untagged = sorted(
        (a for a in window if a.id not in shown), key=lambda a: (-a.first_seen.timestamp(), a.id)
    )
    other = tuple(
        OtherArticle(a.id, _shown_title(a), _one_line(a.source), _local_time(a.first_seen, zone), a.url)
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
        stories=tuple(top),
        story_total=len(stories),
        other=other,
        spikes=tuple(spikes),
        other_total=counts.untagged if counts else None,
        tagged_articles=len(shown),
        preview_until=preview_until.astimezone(zone) if preview_until else None,
        uncovered=_uncovered(window, counts, covered_languages),
    )


def _uncovered(
    window: Sequence[StoredArticle], counts: WindowCounts | None, covered: Collection[str] | None
) -> tuple[tuple[str, int], ...]:
    """(language name, articles) of the window's languages outside `covered`, most first. An article
    whose language was not detected is not counted: it was read with the default language's terms."""
    if covered is None:
        return ()
    by_language: dict[str | None, int] = {}
    if counts is not None and counts.by_language:
        by_language = dict(counts.by_language)
    else:
        for a in window:
            by_language[a.language] = by_language.get(a.language, 0) + 1
    primary = {c.lower() for c in covered}
    named: dict[str, int] = {}
    for code, n in by_language.items():
        if code and primary_language(code) not in primary:
            name = language_name(code)
            named[name] = named.get(name, 0) + n
    return tuple(sorted(named.items(), key=lambda item: (-item[1], item[0])))


def primary_language(code: str) -> str:
    """'pt-BR' and 'pt_br' -> 'pt': the classifier reads by primary language."""
    return code.strip().lower().replace("_", "-").split("-")[0]


def language_name(code: str) -> str:
    """'kk' -> 'Kazakh'; a code ISO 639 does not know is shown as it is."""
    primary = primary_language(code)
    found = pycountry.languages.get(alpha_2=primary) if len(primary) == 2 else None
    found = found or pycountry.languages.get(alpha_3=primary)
    return str(found.name) if found is not None else code


def _shown_hits(
    article: StoredArticle, order: Mapping[str, int], ratio: float, min_score: float
) -> list[TopicHit]:
    best: dict[str, TopicHit] = {}
    for hit in article.topics:
        if hit.topic_id not in best or hit.score > best[hit.topic_id].score:
            best[hit.topic_id] = hit
    hits = sorted(best.values(), key=lambda h: (-h.score, order[h.topic_id], h.topic_id))
    if not hits:
        return []
    floor = max(hits[0].score * ratio, min_score)
    return [hits[0], *(h for h in hits[1:] if h.score >= floor)]


def _story_key(article: StoredArticle) -> int:
    # A lone (unclustered) article is its own story; negative ids never collide with story ids.
    return article.story_id if article.story_id is not None else -article.id


def _short_evidence(topic: EntryTopic) -> EntryTopic:
    return replace(topic, evidence=topic.evidence[:EVIDENCE_TERMS])


def _is_new(group: Sequence[StoredArticle], window_start: dt.datetime) -> bool:
    first = group[0].story_first_seen
    return not (first and first < window_start)


def _story_rank(
    group: Sequence[StoredArticle], shown: Mapping[int, list[TopicHit]], window_start: dt.datetime
) -> tuple[float, ...]:
    """Size (articles), distinct sources, new before developing, best topic score; then the story key."""
    size = max(max(a.story_articles for a in group), len(group))
    sources = max(max(a.story_sources for a in group), len({_one_line(a.source) for a in group}))
    weight = max(shown[a.id][0].score for a in group)
    return (-size, -sources, 0 if _is_new(group, window_start) else 1, -weight, _story_key(group[0]))


def _has_topic(group: Sequence[StoredArticle], shown: Mapping[int, list[TopicHit]], topic_id: str) -> bool:
    return any(h.topic_id == topic_id for a in group for h in shown[a.id])


def _story(
    number: int,
    group: Sequence[StoredArticle],
    shown: Mapping[int, list[TopicHit]],
    labels: Mapping[str, str],
    order: Mapping[str, int],
    zone: dt.tzinfo,
    window_start: dt.datetime,
    max_articles: int,
) -> DigestStory:
    # The lead: the article with the strongest primary tag (ties: earliest, then lowest id).
    lead = min(group, key=lambda a: (-shown[a.id][0].score, a.first_seen.timestamp(), a.id))
    best: dict[str, TopicHit] = {}
    for a in group:
        for h in shown[a.id]:
            if h.topic_id not in best or h.score > best[h.topic_id].score:
                best[h.topic_id] = h
    hits = sorted(best.values(), key=lambda h: (-h.score, order[h.topic_id], h.topic_id))
    members = sorted(group, key=lambda a: (a is not lead, a.first_seen.timestamp(), a.id))
    size = max(max(a.story_articles for a in group), len(group))
    outlets = tuple(sorted({_one_line(a.source) for a in group}))
    entities = _group_entities(e for a in group for e in a.entities)
    countries = entities.countries
    return DigestStory(
        number=number,
        title=_shown_title(lead),
        state=None if size <= 1 else ("new" if _is_new(group, window_start) else "developing"),
        size=size,
        source_count=max(max(a.story_sources for a in group), len(outlets)),
        outlets=outlets,
        topics=tuple(_short_evidence(_entry_topic(h, labels[h.topic_id])) for h in hits),
        countries=countries[:STORY_COUNTRIES],
        more_countries=max(0, len(countries) - STORY_COUNTRIES),
        extract=make_extract(lead.text, STORY_EXTRACT_CHARS, title=lead.title),
        organisations=entities.organisations[:STORY_ORGANISATIONS],
        people=tuple(Person(p.name, _short_title(p.title)) for p in entities.people[:STORY_PEOPLE]),
        articles=tuple(
            StoryArticle(a.id, _shown_title(a), _one_line(a.source), _local_time(a.first_seen, zone), a.url)
            for a in members[:max_articles]
        ),
        more_articles=max(0, len(members) - max_articles),
    )


# A person's title in a story's line stops before the body it belongs to, which the story's
# organisations usually name: "Director General of the Klaipeda State Seaport Authority" -> "Director
# General". The article page keeps the whole title.
_TITLE_BODY = re.compile(r"\s(?:at\s(?:the\s)?|(?:of|for)\sthe\s)(?=\S)")
_SHORT_TITLE_CHARS = 30


def _short_title(title: str | None) -> str | None:
    if not title or len(title) <= _SHORT_TITLE_CHARS:
        return title
    match = _TITLE_BODY.search(title)
    return title[: match.start()] if match and match.start() >= 3 else title


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


def _shown_title(article: StoredArticle) -> str:
    """The title as the outlet wrote it, with its language when that is not the digest's:
    'Теракт в центре Оша [Russian]' (its topics are shown in the digest's language)."""
    title = _one_line(article.title)
    if article.language and primary_language(article.language) != DIGEST_LANGUAGE:
        return f"{title} [{language_name(article.language)}]"
    return title


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


def _local_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


_FORM_JOINERS = re.compile(r"[\s\-‐‑–]+")


def _form_key(word: str) -> str:
    return _FORM_JOINERS.sub(" ", word.casefold()).strip()


def _entry_topic(hit: TopicHit, label: str) -> EntryTopic:
    # The words as the article wrote them ("heroin ×2, opium ×1"), not the taxonomy's term that
    # they matched ("cocaine"); one word reached by several terms is summed, and forms that differ
    # only in case, hyphens or spacing are one ("Counter-Terrorism ×2, counter terrorism ×1" would
    # spend two of the three evidence places on one word). An old row stored without forms shows
    # its term.
    counts: dict[str, list] = {}
    for ev in hit.evidence:
        if ev.count <= 0:  # a term that did not fire explains nothing
            continue
        for word, n in ev.shown:
            entry = counts.setdefault(_form_key(word), [word, 0])
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
