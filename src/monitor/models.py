"""Plain data passed between the pipeline stages.

Pure stages take bytes or text and return these; only `store/` turns them into rows, and what it reads
back comes out as these too (`StoredArticle`, `WindowCounts`), so the digest and the export take the
store's records as they are. Every class is frozen so a stage cannot change what another stage handed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# What the raw text of an item is, so that processing knows how to get the body from it: strip markup
# of a fragment ("html"), take it as it is ("text"), parse the plain-text report format of inbox files
# ("seed": title line, paragraphs, trailing source line), or find the main text of a whole web page
# ("page": boilerplate, navigation and comments left out). Raw input is always kept verbatim.
RawFormat = Literal["html", "text", "seed", "page"]


@dataclass(frozen=True)
class FeedItem:
    """One article as it arrived: a feed entry, an inbox file or one JSON line.

    `raw` is kept verbatim in the database; `raw_format` says how to clean it.
    """

    title: str
    raw: str
    raw_format: RawFormat = "text"
    url: str | None = None
    guid: str | None = None
    published: datetime | None = None  # timezone-aware (UTC) when known
    author: str | None = None
    source_name: str | None = None  # outlet named by the item itself ("World media monitoring")
    language: str | None = None  # declared by the input, if any; processing detects its own
    summary: str | None = None  # the feed's summary when `raw` is the fetched article page
    # The clean text of `raw` when ingestion already computed it (a page's main text, which ingestion
    # needs to accept the page): processing uses it instead of extracting the page again.
    text: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document yielded. `problem` is set when the feed was malformed but still usable."""

    title: str | None
    link: str | None
    items: list[FeedItem]
    problem: str | None = None


@dataclass(frozen=True)
class ParsedFile:
    """What an inbox file yielded: its items and the problems met on the way (e.g. bad JSON lines).

    A file that yields no item at all raises `InputError` instead.
    """

    items: list[FeedItem]
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExtractedPage:
    """Main content of a web page (`monitor extract`)."""

    title: str | None
    text: str
    published: datetime | None = None
    language: str | None = None


# Where a match is: the zone ("title": the normalised title, "text": the clean text) and the
# character offsets [start, end) in it, so that zone_text[start:end] is the match as written.
Span = tuple[str, int, int]


@dataclass(frozen=True)
class Evidence:
    """One taxonomy term that fired: the term as written in the taxonomy, how often, its weight,
    and what the article actually said: `forms` are the words as written with their counts
    (("heroin", 2), ("opium", 1)) for a term whose variants matched, and `spans` where each
    occurrence is. Rows stored before forms existed read back with both empty: show `term`."""

    term: str
    count: int
    weight: float
    forms: tuple[tuple[str, int], ...] = ()
    spans: tuple[Span, ...] = ()

    @property
    def shown(self) -> tuple[tuple[str, int], ...]:
        """The words to show an analyst: the forms, or (term, count) for an old row without them."""
        return self.forms or ((self.term, self.count),)

    @property
    def differs(self) -> bool:
        """True when no word as written is the taxonomy term itself (ignoring case): "Islamic State"
        for ISIS. Then the term is worth showing beside the words."""
        return all(form.lower() != self.term.lower() for form, _ in self.shown)

    def to_json(self) -> dict[str, Any]:
        """How evidence is stored (`article_topics.evidence`, jsonb) and printed (`monitor classify`,
        `monitor export`): term, count, weight, the words as written (`forms`: [[word, count]]) and
        where they are (`spans`: [[zone, start, end]]). New keys only: no migration needed."""
        return {
            "term": self.term,
            "count": self.count,
            "weight": self.weight,
            "forms": [list(f) for f in self.forms],
            "spans": [list(s) for s in self.spans],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Evidence:
        """Evidence as stored. A row written before forms and spans existed reads back with both
        empty (pages then show the term); a malformed form or span is skipped, never fatal: it only
        explains a tag, and the tag itself must still show."""
        forms = tuple(
            (f[0], f[1])
            for f in d.get("forms") or ()
            if isinstance(f, list) and len(f) == 2 and isinstance(f[0], str) and _is_int(f[1])
        )
        spans = tuple(
            (s[0], s[1], s[2])
            for s in d.get("spans") or ()
            if isinstance(s, list)
            and len(s) == 3
            and s[0] in ("title", "text")
            and _is_int(s[1])
            and _is_int(s[2])
        )
        return cls(term=d["term"], count=int(d["count"]), weight=float(d["weight"]), forms=forms, spans=spans)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True)
class TopicHit:
    """A topic the article was tagged with, and why (its evidence terms and the resulting score)."""

    topic_id: str
    label: str
    score: float
    evidence: list[Evidence]


@dataclass(frozen=True)
class Entity:
    """A country, place, organisation or person found in an article.

    `id` is canonical so the digest can aggregate on it: ISO 3166 alpha-2 for countries ("KZ"),
    "geonames:<id>" for places, "org:<slug>" for organisations, "person:<slug>" for people.
    """

    type: Literal["country", "place", "organisation", "person"]
    name: str  # canonical display name ("Kazakhstan", "Nurtai Abykayev")
    id: str
    count: int = 1  # mentions in the article
    mentions: tuple[str, ...] = ()  # surface forms seen ("Kazakh", "Kazakhstan")
    title: str | None = None  # for people: the title or role next to the name ("Chairman ...")
    country: str | None = None  # for places: ISO code of their country


@dataclass(frozen=True)
class ProcessedArticle:
    """Result of the pure processing stage for one article."""

    clean_text: str
    language: str | None
    content_hash: str
    topics: list[TopicHit]
    entities: list[Entity]
    signature: bytes = b""  # MinHash of the clean text, for near-duplicate detection across sources
    display_html: str | None = None  # the source's HTML made safe (nh3), for reading in the UI


@dataclass(frozen=True)
class StoredArticle:
    """A processed article as the store reads it back, with its topics, entities and story: what the
    digest is built from (it may be handed more than its window: the rest is dropped there), what the
    export writes and what the article page shows."""

    id: int
    title: str
    source: str  # outlet / feed name / inbox file
    url: str | None
    first_seen: datetime  # aware, UTC (the digest window is on first_seen)
    published: datetime | None
    text: str  # clean text (the digest makes the extract)
    language: str | None
    topics: list[TopicHit]
    entities: list[Entity]
    taxonomy_version: str | None = None
    duplicates: int = 0  # further copies (sightings and duplicate rows) of the same article
    # The story the article belongs to (None: not clustered yet, the article is its own story).
    story_id: int | None = None
    story_articles: int = 1  # articles in its story, syndicated copies included
    story_sources: int = 1  # distinct outlets carrying the story
    story_first_seen: datetime | None = None


@dataclass(frozen=True)
class TopicCount:
    topic_id: str
    label: str
    count: int


@dataclass(frozen=True)
class CountryCount:
    id: str  # ISO 3166 alpha-2, as in `Entity.id`
    name: str
    count: int  # articles mentioning the country, not mentions


@dataclass(frozen=True)
class WindowCounts:
    """Counts over a whole digest window, computed by the store, for when the digest is handed only a
    selection of its articles (the top articles of each topic and the newest untagged ones) rather
    than all of a busy day."""

    total: int
    by_topic: Mapping[str, int]  # topic id -> articles
    by_country: Sequence[CountryCount]  # sorted by count desc, then name
    untagged: int
    # language (ISO 639-1, None when not detected) -> articles: the digest names the languages it
    # could not read (see Digest.uncovered)
    by_language: Mapping[str | None, int] = field(default_factory=dict)
