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

import importlib.resources
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import accumulate, compress, islice, repeat
from typing import TYPE_CHECKING

from monitor.classify import morph
from monitor.classify.taxonomy import (
    Taxonomy,
    Term,
    Topic,
    language_file_of,
    merge_language_files,
    parse_taxonomy,
)
from monitor.models import Evidence, TopicHit

if TYPE_CHECKING:
    from monitor.classify.learned import LearnedModel

_WORD = re.compile(r"\w+")
# `_WORD.findall` over ASCII text, done as a byte translation (word characters kept, all others made
# blanks) and a split: all in C and about twice as fast as the regex, with the same words.
_ASCII_WORD_TABLE = bytes(c if _WORD.fullmatch(chr(c)) else 32 for c in range(128)) + bytes([32] * 128)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TWO_WORD_CHARS = re.compile(r"\w\w")

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
# An occurrence of a term is stored as (start, -end, term) so that a plain tuple sort puts it in
# leftmost-longest order (longer first at one start, then lower term index) without a key function.
_Occurrence = tuple[int, int, int]
_Scan = tuple[dict[int, list[_Occurrence]], dict[int, list[tuple[int, int]]], int, list[str]]
_EMPTY_SCAN: _Scan = ({}, {}, 0, [])
# What `_resolve` keeps: term index -> its occurrences as word spans [start, end), in text order.
_Kept = dict[int, list[tuple[int, int]]]
# What follows a phrase's first word: (topic, term, the words after the second one), term -1 for
# negative context. The second word itself is the key that selected the entry.
_Tail = tuple[int, int, tuple[_Word, ...]]
# Everything a first word can start, precomputed once per distinct word so the per-article loop
# does one dict lookup for the next word instead of testing every candidate phrase in turn:
# (one-word phrases as (topic, term), exact second word -> tails, (second-word prefix, tails)).
# A word that starts nothing maps to None (falsy, so compress() skips it).
_Plan = tuple[
    tuple[tuple[int, int], ...], dict[str, tuple[_Tail, ...]], tuple[tuple[str, tuple[_Tail, ...]], ...]
]
# Marks a word missing from the cache in the per-article lookup; truthy, so compress() keeps it.
_UNKNOWN: _Plan = ((), {}, ())


@dataclass(frozen=True)
class _Phrase:
    """One matchable phrase: a term variant (term >= 0) or negative context (term == -1)."""

    words: tuple[_Word, ...]
    topic: int
    term: int
    # The second word ("" for a one-word phrase) and whether it is a prefix: tested inline, so a
    # two-word phrase (most of them) never needs the slower `_follows`.
    second: str = ""
    second_is_prefix: bool = False


@dataclass(frozen=True)
class _Regex:
    pattern: re.Pattern[str]
    topic: int
    term: int  # -1 for negative context
    # A lower-case string every match contains ("" when none is known): a C-speed `in` test that
    # skips the regex on the many articles that cannot match it.
    literal: str = ""
    # True when every match starts with `literal` ('murder\w*\W+of ...'): the regex is then only
    # tried where `str.find` puts the literal, instead of at each of the text's characters.
    leading: bool = False


# Under IGNORECASE these two lower-case letters match ASCII ones ("ſ" ~ "s", "ı" ~ "i"): a text
# holding either could match a regex without containing its literal, so it is always searched.
_CASE_FOLD_ALIASES = ("ſ", "ı")


def _required_literal(pattern: str) -> tuple[str, bool]:
    """The longest run of plain characters that every match of `pattern` contains, read from the
    pattern's top level only (characters inside groups, branches and repeats are not required),
    and whether every match starts with it (only \\b, ^ or $ before it)."""
    best = ""
    run = ""
    leading = False
    at_start = True
    for op, arg in re._parser.parse(pattern, re.IGNORECASE):  # type: ignore[attr-defined]
        if op is re._constants.LITERAL:  # type: ignore[attr-defined]
            run += chr(arg).lower()
        elif op is not re._constants.AT:  # type: ignore[attr-defined]  # \b, ^, $ take no text
            if len(run) > len(best):
                best, leading = run, at_start
            run = ""
            at_start = False
    if len(run) > len(best):
        best, leading = run, at_start
    # Only ASCII is safe: other letters have several lower-case forms under IGNORECASE.
    return (best, leading) if best and best.isascii() else ("", False)


