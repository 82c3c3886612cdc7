"""Russian word forms for entity matching: the lemma of a word ("Казахстана" -> "казахстан") from
pymorphy3 with the OpenCorpora dictionary, and the nominative of a name ("Абыкаева" -> "Абыкаев").

pymorphy3 knows the countries, cities and common given names and surnames of its dictionary; for
names it does not know (most Central Asian surnames) it guesses by suffix, and the guess may be a
feminine given name ("Абыкаева"), so surnames of the common -ов/-ев/-ин/-ский patterns are
normalised by their endings first, and the dictionary is asked only for known words.
"""

from __future__ import annotations

import functools
import re

import pymorphy3


@functools.cache
def _analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()  # ~0.1 s, once per process


@functools.lru_cache(maxsize=200_000)  # news vocabulary is small: nearly every word is a hit
def lemma(word: str) -> str:
    """The lower-case lemma of a word's most probable parse, "ё" folded to "е"."""
    low = word.lower().replace("ё", "е")
    if not low.isalpha() and "-" not in low:
        return low
    return _analyzer().parse(low)[0].normal_form.replace("ё", "е")


# Case endings of surnames -> the masculine nominative ending, longest first. A feminine surname
# ("Захарова") is read as the masculine one only in oblique cases; see `surname_nominative`.
_SURNAME_ENDINGS = [
    (re.compile(r"(ск|цк)(ого|ому|им|ом)$"), r"\1ий"),
    (re.compile(r"(ов|ев|ёв|ин|ын)(а|у|ым|ом|е)$"), r"\1"),
]
_FEMININE_SURNAME = [
    (re.compile(r"(ск|цк)(ой|ую)$"), r"\1ая"),
    (re.compile(r"(ов|ев|ёв|ин|ын)(ой|у)$"), r"\1а"),
]


def is_feminine_given_name(word: str) -> bool:
    """Whether the dictionary knows `word` as a form of a feminine given name ("Марии")."""
    parses = _analyzer().parse(word.lower())
    return any("Name" in p.tag and "femn" in p.tag and p.is_known for p in parses[:2])


def surname_nominative(word: str, feminine: bool = False) -> str:
    """The nominative of a surname as written: "Абыкаева", "Абыкаеву" -> "Абыкаев"; "Зеленского" ->
    "Зеленский"; with `feminine` (the given name next to it is a woman's) "Захаровой" -> "Захарова".
    Other words: the dictionary's surname lemma when it has one ("Шойгу" stays), else as written."""
    for pattern, repl in _FEMININE_SURNAME if feminine else _SURNAME_ENDINGS:
        if pattern.search(word):
            return pattern.sub(repl, word)
    if feminine:
        return word
    for p in _analyzer().parse(word.lower())[:3]:
        if "Surn" in p.tag and p.is_known:
            return _cased(p.normal_form, word)
    return word


# A given name pymorphy3 does not know, in an oblique case of the masculine -й declension
# ("Нуртая", "Нуртаю", "Нуртаем") or with a masculine instrumental ending ("Нурсултаном").
_GIVEN_ENDINGS = [
    (re.compile(r"([аеоу])(я|ю|ем|е)$"), r"\1й"),
    (re.compile(r"([бвгджзклмнпрстфхцчшщ])(ом|ым)$"), r"\1"),
]


def given_nominative(word: str) -> str:
    """The nominative of a given name: the dictionary's lemma of a known name ("Сергея" ->
    "Сергей"), a few unambiguous endings of unknown ones ("Нуртая" -> "Нуртай"), else as written."""
    for p in _analyzer().parse(word.lower())[:3]:
        if "Name" in p.tag and p.is_known:
            return _cased(p.normal_form, word)
    if not _analyzer().word_is_known(word.lower()):
        for pattern, repl in _GIVEN_ENDINGS:
            if pattern.search(word):
                return pattern.sub(repl, word)
    return word


def name_tags(word: str) -> frozenset[str]:
    """Which of Name (given name), Surn, Patr the dictionary gives a known word, in its two most
    probable parses."""
    out: set[str] = set()
    for p in _analyzer().parse(word.lower())[:2]:
        if p.is_known:
            out.update(t for t in ("Name", "Surn", "Patr") if t in p.tag)
    return frozenset(out)


def _cased(lemma_: str, like: str) -> str:
    return (
        "-".join(part[:1].upper() + part[1:] for part in lemma_.split("-")) if like[:1].isupper() else lemma_
    )
