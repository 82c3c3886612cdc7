"""Per-language word normalisers: the same function maps taxonomy words (at compile time) and the
words of a text (at match time) to one form, so that inflected forms match their term.

Why per language, and why these:

* English: none. Its terms are written with `*` prefixes and plural variants, tuned on the dev set;
  it keeps exactly the matching it had (`normaliser("en")` is None and rules.py skips the step).
* Russian: lemmas from pymorphy3 with the OpenCorpora dictionary (pymorphy3-dicts-ru). Russian
  nouns and adjectives have a dozen case forms and stems alternate ("боец" / "бойца",
  "вооружённый" / "вооружённого"), which a suffix stemmer does not undo; a dictionary lemma does,
  and it is a real word the analyst can read and write as the term. The most probable parse is
  taken (no context disambiguation): the same surface word always gets the same lemma, so a term
  written in any form matches that form in a text, and the other forms whenever the parser puts
  them under the same lemma. "ё" is folded to "е" (news writes both).
* Other languages with a Snowball stemmer (French, Spanish, German, ...): snowballstemmer stems.
  It is pure Python with no data files (a lemmatiser such as simplemma ships tens of MB of tables
  per language), the stems are applied to both sides so their being non-words does not matter, and
  inflection there is mostly suffixes that Snowball was written for.

A normaliser maps a list of words to a list of the same length (positions stay those of the text,
so the evidence still shows the words as written). Prefix words of the taxonomy (`terroris*`) are
not normalised, only case-folded like the text (`fold`): they are matched against the normalised
words, so they should be written as the start of a lemma (Russian) or a stem.
Results are cached per word: news vocabulary is small, so after a few articles nearly every word is
a dict lookup (done in C by `map`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache

# Bounded like the matcher's own cache (rules._CACHE_LIMIT): never reached by news vocabulary.
_CACHE_LIMIT = 200_000

# ISO 639-1 -> the Snowball algorithm name (snowballstemmer.algorithms()).
SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "sr": "serbian",
    "sv": "swedish",
    "tr": "turkish",
}
# Languages that match words as written (their taxonomy terms carry their own `*` and variants).
AS_WRITTEN = frozenset({"en"})


class Normaliser:
    """A cached word -> normal form mapping for one language."""

    def __init__(self, language: str, one: Callable[[str], str], fold: Callable[[str], str]) -> None:
        self.language = language
        self._one = one
        self.fold = fold  # what prefix words of the taxonomy get (case and letter folding only)
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()  # the parsers are not documented as thread-safe

    def word(self, word: str) -> str:
        found = self._cache.get(word)
        if found is None:
            with self._lock:
                found = self._one(word)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = found
        return found

    def __call__(self, words: list[str]) -> list[str]:
        """The normal forms of lower-cased `words`, one per word."""
        found = list(map(self._cache.get, words))
        if None in found:
            found = [w if w is not None else self.word(words[i]) for i, w in enumerate(found)]
        return found  # type: ignore[return-value]  # no None left

    def phrase(self, words: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
        """A taxonomy phrase: exact words normalised, prefix words folded."""
        return tuple((self.fold(w) if is_prefix else self.word(w), is_prefix) for w, is_prefix in words)


def _fold_yo(word: str) -> str:
    return word.replace("ё", "е")


def _russian() -> Normaliser:
    import pymorphy3

    analyzer = pymorphy3.MorphAnalyzer(lang="ru")

    def lemma(word: str) -> str:
        parses = analyzer.parse(word)
        return _fold_yo(parses[0].normal_form if parses else word)

    return Normaliser("ru", lemma, _fold_yo)


def _snowball(language: str, algorithm: str) -> Normaliser:
    import snowballstemmer

    stemmer = snowballstemmer.stemmer(algorithm)
    return Normaliser(language, stemmer.stemWord, lambda w: w)


@cache
def normaliser(language: str) -> Normaliser | None:
    """The normaliser for `language` (ISO 639-1), or None when its words are matched as written.

    One per language and process: the Russian dictionary takes ~60 ms and ~15 MB to open, and the
    per-word cache is worth sharing between the classifiers of one process."""
    if language in AS_WRITTEN:
        return None
    if language == "ru":
        return _russian()
    algorithm = SNOWBALL.get(language)
    if algorithm:
        return _snowball(language, algorithm)
    return None