def _compile_regex(pattern: str, topic: int, term: int) -> _Regex:
    literal, leading = _required_literal(pattern)
    return _Regex(re.compile(pattern, re.IGNORECASE), topic, term, literal, leading)


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
        # Lemmas or stems for inflected languages (morph.py), applied to the taxonomy's words here
        # and to the text's words in `scan`; None (English) matches words as written.
        self.normalise = morph.normaliser(language)
        self.exact: dict[str, list[_Phrase]] = defaultdict(list)
        self.prefix: dict[str, list[_Phrase]] = defaultdict(list)
        self.regexes: list[_Regex] = []
        for t_index, topic in enumerate(topics):
            for term_index, term in enumerate(topic.terms.get(language, ())):
                if term.regex is not None:
                    self.regexes.append(_compile_regex(term.regex, t_index, term_index))
                for words in term.phrases:
                    self._add(_Phrase(words, t_index, term_index))
            for negative in topic.negative.get(language, ()):
                if negative.regex is not None:
                    self.regexes.append(_compile_regex(negative.regex, t_index, -1))
                elif negative.phrase is not None:
                    self._add(_Phrase(negative.phrase, t_index, -1))
        # Off-topic vocabulary is matched like one more topic, at index len(topics).
        for term_index, term in enumerate(taxonomy.off_topic.get(language, ())):
            if term.regex is not None:
                self.regexes.append(_compile_regex(term.regex, len(topics), term_index))
            for words in term.phrases:
                self._add(_Phrase(words, len(topics), term_index))
        self.exact = dict(self.exact)
        self.prefix = dict(self.prefix)
        # Longest prefixes first so candidate order is stable; order does not change results.
        self.prefix_lengths = sorted({len(p) for p in self.prefix}, reverse=True)
        # The first letters of every prefix, as many as the shortest has: a word whose own first
        # letters are not among them starts no prefix phrase, so most words are rejected with one
        # set lookup instead of one slice and lookup per prefix length.
        self._head_length = self.prefix_lengths[-1] if self.prefix_lengths else 0
        self._prefix_heads = {p[: self._head_length] for p in self.prefix}
        self._cache: dict[str, _Plan | None] = {}

    def _add(self, phrase: _Phrase) -> None:
        if self.normalise is not None:
            phrase = replace(phrase, words=self.normalise.phrase(phrase.words))
        first, is_prefix = phrase.words[0]
        if len(phrase.words) > 1:
            second, second_is_prefix = phrase.words[1]
            phrase = _Phrase(phrase.words, phrase.topic, phrase.term, second, second_is_prefix)
        (self.prefix if is_prefix else self.exact)[first].append(phrase)

    def candidates(self, word: str) -> tuple[_Phrase, ...]:
        """Every phrase whose first word matches `word` (exactly or as a prefix)."""
        result = list(self.exact.get(word, ()))
        if word[: self._head_length] in self._prefix_heads:
            for length in self.prefix_lengths:
                if length <= len(word):
                    result.extend(self.prefix.get(word[:length], ()))
        return tuple(result)

    def plan(self, word: str) -> _Plan | None:
        """The phrases `word` starts, arranged for `scan` (see `_Plan`), cached per word."""
        found = self._cache.get(word, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        found_phrases = self.candidates(word)
        if not found_phrases:  # most words: nothing to arrange
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = None
            return None
        singles: list[tuple[int, int]] = []
        exact_next: dict[str, list[_Tail]] = defaultdict(list)
        prefix_next: dict[str, list[_Tail]] = defaultdict(list)
        for phrase in found_phrases:
            if len(phrase.words) == 1:
                singles.append((phrase.topic, phrase.term))
                continue
            tail = (phrase.topic, phrase.term, phrase.words[2:])
            (prefix_next if phrase.second_is_prefix else exact_next)[phrase.second].append(tail)
        plan: _Plan | None = None
        if singles or exact_next or prefix_next:
            plan = (
                tuple(singles),
                {second: tuple(tails) for second, tails in exact_next.items()},
                tuple((second, tuple(tails)) for second, tails in prefix_next.items()),
            )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = plan
        return plan

    def scan(self, text: str) -> _Scan:
        """Find occurrences in one text segment.

        Returns term occurrences per topic as (start, -end, term) word spans (see `_Occurrence`),
        negative spans per topic as (start, end), the number of words and the lower-cased words.
        """
        lowered = text.lower()
        # With a normaliser (morph.py): one normal form per word, so positions stay the text's; and
        # the regex directly, since those texts are mostly non-ASCII letters that `_words` would
        # only scan for first.
        words = _words(lowered) if self.normalise is None else self.normalise(_WORD.findall(lowered))
        occurrences: dict[int, list[_Occurrence]] = defaultdict(list)
        negatives: dict[int, list[tuple[int, int]]] = defaultdict(list)
        n_words = len(words)
        last = n_words - 1
        # The per-word loop runs in C: map() looks every word up in the cache and compress() keeps
        # the positions of words that start some phrase (a few dozen per article) or were never
        # seen (_UNKNOWN); only those are visited in Python. The order of collection does not
        # matter: `_resolve` sorts.
        found_at = list(map(self._cache.get, words, repeat(_UNKNOWN)))
        for i in compress(range(n_words), found_at):
            plan = found_at[i]
            if plan is _UNKNOWN:
                plan = self.plan(words[i])
            if plan is None:
                continue
            singles, exact_next, prefix_next = plan
            for topic, term in singles:
                if term < 0:
                    negatives[topic].append((i, i + 1))
                else:
                    occurrences[topic].append((i, -i - 1, term))
            if i == last:
                continue
            following = words[i + 1]
            tails = exact_next.get(following)
            if tails is not None:
                _add_tails(tails, words, i, occurrences, negatives)
            for second, tails in prefix_next:
                if following.startswith(second):
                    _add_tails(tails, words, i, occurrences, negatives)
        if self.regexes:
            self._scan_regexes(lowered, occurrences, negatives)
        return occurrences, negatives, n_words, words

    def _scan_regexes(
        self,
        lowered: str,
        occurrences: dict[int, list[_Occurrence]],
        negatives: dict[int, list[tuple[int, int]]],
    ) -> None:
        # Regex hits are converted to word spans so that they take part in the same overlap and
        # negative-context rules as phrases.
        # A text in plain ASCII cannot hold a case-fold alias (str.isascii is O(1)).
        aliases = not lowered.isascii() and any(alias in lowered for alias in _CASE_FOLD_ALIASES)
        for rx in self.regexes:
            if rx.literal and not aliases:
                if rx.literal not in lowered:
                    continue
                matches = _literal_matches(rx, lowered) if rx.leading else rx.pattern.finditer(lowered)
            else:
                matches = rx.pattern.finditer(lowered)
            for match in matches:
                if match.end() == match.start():
                    continue
                first, last = _word_span(lowered, match.start(), match.end())
                if last <= first:
                    continue
                if rx.term < 0:
                    negatives[rx.topic].append((first, last))
                else:
                    occurrences[rx.topic].append((first, -last, rx.term))


def _literal_matches(rx: _Regex, lowered: str) -> Iterator[re.Match[str]]:
    """What `rx.pattern.finditer(lowered)` yields, for a regex whose matches all start with its
    literal: the regex is tried only where the literal occurs. Same matches, because finditer takes
    the leftmost match at or after the end of the previous one, and that can only start at a place
    where the literal is."""
    pos = 0
    while (found := lowered.find(rx.literal, pos)) >= 0:
        match = rx.pattern.match(lowered, found)
        if match is None:
            pos = found + 1
            continue
        yield match
        # An empty match cannot occur (every match holds the literal), so finditer resumes here.
        pos = match.end()


def _word_span(lowered: str, start: int, end: int) -> tuple[int, int]:
    """The words [first, last) that the characters [start, end) touch, as bisecting the `\\w+`
    spans would give them: first = words ending at or before `start`, last = words beginning
    before `end`. Counted on prefixes only when a regex matched (rare), never for every article."""
    first = len(_words(lowered[:start]))
    if 0 < start < len(lowered) and _TWO_WORD_CHARS.match(lowered, start - 1):
        first -= 1  # the last counted word runs on past `start`
    return first, len(_words(lowered[:end]))


def _words(lowered: str) -> list[str]:
    """The `\\w+` words of a text, as `_WORD.findall` gives them (tokenising was the main cost)."""
    if not lowered.isascii():
        # Typographic quotes and dashes separate words like blanks; a text with non-ASCII letters
        # (a name such as "Müller") goes to the regex.
        for char in set(_NON_ASCII.findall(lowered)):
            if _WORD.match(char):
                return _WORD.findall(lowered)
            lowered = lowered.replace(char, " ")
    return lowered.encode("ascii").translate(_ASCII_WORD_TABLE).decode("ascii").split()


def _add_tails(
    tails: tuple[_Tail, ...],
    words: list[str],
    start: int,
    occurrences: dict[int, list[_Occurrence]],
    negatives: dict[int, list[tuple[int, int]]],
) -> None:
    """Record the phrases (first two words already matched at `start`) whose remaining words follow."""
    for topic, term, rest in tails:
        end = start + 2
        if rest:
            end += len(rest)
            if end > len(words) or not _follows(rest, words, start + 2):
                continue
        if term < 0:
            negatives[topic].append((start, end))
        else:
            occurrences[topic].append((start, -end, term))


def _follows(rest: tuple[_Word, ...], words: list[str], at: int) -> bool:
    for offset, (text, is_prefix) in enumerate(rest, at):
        word = words[offset]
        if word != text and not (is_prefix and word.startswith(text)):
            return False
    return True


def _resolve(
    occurrences: list[_Occurrence], negatives: list[tuple[int, int]]
) -> dict[int, list[tuple[int, int]]]:
    """Leftmost-longest non-overlapping occurrences minus those touched by negative context.

    Returns term index -> its occurrences as word spans [start, end), in text order.
    """
    kept: dict[int, list[tuple[int, int]]] = {}
    covered_until = 0
    for start, neg_end, term in sorted(occurrences):
        if start < covered_until:
            continue
        covered_until = end = -neg_end
        if negatives and any(n_start < end and start < n_end for n_start, n_end in negatives):
            continue
        kept.setdefault(term, []).append((start, end))
    return kept


def _char_spans(text: str, needed: set[int]) -> dict[int, tuple[int, int]]:
    """The characters [start, end) in `text` of the words `needed` (indices of the `\\w+` words
    `scan` counted). Only for topics that fired, and only their words: the tokeniser in `scan` keeps
    no positions because that was its main cost, and one regex pass skipping to each needed word
    (islice, in C) costs a fraction of collecting every word's span."""
    lowered = text.lower()
    words = _WORD.finditer(lowered)
    spans: dict[int, tuple[int, int]] = {}
    previous = -1
    for index in sorted(needed):
        match = next(islice(words, index - previous - 1, None))
        spans[index] = match.span()
        previous = index
    if len(lowered) != len(text):
        # A few letters lower-case to two characters ("İ" -> "i̇"): map positions in the lower-cased
        # text back to the original through the length of each original character's lower case.
        ends = list(accumulate(len(c.lower()) for c in text))
        spans = {i: (bisect_right(ends, s), bisect_left(ends, e) + 1) for i, (s, e) in spans.items()}
    return spans


def _edge_words(kept: Iterable[_Kept]) -> set[int]:
    """The first and last word of every kept occurrence: all that positions are needed for."""
    return {w for found in kept for spans in found.values() for a, b in spans for w in (a, b - 1)}


def _forms(spans: list[tuple[str, int, int]], title: str, text: str) -> tuple[tuple[str, int], ...]:
    """The words as written for these spans, with counts, most frequent first: one entry per word
    ignoring case and spacing ("Heroin" and "heroin" are one), shown in its most frequent spelling."""
    groups: dict[str, dict[str, int]] = {}
    for zone, start, end in spans:
        written = " ".join((title if zone == "title" else text)[start:end].split())
        spellings = groups.setdefault(written.lower(), {})
        spellings[written] = spellings.get(written, 0) + 1
    # max() keeps the first of equal counts, i.e. the spelling seen first; sorted() is stable.
    found = [(max(sp, key=sp.__getitem__), sum(sp.values())) for sp in groups.values()]
    return tuple(sorted(found, key=lambda wn: -wn[1]))


@dataclass(frozen=True)
class Candidate:
    """A topic with at least one term in the article: its score, the score over its (length- and
    off-topic-adjusted) threshold, whether the rules alone fire it, and its term occurrences."""

    topic: Topic
    terms: tuple[Term, ...]
    score: float
    ratio: float
    fired: bool
    scored: list[tuple[float, int, int, int]]  # (contribution, term index, in title, in body)
    title_counts: _Kept
    body_counts: _Kept


@dataclass(frozen=True)
class Scored:
    """What the rules found in one article (`Classifier.score`)."""

    candidates: list[Candidate]
    off_score: float
    n_words: int
    title_words: list[str]
    body_words: list[str]


class Classifier:
    """Tags articles with taxonomy topics; build it once, call `classify` many times."""

    def __init__(self, taxonomy: Taxonomy, learned: LearnedModel | None = None) -> None:
        self.taxonomy = taxonomy
        # The statistical layer on top of the rules (`learned.py`); None = the rules alone decide.
        self.learned = learned
        # Version = the taxonomy's own version plus a short hash of its exact content, so stored
        # results say precisely which rules produced them even when someone forgot to bump it.
        self.version = f"{taxonomy.version}+{taxonomy.content_hash[:8]}"
        if learned is not None:
            self.version += f"+m{learned.file_hash[:8]}"
        self._topics = taxonomy.topics
        # The learned layer was trained for the main taxonomy file (its version and hash; English
        # news): an article in a language merged from its own file is decided by the rules alone,
        # since the model's word and term weights mean nothing there and would veto its tags.
        self.learned_languages = taxonomy.languages - frozenset(taxonomy.language_files)
        self._matchers = {lang: _LanguageMatcher(taxonomy, lang) for lang in sorted(taxonomy.languages)}

    def _matcher(self, language: str | None) -> _LanguageMatcher | None:
        """The matcher of the article's language; the default language's when it was not detected
        (too short to tell); None for a language the taxonomy has no terms in. Reading, say, Kazakh
        with English terms would catch only loanwords (NATO, ISIS) and make silence look like "no
        security news": such an article gets no topics, and the page and the digest say why."""
        if not language:
            return self._matchers[self.taxonomy.default_language]
        primary = language.strip().lower().replace("_", "-").split("-")[0]
        return self._matchers.get(primary)

    def covers(self, language: str | None) -> bool:
        """Whether articles in `language` are read for topics (see `_matcher`)."""
        return self._matcher(language) is not None

    def cache_state(self) -> dict[str, dict[str, _Plan | None]]:
        """Copies of the per-word candidate caches, per language (for benchmarks)."""
        return {lang: dict(m._cache) for lang, m in self._matchers.items()}

    def restore_cache_state(self, state: dict[str, dict[str, _Plan | None]] | None) -> None:
        """Puts caches back as `cache_state` returned them (copied); None empties them."""
        for lang, matcher in self._matchers.items():
            matcher._cache = dict((state or {}).get(lang, {}))

    def score(self, title: str, text: str, language: str | None = None) -> Scored:
        """Every topic with a term in the article, scored against its threshold (fired or not), and
        what the learned layer reads besides (off-topic score, length, the words)."""
        matcher = self._matcher(language)
        if matcher is None:
            return Scored([], 0.0, 0, [], [])
        title_occ, title_neg, _, title_words = matcher.scan(title) if title else _EMPTY_SCAN
        body_occ, body_neg, n_words, body_words = matcher.scan(text) if text else _EMPTY_SCAN
        off_index = len(self._topics)
        off_terms = self.taxonomy.off_topic.get(matcher.language, ())
        off_score = sum(
            off_terms[term].weight * saturation(len(found))
            for term, found in _resolve(body_occ.get(off_index, []), []).items()
        )
        factor = length_factor(n_words) * (1.0 + off_score / OFF_TOPIC_SCALE)
        candidates: list[Candidate] = []
        for t_index in sorted((set(title_occ) | set(body_occ)) - {off_index}):
            topic = self._topics[t_index]
            title_counts = _resolve(title_occ.get(t_index, []), title_neg.get(t_index, []))
            body_counts = _resolve(body_occ.get(t_index, []), body_neg.get(t_index, []))
            if not title_counts and not body_counts:
                continue
            terms = topic.terms.get(matcher.language, ())
            scored: list[tuple[float, int, int, int]] = []
            for term_index in sorted(set(title_counts) | set(body_counts)):
                in_title = len(title_counts.get(term_index, ()))
                in_body = len(body_counts.get(term_index, ()))
                contribution = terms[term_index].weight * saturation(in_body + TITLE_FACTOR * in_title)
                scored.append((contribution, term_index, in_title, in_body))
            score = round(sum(c for c, *_ in scored), 3)
            needed = topic.threshold * factor
            candidates.append(
                Candidate(
                    topic, terms, score, score / needed, score >= needed, scored, title_counts, body_counts
                )
            )
        return Scored(candidates, off_score, n_words, title_words, body_words)

    def classify(self, title: str, text: str, language: str | None = None) -> list[TopicHit]:
        """Topics that apply, best first, each with its evidence: those whose score reaches their
        threshold, or, with a learned layer, those it keeps or adds (`learned.LearnedModel.choose`)."""
        matcher = self._matcher(language)
        if matcher is None:
            return []  # not read in this language (the learned layer knows no more of it)
        scored = self.score(title, text, language)
        if self.learned is None or matcher.language not in self.learned_languages:
            chosen: list[tuple[Candidate, Evidence | None]] = [
                (c, None) for c in scored.candidates if c.fired
            ]
        else:
            chosen = self.learned.choose(scored)
        if not chosen:
            return []
        # Positions only of the words of topics that apply (a few per article), in one pass per zone.
        title_words = _char_spans(title, _edge_words(c.title_counts for c, _ in chosen))
        body_words = _char_spans(text, _edge_words(c.body_counts for c, _ in chosen))
        hits: list[TopicHit] = []
        for cand, extra in chosen:
            terms = cand.terms
            evidence: list[tuple[float, Evidence]] = []
            for contribution, term_index, in_title, in_body in cand.scored:
                term = terms[term_index]
                spans = [
                    ("title", title_words[a][0], title_words[b - 1][1])
                    for a, b in cand.title_counts.get(term_index, ())
                ] + [
                    ("text", body_words[a][0], body_words[b - 1][1])
                    for a, b in cand.body_counts.get(term_index, ())
                ]
                evidence.append(
                    (
                        contribution,
                        Evidence(
                            term=term.term,
                            count=in_title + in_body,
                            weight=term.weight,
                            forms=_forms(spans, title, text),
                            spans=tuple(spans),
                        ),
                    )
                )
            evidence.sort(key=lambda item: (-item[0], item[1].term))
            found = [e for _, e in evidence]
            if extra is not None:
                found.append(extra)  # the words the model weighed, after the terms
            hits.append(
                TopicHit(topic_id=cand.topic.id, label=cand.topic.label, score=cand.score, evidence=found)
            )
        hits.sort(key=lambda hit: (-hit.score, hit.topic_id))
        return hits


def default_taxonomy_text() -> str:
    """The packaged security taxonomy, read through importlib.resources (works from a wheel)."""
    resource = importlib.resources.files("monitor.classify").joinpath("taxonomies", "security.yaml")
    return resource.read_text(encoding="utf-8")


_TAXONOMY_FILE = "security.yaml"


def load_packaged_taxonomy() -> Taxonomy:
    """The packaged security taxonomy with every language file beside it (`security.<lang>.yaml`):
    adding a language is adding a file."""
    folder = importlib.resources.files("monitor.classify").joinpath("taxonomies")
    where = "monitor/classify/taxonomies/"
    base = parse_taxonomy(default_taxonomy_text(), source=where + _TAXONOMY_FILE)
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if language_file_of(_TAXONOMY_FILE, entry.name)
    )
    return merge_language_files(base, [(text, where + name) for name, text in files])


def load_classifier(*, learned: bool = True) -> Classifier:
    """The classifier for the packaged security taxonomy with the packaged learned layer (the rules
    alone when `learned` is False, or, said in a warning, when the model file is missing or was
    trained for other rules); a new one each call (the caller keeps it: `analyze.Models`)."""
    taxonomy = load_packaged_taxonomy()
    if not learned:
        return Classifier(taxonomy)
    from monitor.classify.learned import load_packaged_model

    return Classifier(taxonomy, load_packaged_model(taxonomy))
