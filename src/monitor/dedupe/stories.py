"""Incremental story clustering: articles about one event, across sources, grouped as a story. Pure.

Each article is compared with the centroid of every live story it shares a discriminative term or an
entity with; it joins the most similar story when the similarity reaches `threshold`, else it starts a
new story whose id is the article's id.

Similarity (weights and threshold measured in docs/dedupe.md):

    sim = (W_TEXT * cosine(tf-idf(article), tf-idf(story centroid)) + W_ENTITIES * entity overlap)
          * 0.5 ** (hours the story has been silent / DECAY_HOURS)

- terms: the title (counted twice: headlines name the event) and the lead (first `LEAD_WORDS`
  words of the text), case-folded, letters only, 3+ characters, a bundled English stop list removed,
  a final plural "s" stripped. The centroid is the sum of the term counts of the story's articles,
  cut to its `CENTROID_TERMS` heaviest terms so a long story stays small.
- weight: count x idf x background rarity ** RARITY_EXPONENT. idf: log((1 + N) / (1 + df)) + 1, with N
  and df counted over the articles of the window (added when an article arrives, removed when it
  leaves); rarity: -log10 of the term's frequency in English (wordfreq) minus 3, what carries a story
  across wording when the window holds few articles (`background_rarity`).
  A story's tf-idf centroid is re-weighted when an article joins it, with the idf of that moment.
- entity overlap: weighted Jaccard of the article's canonical entity ids (0/1) and the story's
  (share of its articles mentioning each), scaled down while the cosine is below ENTITY_SUPPORT_COS;
  when the article or the story has no entities the text term takes the whole weight.
- across languages (the article's language is none of the story's): the words differ, so the
  article is compared by entities, topics and counts instead (`_cross_similarity`), and only when no
  story in its own language fits.
- a near-duplicate (`duplicate_of` set, see near.py) joins the story of its original when that story is
  live, without changing centroid or idf: syndication says nothing new about the event and twenty
  copies of one wire text must not make its words look common.

Guarantees:
- **Stable ids.** A story's id is the id of its first article and never changes; an article never moves
  to another story once assigned; stories never merge or split.
- **Idempotent.** Adding an article id that is already assigned (within the window) returns its story
  and changes nothing.
- **Order.** The result is a function of the sequence of articles in (seen_at, id) order. `add_many`
  and `cluster` sort their input, so any permutation of one batch gives the same partition and ids.
  Across batches this holds when each batch's articles are not older than the previous batches'
  (the pipeline processes in seen_at order); a late article (older than what was already processed)
  is assigned against the current stories and nothing already assigned moves.
- **Bounded memory.** A story with no article in the last `window` (relative to the newest seen_at)
  is closed and forgotten, and so are its articles' terms.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import operator
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from monitor.dedupe.near import NearDuplicateIndex
from monitor.extract.dates import parse_optional

DEFAULT_WINDOW = timedelta(hours=72)
# Weights of the two signals: round values, text first (entities alone put every story about one
# country together). The threshold is the middle of the plateau measured by scripts/eval_stories.py
# (docs/dedupe.md): 0.22 chosen on the dev half of eval/story_events.jsonl; below it stories start to
# absorb neighbours (a Paris letter bomb and other Paris news), above it follow-ups split off.
W_TEXT = 0.7
W_ENTITIES = 0.3
DEFAULT_THRESHOLD = 0.22
# The entities count in full only when the words agree a little (cosine at least this); below it they
# count in proportion. Entities alone put an earthquake in Osh into the story of a bombing in Osh
# (same country, same city: entity overlap 0.8, cosine 0.09). On eval/story_events.jsonl 0.15-0.25 is
# a plateau (dev recall 0.845 -> 0.855, check half unchanged at P 0.987 / R 0.722; 0.3 loses
# precision and recall): the middle taken.
ENTITY_SUPPORT_COS = 0.2
LEAD_WORDS = 60  # the lead carries the who/what/where; the rest of an article wanders off the event
TITLE_WEIGHT = 2
CENTROID_TERMS = 100
# Terms in more than this share of the window's articles do not propose candidate stories (they
# still count in the cosine): "said", "government" would make every story a candidate.
CANDIDATE_MAX_DF = 0.05
MAX_CANDIDATES = 30  # stories compared in full per article, the most shared keys first
# Background rarity (wordfreq's English frequencies, shipped in its wheel): a term's tf-idf weight is
# multiplied by rarity ** RARITY_EXPONENT, so what is rare in the language, not only in the window,
# carries a story across wording ("Orly", "spillway" over "airport", "said"). 0 turns it off.
RARITY_EXPONENT = 0.5
RARITY_FLOOR = 0.25  # the rarity of the commonest words (-log10 frequency below COMMON_LOG10)
COMMON_LOG10 = 3.0  # -log10 frequency of a word met once in 1,000 words of English ("said" ~ 3)
UNKNOWN_LOG10 = 7.0  # a word not in the list: rarer than nearly all listed words (names, new words)
# Time decay: a story's similarity halves per DECAY_HOURS it has been silent, so a follow-up the next
# day needs a little more in common than a report of the same hour, and one three days later more
# again (the window still closes a story after 72 h without articles). None turns it off.
DECAY_HOURS: float | None = 144.0
# Across languages the words differ, so an article is compared with a story written in other
# languages by what does not depend on them: the entities other than countries (places, bodies,
# people: canonical ids are the same in every script), the countries, the topics (concepts) and the
# counts in the title and lead ("12 killed", "погибли 12 человек"). A cross-language match needs a
# shared specific entity AND a shared topic: two attacks in one country, or a bombing and an
# earthquake in one city, stay apart. Weights sum to 1; the bar is CROSS_THRESHOLD (stricter than
# the text's: precision first), measured on tests/fixtures/stories/cross_language.json.
W_CROSS_SPECIFIC = 0.6
W_CROSS_COUNTRIES = 0.1
W_CROSS_TOPICS = 0.2
W_CROSS_NUMBERS = 0.1
CROSS_THRESHOLD = 0.45

_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Words are letters only, but a code of letters and digits names one thing across every report of it
# (flight "MR417", "MH17", "G20", "S400"); counts, years, times and ordinals ("2017", "10am", "3rd") say
# nothing of the event.
_NOT_CODES = re.compile(r"\d+(?:st|nd|rd|th|am|pm|s|m|km|bn|mn|kg|gb|mb)?", re.UNICODE)
# Function words and news boilerplate of English; other languages rely on the idf.
_STOP_WORDS = """
    about above after again against all also although among and another any are around because been
    before being below between both but can could did does doing down during each either even ever
    every few for from further had has have having her here hers herself him himself his how however
    into its itself just least less like made make many may might more most much must near neither
    never new news nor not now off once one only onto other others our ours ourselves out over own
    per perhaps please put quite rather said same says see seen several she should since some still
    such than that the their theirs them themselves then there these they this those though through
    thus till too toward towards two under until upon very via was way well were what whatever when
    whenever where whether which while who whom whose why will with within without would year years
    yet you your yours yourself yourselves told tell tells according report reported reports reuters
    monday tuesday wednesday thursday friday saturday sunday week weeks today yesterday time times
    first last people get got going back took take takes told day days read more photo image video
    copyright rights reserved follow twitter facebook click here
