"""Match a taxonomy against an article and explain every topic it assigns.

How it works, and why:

* Text is lower-cased and split into words (`\\w+`) once. Every taxonomy phrase is indexed by its
  first word (exact words in a dict, `prefix*` words in a dict keyed by prefix), so the cost per
  article is one dict lookup per word plus a short check for the few candidate phrases; a per-word
  cache makes the prefix lookups free after the first time a word is seen. This is several times
  faster than one big regex alternation in Python's backtracking `re`, and it makes case,
  punctuation and hyphens ("anti-terrorism", "ANTI TERRORISM") behave the same everywhere.
* Within a topic, occurrences do not overlap: at each position the longest phrase wins, so
  "car bomb" counts once, not also as "bomb".
* Negative context (e.g. "box office bomb") cancels the occurrences of that topic's terms that it
  overlaps; the cancelled occurrence never reaches the evidence.
* Score = sum over terms of weight × saturation(count), where title occurrences count
  `TITLE_FACTOR` times. Saturation keeps an article that repeats one weak word forty times from
  outscoring one that uses three distinct strong terms.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import re
from collections import defaultdict
from dataclasses import dataclass

from monitor.classify.taxonomy import Taxonomy, parse_taxonomy
from monitor.models import Evidence, TopicHit

_WORD = re.compile(r"\w+")

# A title states what the article is about; one mention there is worth two in the body.
TITLE_FACTOR = 2.0
# saturation(c) = SATURATION_CAP * (1 - (1 - 1/SATURATION_CAP) ** c): 1 for one occurrence,
# ~1.67 for two, ~2.1 for three, never more than 3. Tuned on the dev set: a cap of 2 lost long
# single-topic reports; no cap let sports pages that say "attack" twenty times through.
SATURATION_CAP = 3.0
# Long articles mention security words in passing (a film review naming "terrorism" once); short
# wire reports are all about it. A topic's threshold therefore grows with the square root of the
# body length beyond LENGTH_REFERENCE words. Tuned on the dev set (sweep of 50-250 words and
# exponents 0.3-1.0): 100 words and 0.5 kept recall on 80-word incident reports and halved false
# positives on 400-word business and sport pages.
LENGTH_REFERENCE = 100
LENGTH_EXPONENT = 0.5
# Off-topic context (film, sport, markets, gadgets; `off_topic` in the taxonomy) multiplies every
# threshold by 1 + score / OFF_TOPIC_SCALE: a film review needs far more security evidence than a
# wire report before it is tagged. 5 was the best of 5/10/20 on the dev set.
OFF_TOPIC_SCALE = 5.0
# The per-word candidate cache is bounded so a long-running process cannot grow without limit;
# news vocabulary stays far below this, so in practice it is never cleared.
_CACHE_LIMIT = 200_000

_Word = tuple[str, bool]  # (text, is_prefix)
_Scan = tuple[dict[int, list[tuple[int, int, int]]], dict[int, list[tuple[int, int]]], int]
_EMPTY_SCAN: _Scan = ({}, {}, 0)


@dataclass(frozen=True)
class _Phrase:
    """One matchable phrase: a term variant (term >= 0) or negative context (term == -1)."""

    words: tuple[_Word, ...]
    topic: int
    term: int


@dataclass(frozen=True)
class _Regex:
    pattern: re.Pattern[str]
    topic: int
    term: int  # -1 for negative context


def saturation(count: float) -> float:
    """Diminishing returns for repeated occurrences of one term (see SATURATION_CAP)."""
    return SATURATION_CAP * (1.0 - (1.0 - 1.0 / SATURATION_CAP) ** count)


def length_factor(n_words: int) -> float:
    """How much a topic threshold grows for a body of `n_words` (see LENGTH_REFERENCE)."""
    return max(1.0, n_words / LENGTH_REFERENCE) ** LENGTH_EXPONENT


class _LanguageMatcher:
    """Everything compiled for one language: phrase index, regexes and the per-word cache."""

    def __init__(self, taxonomy: Taxonomy, language: str) -> None:
        topics = taxonomy.topics
        self.language = language
        self.exact: dict[str, list[_Phrase]] = defaultdict(list)
        self.prefix: dict[str, list[_Phrase]] = defaultdict(list)
        self.regexes: list[_Regex] = []
        for t_index, topic in enumerate(topics):
            for term_index, term in enumerate(topic.terms.get(language, ())):
                if term.regex is not None:
                    self.regexes.append(_Regex(re.compile(term.regex, re.IGNORECASE), t_index, term_index))
                for words in term.phrases:
                    self._add(_Phrase(words, t_index, term_index))
            for negative in topic.negative.get(language, ()):
                if negative.regex is not None:
                    self.regexes.append(_Regex(re.compile(negative.regex, re.IGNORECASE), t_index, -1))
                elif negative.phrase is not None:
                    self._add(_Phrase(negative.phrase, t_index, -1))
        # Off-topic vocabulary is matched like one more topic, at index len(topics).
        for term_index, term in enumerate(taxonomy.off_topic.get(language, ())):
            if term.regex is not None:
                self.regexes.append(_Regex(re.compile(term.regex, re.IGNORECASE), len(topics), term_index))
            for words in term.phrases:
                self._add(_Phrase(words, len(topics), term_index))
        self.exact = dict(self.exact)
        self.prefix = dict(self.prefix)
        # Longest prefixes first so candidate order is stable; order does not change results.
        self.prefix_lengths = sorted({len(p) for p in self.prefix}, reverse=True)
        self._cache: dict[str, tuple[_Phrase, ...]] = {}

    def _add(self, phrase: _Phrase) -> None:
        first, is_prefix = phrase.words[0]
        (self.prefix if is_prefix else self.exact)[first].append(phrase)

    def candidates(self, word: str) -> tuple[_Phrase, ...]:
        found = self._cache.get(word)
        if found is not None:
            return found
        result = list(self.exact.get(word, ()))
        for length in self.prefix_lengths:
            if length <= len(word):
                result.extend(self.prefix.get(word[:length], ()))
        found = tuple(result)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = found
        return found

    def scan(self, text: str) -> _Scan:
        """Find occurrences in one text segment.

        Returns term occurrences per topic as (start, end, term) word spans, negative spans per
        topic as (start, end), and the number of words.
        """
        lowered = text.lower()
        words = _WORD.findall(lowered)
        occurrences: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        negatives: dict[int, list[tuple[int, int]]] = defaultdict(list)
        n_words = len(words)
        cache = self._cache
        for i, word in enumerate(words):
            # Inlined cache lookup: this loop runs once per word of every article.
            found = cache.get(word)
            if found is None:
                found = self.candidates(word)
            if not found:
                continue
            for phrase in found:
                end = i + len(phrase.words)
                if end > n_words:
                    continue
                if end - i > 1 and not _follows(phrase.words, words, i):
                    continue
                if phrase.term < 0:
                    negatives[phrase.topic].append((i, end))
                else:
                    occurrences[phrase.topic].append((i, end, phrase.term))
        if self.regexes:
            self._scan_regexes(lowered, occurrences, negatives)
        return occurrences, negatives, n_words

    def _scan_regexes(
        self,
        lowered: str,
        occurrences: dict[int, list[tuple[int, int, int]]],
        negatives: dict[int, list[tuple[int, int]]],
    ) -> None:
        # Regex hits are converted to word spans so that they take part in the same overlap and
        # negative-context rules as phrases. Most articles match no regex, so the word offsets
        # are only computed once one does.
        starts: list[int] = []
        ends: list[int] = []
        for rx in self.regexes:
            for match in rx.pattern.finditer(lowered):
                if match.end() == match.start():
                    continue
                if not ends:
                    spans = [m.span() for m in _WORD.finditer(lowered)]
                    starts = [start for start, _ in spans]
                    ends = [end for _, end in spans]
                first = bisect.bisect_right(ends, match.start())
                last = bisect.bisect_left(starts, match.end())
                if last <= first:
                    continue
                if rx.term < 0:
                    negatives[rx.topic].append((first, last))
                else:
                    occurrences[rx.topic].append((first, last, rx.term))


def _follows(phrase: tuple[_Word, ...], words: list[str], start: int) -> bool:
    for offset in range(1, len(phrase)):
        text, is_prefix = phrase[offset]
        word = words[start + offset]
        if word != text and not (is_prefix and word.startswith(text)):
            return False
    return True


def _resolve(occurrences: list[tuple[int, int, int]], negatives: list[tuple[int, int]]) -> dict[int, int]:
    """Leftmost-longest non-overlapping occurrences minus those touched by negative context.

    Returns term index -> count.
    """
    counts: dict[int, int] = {}
    covered_until = 0
    for start, end, term in sorted(occurrences, key=lambda o: (o[0], o[0] - o[1], o[2])):
        if start < covered_until:
            continue
        covered_until = end
        if any(n_start < end and start < n_end for n_start, n_end in negatives):
            continue
        counts[term] = counts.get(term, 0) + 1
    return counts


class Classifier:
    """Tags articles with taxonomy topics; build it once, call `classify` many times."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        # Version = the taxonomy's own version plus a short hash of its exact content, so stored
        # results say precisely which rules produced them even when someone forgot to bump it.
        self.version = f"{taxonomy.version}+{taxonomy.content_hash[:8]}"
        self._topics = taxonomy.topics
        self._matchers = {lang: _LanguageMatcher(taxonomy, lang) for lang in sorted(taxonomy.languages)}

    def _matcher(self, language: str | None) -> _LanguageMatcher:
        if language:
            primary = language.strip().lower().replace("_", "-").split("-")[0]
            if primary in self._matchers:
                return self._matchers[primary]
        # Unknown or missing language: the default language's terms still catch the many
        # international words (ISIS, NATO, Taliban) and keep recall above zero.
        return self._matchers[self.taxonomy.default_language]

    def classify(self, title: str, text: str, language: str | None = None) -> list[TopicHit]:
        """Topics whose score reaches their threshold, best first, each with its evidence."""
        matcher = self._matcher(language)
        title_occ, title_neg, _ = matcher.scan(title) if title else _EMPTY_SCAN
        body_occ, body_neg, n_words = matcher.scan(text) if text else _EMPTY_SCAN
        off_index = len(self._topics)
        off_terms = self.taxonomy.off_topic.get(matcher.language, ())
        off_score = sum(
            off_terms[term].weight * saturation(count)
            for term, count in _resolve(body_occ.get(off_index, []), []).items()
        )
        factor = length_factor(n_words) * (1.0 + off_score / OFF_TOPIC_SCALE)
        hits: list[TopicHit] = []
        for t_index in sorted((set(title_occ) | set(body_occ)) - {off_index}):
            topic = self._topics[t_index]
            title_counts = _resolve(title_occ.get(t_index, []), title_neg.get(t_index, []))
            body_counts = _resolve(body_occ.get(t_index, []), body_neg.get(t_index, []))
            if not title_counts and not body_counts:
                continue
            terms = topic.terms.get(matcher.language, ())
            scored: list[tuple[float, Evidence]] = []
            for term_index in sorted(set(title_counts) | set(body_counts)):
                term = terms[term_index]
                in_title = title_counts.get(term_index, 0)
                in_body = body_counts.get(term_index, 0)
                contribution = term.weight * saturation(in_body + TITLE_FACTOR * in_title)
                scored.append(
                    (contribution, Evidence(term=term.term, count=in_title + in_body, weight=term.weight))
                )
            score = round(sum(c for c, _ in scored), 3)
            if score < topic.threshold * factor:
                continue
            scored.sort(key=lambda item: (-item[0], item[1].term))
            hits.append(
                TopicHit(topic_id=topic.id, label=topic.label, score=score, evidence=[e for _, e in scored])
            )
        hits.sort(key=lambda hit: (-hit.score, hit.topic_id))
        return hits


def default_taxonomy_text() -> str:
    """The packaged security taxonomy, read through importlib.resources (works from a wheel)."""
    resource = importlib.resources.files("monitor.classify").joinpath("taxonomies", "security.yaml")
    return resource.read_text(encoding="utf-8")


@functools.cache
def load_default_classifier() -> Classifier:
    """The classifier for the packaged security taxonomy, built once per process."""
    taxonomy = parse_taxonomy(default_taxonomy_text(), source="monitor/classify/taxonomies/security.yaml")
    return Classifier(taxonomy)