"""
_STOP = frozenset(_STOP_WORDS.split())
# Counts of two or more digits; years (19xx, 20xx) are dates, not counts of the event.
_NUMBER = re.compile(r"(?<![\w.,])\d{2,6}(?![\w.,]\d)")
_YEAR = re.compile(r"(?:19|20)\d\d")


def numbers(title: str, text: str, lead_words: int = LEAD_WORDS) -> set[str]:
    """The counts of an article's title and lead ("12", "300"), years left out."""
    lead = " ".join(text.split()[:lead_words])
    return {n for n in _NUMBER.findall(f"{title}\n{lead}") if not _YEAR.fullmatch(n)}


def _primary(language: str | None) -> str | None:
    return language.strip().lower().replace("_", "-").split("-")[0] if language else None


def _is_country(entity: str) -> bool:
    return len(entity) == 2 and entity.isupper()  # ISO 3166 alpha-2; other ids have a prefix


def terms(title: str, text: str, lead_words: int = LEAD_WORDS) -> Counter[str]:
    """The weighted bag of words of an article's title (x TITLE_WEIGHT) and lead."""
    bag: Counter[str] = Counter()
    for word in _tokens(title):
        bag[word] += TITLE_WEIGHT
    lead = " ".join(text.split()[:lead_words])
    bag.update(_tokens(lead))
    return bag


@functools.cache
def _frequency_table(language: str = "en") -> dict[str, int]:
    """word -> -log10 of its frequency in `language` x 100 (wordfreq's "large" list: ~320k English
    words loaded in ~0.1 s; Russian ~700k, loaded only when a Cyrillic word is met). Empty when
    wordfreq is not installed: rarity is then flat."""
    try:
        from wordfreq import get_frequency_list
    except ImportError:  # pragma: no cover - a declared dependency
        return {}
    table: dict[str, int] = {}
    # the list is bucketed by centibels: bucket i holds the words of frequency 10 ** (-i / 100)
    for bucket, words in enumerate(get_frequency_list(language, "large")):
        for word in words:
            if word.isalpha() and len(word) >= 3 and word not in table:
                table[word] = bucket
    return table


@functools.lru_cache(maxsize=1 << 17)
def background_rarity(term: str) -> float:
    """How rare `term` is in English: -log10(frequency) - COMMON_LOG10, at least RARITY_FLOOR
    ("said" 0.25, "attack" ~0.9, "airport" ~1.2, "orly" ~3.6, unknown words 4.0)."""
    # By script: a Cyrillic word is looked up in Russian (in the English list every one of them is
    # "unknown", so all of a Russian text looked as rare as a name); every other word in English.
    bucket = _frequency_table("ru" if _CYRILLIC.match(term) else "en").get(term)
    log10 = UNKNOWN_LOG10 if bucket is None else min(bucket / 100.0, UNKNOWN_LOG10)
    return max(RARITY_FLOOR, log10 - COMMON_LOG10)


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    out = []
    for word in _WORD.findall(folded):
        if word in _STOP:
            continue
        if not word.isalpha():
            if not word.isalnum() or _NOT_CODES.fullmatch(word) or word.isdigit():
                continue
            out.append(word)  # a code: no plural to strip
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


@dataclass(frozen=True)
class StoryArticle:
    """What the clusterer needs of an article. `entities` are canonical ids ("KZ", "org:osce")."""

    id: str
    title: str
    text: str
    seen_at: datetime
    entities: Sequence[str] = ()
    source: str | None = None  # outlet or feed, for the story's source count
    duplicate_of: str | None = None  # from NearDuplicateIndex
    language: str | None = None  # ISO 639-1; None (not known) compares as the story's language
    topics: Sequence[str] = ()  # topic ids: concepts that do not depend on the language


@dataclass
class Story:
    """A group of articles about one event. `id` is its first article's id."""

    id: str
    title: str  # of its first article with a title: stable, and what the event was first called
    first_seen: datetime
    last_seen: datetime
    # (seen_at, article id) of its articles within the window, oldest first: a story that copies keep
    # alive for weeks forgets its old articles (article_count keeps counting them)
    articles: list[tuple[datetime, str]] = field(default_factory=list)
    article_count: int = 0
    sources: set[str] = field(default_factory=set)
    centroid: Counter[str] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter)  # entity id -> articles mentioning it
    languages: Counter[str] = field(default_factory=Counter)  # primary language -> articles
    topics: Counter[str] = field(default_factory=Counter)  # topic id -> articles
    numbers: Counter[str] = field(default_factory=Counter)  # counts of the titles and leads -> articles
    n_vectors: int = 0  # articles that contributed to centroid and entities (non-duplicates)
    weights: dict[str, float] = field(default_factory=dict)  # centroid x idf at its last update
    norm: float = 0.0

    @property
    def article_ids(self) -> list[str]:
        return [a for _, a in self.articles]

    unsourced: int = 0  # articles without a source

    @property
    def source_count(self) -> int:
        """Distinct sources; each article without a source counts as one more source."""
        return len(self.sources) + self.unsourced


StoryState = Literal["new", "developing", "quiet"]


def state(story: Story, window_start: datetime, window_end: datetime) -> StoryState:
    """ "new" when the story was first seen in [window_start, window_end); "developing" when it is
    older but has an article in that window; "quiet" otherwise."""
    if window_start <= story.first_seen < window_end:
        return "new"
    if any(window_start <= seen < window_end for seen, _ in story.articles):
        return "developing"
    return "quiet"


class StoryIndex:
    """Incremental story clustering over a sliding window (see the module docstring)."""

    def __init__(
        self,
        window: timedelta = DEFAULT_WINDOW,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        w_text: float = W_TEXT,
        w_entities: float = W_ENTITIES,
        rarity: float = RARITY_EXPONENT,
        decay_hours: float | None = DECAY_HOURS,
        lead_words: int = LEAD_WORDS,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self.window = window
        self.threshold = threshold
        self.w_text = w_text
        self.w_entities = w_entities
        self.rarity = rarity
        self.decay_hours = decay_hours
        self.lead_words = lead_words
        self._stories: dict[str, Story] = {}
        self._story_of: dict[str, str] = {}  # article id -> story id, for the articles of the window
        # duplicate group (its original's id) -> (story id, seen_at) of its latest copy in the window:
        # copies keep joining that story after the original itself has left the window
        self._group_story: dict[str, tuple[str, datetime]] = {}
        # (seen_at, id, is a group) of what the window holds, in arrival order; late arrivals (older
        # than the last one queued) wait in a heap. Both are drained as the window moves on.
        self._assigned: deque[tuple[datetime, str, bool]] = deque()
        self._late_assigned: list[tuple[datetime, int, str, bool]] = []
        self._late_seq = 0
        self._df: Counter[str] = Counter()
        self._n_docs = 0
        self._window_docs: deque[tuple[datetime, list[str]]] = deque()  # (seen_at, distinct terms)
        self._late_docs: list[tuple[datetime, int, list[str]]] = []  # heap for out-of-order arrivals
        self._postings: dict[str, set[str]] = {}  # term or "e:"+entity -> live story ids
        self._newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._stories)

    def story(self, story_id: str) -> Story | None:
        return self._stories.get(story_id)

    def story_of(self, article_id: str) -> str | None:
        return self._story_of.get(article_id)

    def stories(self) -> list[Story]:
        """Live stories, oldest first."""
        return sorted(self._stories.values(), key=lambda s: (s.first_seen, s.id))

    def add_many(self, articles: Iterable[StoryArticle]) -> dict[str, str]:
        """Assign a batch in (seen_at, id) order: any order of the same batch gives the same result."""
        return {a.id: self.add(a) for a in sorted(articles, key=lambda a: (a.seen_at, a.id))}

    def add(self, article: StoryArticle) -> str:
        """Assign one article; return its story id."""
        known = self._story_of.get(article.id)
        if known is not None:
            return known
        if self._newest is None or article.seen_at > self._newest:
            self._newest = article.seen_at
            self._expire(article.seen_at - self.window)

        group = article.duplicate_of
        if group is not None:
            original = self._story_of.get(group)
            if original is None and (latest := self._group_story.get(group)) is not None:
                original = latest[0]
            if original is not None and original in self._stories:
                self._attach(self._stories[original], article)
                self._remember_group(group, original, article.seen_at)
                return original

        bag = terms(article.title, article.text, self.lead_words)
        entities = set(article.entities)
        story = self._best_story(bag, entities, article.seen_at, article)
        self._count_terms(article.seen_at, list(bag))
        if story is None:
            story = Story(article.id, article.title, article.seen_at, article.seen_at)
            self._stories[story.id] = story
        self._attach(story, article)
        self._absorb(story, bag, entities, article)
        if group is not None:  # its original's story is closed: the next copies follow this one
            self._remember_group(group, story.id, article.seen_at)
        return story.id

    def restore(self, article: StoryArticle, story_id: str) -> None:
        """Put back an article an earlier run assigned to `story_id`, without searching: a new run is
        warmed with the window's stored assignments, as `add` would have built them but in a fraction
        of the time, and its stories are the stored ones even where a search now would differ."""
        if article.id in self._story_of:
            return
        if self._newest is None or article.seen_at > self._newest:
            self._newest = article.seen_at
            self._expire(article.seen_at - self.window)
        story = self._stories.get(story_id)
        group = article.duplicate_of
        if group is not None and story is not None:
            followed = self._story_of.get(group) or self._group_story.get(group, ("",))[0]
            if followed == story_id:  # a copy that joined its original's story: as in `add`
                self._attach(story, article)
                self._remember_group(group, story_id, article.seen_at)
                return
        bag = terms(article.title, article.text, self.lead_words)
        self._count_terms(article.seen_at, list(bag))
        if story is None:
            story = Story(story_id, article.title, article.seen_at, article.seen_at)
            self._stories[story_id] = story
        self._attach(story, article)
        self._absorb(story, bag, set(article.entities), article)
        if group is not None:
            self._remember_group(group, story_id, article.seen_at)

    # -- assignment ------------------------------------------------------------------------------

    def _tfidf(self, counts: dict[str, int]) -> dict[str, float]:
        """counts x idf x rarity, idf = log((1 + N) / (1 + df)) + 1 over the window, rarity =
        background_rarity(term) ** self.rarity (one expression: the same floats everywhere)."""
        log, n, df = math.log, 1 + self._n_docs, self._df.get
        if not self.rarity:
            return {t: c * (log(n / (1 + df(t, 0))) + 1.0) for t, c in counts.items()}
        alpha = self.rarity
        rarity = background_rarity
        return {t: c * (log(n / (1 + df(t, 0))) + 1.0) * rarity(t) ** alpha for t, c in counts.items()}

    def _best_story(
        self, bag: Counter[str], entities: set[str], seen_at: datetime, article: StoryArticle
    ) -> Story | None:
        max_df = max(3, CANDIDATE_MAX_DF * self._n_docs)
        votes: Counter[str] = Counter()
        for term in bag:
            if self._df.get(term, 0) <= max_df:
                votes.update(self._postings.get(term, ()))
        for entity in entities:
            votes.update(self._postings.get("e:" + entity, ()))
        if not votes:
            return None
        # most shared keys first, ties by id (posting sets iterate in a per-process hash order)
        keyed = zip(map(operator.neg, votes.values()), votes.keys(), strict=True)
        ranked = heapq.nsmallest(MAX_CANDIDATES, keyed)  # = sorted(keyed)[:MAX_CANDIDATES], in O(n)
        weights = self._tfidf(bag)
        norm = math.sqrt(sum(w * w for w in weights.values()))
        best, best_sim = None, self.threshold
        language = _primary(article.language)
        others: list[Story] = []  # stories in other languages: compared only if no story in its own fits
        for _, story_id in sorted(ranked, key=operator.itemgetter(1)):
            story = self._stories[story_id]
            if language is not None and story.languages and language not in story.languages:
                others.append(story)
                continue
            sim = self._similarity(weights, norm, entities, story)
            if self.decay_hours and seen_at > story.last_seen:
                # time decay: the longer a story has been silent, the more an article must share with it
                gap = (seen_at - story.last_seen).total_seconds() / 3600.0
                sim *= 0.5 ** (gap / self.decay_hours)
            if sim >= best_sim and (best is None or sim > best_sim or story.first_seen < best.first_seen):
                best, best_sim = story, sim
        if best is not None or not others:
            return best
        # Words say more than entities and topics: a story in the article's own language that fits is
        # preferred, and only without one is it compared with the stories told in other languages.
        counts = numbers(article.title, article.text, self.lead_words)
        topics = set(article.topics)
        best_sim = CROSS_THRESHOLD
        for story in others:
            sim = self._cross_similarity(entities, topics, counts, story)
            if self.decay_hours and seen_at > story.last_seen:
                gap = (seen_at - story.last_seen).total_seconds() / 3600.0
                sim *= 0.5 ** (gap / self.decay_hours)
            if sim >= best_sim and (best is None or sim > best_sim or story.first_seen < best.first_seen):
                best, best_sim = story, sim
        return best

    def _similarity(self, weights: dict[str, float], norm: float, entities: set[str], story: Story) -> float:
        cos = 0.0
        if norm > 0 and story.norm > 0:
            centroid = story.weights
            # fsum: exactly rounded, so no iteration order can change the result
            dot = math.fsum([w * centroid[t] for t, w in weights.items() if t in centroid])
            cos = dot / (norm * story.norm)
        if not entities or not story.entities:
            return cos
        n = story.n_vectors
        inter = math.fsum(min(1.0, story.entities[e] / n) for e in entities if e in story.entities)
        union = len(entities) + math.fsum(story.entities[e] / n for e in story.entities if e not in entities)
        support = min(1.0, cos / ENTITY_SUPPORT_COS)
        return self.w_text * cos + self.w_entities * support * (inter / union if union else 0.0)

    @staticmethod
    def _cross_similarity(entities: set[str], topics: set[str], counts: set[str], story: Story) -> float:
        """Similarity of an article to a story in other languages (see W_CROSS_SPECIFIC): 0 unless
        they share a specific entity and a topic."""
        n = story.n_vectors
        if not n:
            return 0.0

        def overlap(mine: set[str], theirs: Counter[str]) -> float:
            # weighted Jaccard, as in _similarity: the story's side weighs each key by its share
            inter = math.fsum(min(1.0, theirs[k] / n) for k in mine if k in theirs)
            union = len(mine) + math.fsum(theirs[k] / n for k in theirs if k not in mine)
            return inter / union if union else 0.0

        specific = {e for e in entities if not _is_country(e)}
        story_specific = Counter({e: c for e, c in story.entities.items() if not _is_country(e)})
        s_specific = overlap(specific, story_specific)
        s_topics = overlap(topics, story.topics)
        if s_specific == 0.0 or s_topics == 0.0:
            return 0.0
        countries = entities - specific
        story_countries = Counter({e: c for e, c in story.entities.items() if _is_country(e)})
        s_countries = overlap(countries, story_countries)
        s_numbers = 1.0 if any(c in story.numbers for c in counts) else 0.0
        return (
            W_CROSS_SPECIFIC * s_specific
            + W_CROSS_COUNTRIES * s_countries
            + W_CROSS_TOPICS * s_topics
            + W_CROSS_NUMBERS * s_numbers
        )

    def _attach(self, story: Story, article: StoryArticle) -> None:
        first = story.article_count == 0
        bisect.insort(story.articles, (article.seen_at, article.id))
        if first or article.seen_at > story.last_seen:
            story.last_seen = max(story.last_seen, article.seen_at)
        if article.seen_at < story.first_seen:  # a late article: dates widen, the id stays
            story.first_seen = article.seen_at
        if not story.title and article.title:
            story.title = article.title
        if article.source:
            story.sources.add(article.source)
        else:
            story.unsourced += 1
        story.article_count += 1
        self._story_of[article.id] = story.id
        self._push_assigned(article.seen_at, article.id, False)

    def _remember_group(self, group: str, story_id: str, seen_at: datetime) -> None:
        latest = self._group_story.get(group)
        if latest is None:
            self._push_assigned(seen_at, group, True)
        elif seen_at < latest[1]:
            return
        # a refreshed group is queued again only when its first entry leaves the window (_expire)
        self._group_story[group] = (story_id, seen_at)

    def _push_assigned(self, seen_at: datetime, key: str, is_group: bool) -> None:
        if self._assigned and seen_at < self._assigned[-1][0]:
            self._late_seq += 1
            heapq.heappush(self._late_assigned, (seen_at, self._late_seq, key, is_group))
        else:
            self._assigned.append((seen_at, key, is_group))

    def _absorb(self, story: Story, bag: Counter[str], entities: set[str], article: StoryArticle) -> None:
        story.centroid.update(bag)
        story.entities.update(entities)
        language = _primary(article.language)
        if language is not None:
            story.languages[language] += 1
        story.topics.update(set(article.topics))
        story.numbers.update(numbers(article.title, article.text, self.lead_words))
        story.n_vectors += 1
        if len(story.centroid) > CENTROID_TERMS:
            keep = sorted(story.centroid.items(), key=lambda kv: (-kv[1], kv[0]))[:CENTROID_TERMS]
            for term in set(story.centroid) - {t for t, _ in keep}:
                del story.centroid[term]
                self._unpost(term, story.id)
        for term in story.centroid:
            self._postings.setdefault(term, set()).add(story.id)
        # tf-idf weights of the centroid with the idf of now: refreshed whenever the story changes
        # rather than at every comparison (idf moves slowly; this is 10x cheaper per candidate)
        story.weights = self._tfidf(story.centroid)
        story.norm = math.sqrt(sum(w * w for w in story.weights.values()))
        for entity in story.entities:
            self._postings.setdefault("e:" + entity, set()).add(story.id)

    def _unpost(self, key: str, story_id: str) -> None:
        posted = self._postings.get(key)
        if posted is not None:
            posted.discard(story_id)
            if not posted:
                del self._postings[key]

    # -- the window ------------------------------------------------------------------------------

    def _count_terms(self, seen_at: datetime, distinct: list[str]) -> None:
        self._df.update(distinct)
        self._n_docs += 1
        if self._window_docs and seen_at < self._window_docs[-1][0]:
            self._late_seq += 1
            heapq.heappush(self._late_docs, (seen_at, self._late_seq, distinct))
        else:
            self._window_docs.append((seen_at, distinct))

    def _expire(self, cutoff: datetime) -> None:
        for queue_pop in (self._pop_window_doc, self._pop_late_doc):
            while (item := queue_pop(cutoff)) is not None:
                self._df.subtract(item)
                for term in item:
                    if self._df[term] <= 0:
                        del self._df[term]
                self._n_docs -= 1
        # articles (and copies' groups) leaving the window are forgotten, also by the stories that
        # copies keep alive for longer: memory follows the window, not the life of a story
        # A story closes when its last article leaves the window: every article is queued, so the
        # story's last one is met here (no separate queue of stories).
        while (assigned := self._pop_assigned(cutoff)) is not None:
            key, is_group = assigned
            if is_group:
                latest = self._group_story.get(key)
                if latest is not None:
                    if latest[1] < cutoff:
                        del self._group_story[key]
                    else:  # refreshed by a later copy: queued again for then
                        self._push_assigned(latest[1], key, True)
                continue
            story_id = self._story_of.pop(key, None)
            story = self._stories.get(story_id) if story_id is not None else None
            if story is None:
                continue
            if story.last_seen < cutoff:
                self._close(story)
            elif story.articles[0][0] < cutoff:
                del story.articles[: bisect.bisect_left(story.articles, (cutoff,))]

    def _close(self, story: Story) -> None:
        del self._stories[story.id]  # its articles and groups are leaving the window with it
        for term in story.centroid:
            self._unpost(term, story.id)
        for entity in story.entities:
            self._unpost("e:" + entity, story.id)

    def _pop_assigned(self, cutoff: datetime) -> tuple[str, bool] | None:
        if self._assigned and self._assigned[0][0] < cutoff:
            _, key, is_group = self._assigned.popleft()
            return key, is_group
        if self._late_assigned and self._late_assigned[0][0] < cutoff:
            _, _, key, is_group = heapq.heappop(self._late_assigned)
            return key, is_group
        return None

    def _pop_window_doc(self, cutoff: datetime) -> list[str] | None:
        if self._window_docs and self._window_docs[0][0] < cutoff:
            return self._window_docs.popleft()[1]
        return None

    def _pop_late_doc(self, cutoff: datetime) -> list[str] | None:
        if self._late_docs and self._late_docs[0][0] < cutoff:
            return heapq.heappop(self._late_docs)[2]
        return None


# -- the offline command ---------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime:
    """ISO 8601 (or "2017/2/7"); a missing or unreadable date sorts first, as the epoch."""
    parsed = parse_optional(value) if isinstance(value, str) else None
    return parsed or datetime.fromtimestamp(0, UTC)


def cluster(
    docs: Iterable[dict[str, Any]],
    *,
    story_window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
    near_index: NearDuplicateIndex | None = None,
) -> Iterator[dict[str, Any]]:
    """`{id, title, text, published[, entities, source]}` in -> `{id, story_id, duplicate_of}` out.

    Offline and deterministic: documents are processed in (published, id) order, so the output does
    not depend on the input order; it is yielded in input order. `entities` may be a list of ids or of
    `{id: ...}` objects (the output of `monitor classify`); without them stories use text alone.
    """
    items = list(docs)
    prepared = []
    for position, doc in enumerate(items):
        ents = [e["id"] if isinstance(e, dict) else str(e) for e in doc.get("entities") or ()]
        prepared.append((_parse_time(doc.get("published")), str(doc["id"]), position, doc, ents))
    prepared.sort(key=lambda p: (p[0], p[1]))
    index = near_index or NearDuplicateIndex()
    stories = StoryIndex(window=story_window, threshold=threshold)
    out: dict[int, dict[str, Any]] = {}
    for seen_at, doc_id, position, doc, ents in prepared:
        title, text = doc.get("title") or "", doc.get("text") or ""
        dup = index.add(doc_id, text, seen_at)
        article = StoryArticle(doc_id, title, text, seen_at, ents, doc.get("source"), dup)
        out[position] = {"id": doc["id"], "story_id": stories.add(article), "duplicate_of": dup}
    for position in range(len(items)):
        yield out[position]
