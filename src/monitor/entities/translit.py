"""Cyrillic names in the Latin spelling of English-language news, so that "Нуртай Абыкаев" and
"Nurtai Abykayev" get one person id.

The rules are BGN/PCGN-like where English media follow it (х kh, ж zh, ц ts, ч ch, ш sh, щ shch,
ю yu, я ya, ы y; е and ё after a vowel, a soft sign or word-initially ye / yo: Tokayev, Yevgeny,
Mirziyoyev) and follow the media where they part from it: й after a vowel is "i" (Sergei, Nikolai,
Shoigu, Nurtai), except "oy" at a word's end (Donskoy); -ий / -ый at a word's end are "y" (Dmitry,
Zelensky, Grozny); ё after ж ч ш щ is "e" (Gorbachev). Names whose English spelling is a
convention of its own (Alexander, Rahmon, Kassym-Jomart) come from data/person_latin.ru.tsv.
Letters of the other Cyrillic alphabets (Kazakh қ ғ ә ө ұ ү, Tajik ҳ ҷ ӣ ӯ, Ukrainian є ї і)
have their usual romanisation here; anything left goes through anyascii, which romanises every
script with no data download (cyrtranslit knows only some alphabets and writes Russian х as "h").
"""

from __future__ import annotations

import functools
from importlib import resources

from anyascii import anyascii

_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Kazakh, Kyrgyz, Uzbek, Tajik, Ukrainian, Belarusian.
    "ә": "a", "ғ": "gh", "қ": "k", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
    "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u", "ў": "u", "є": "ye", "ї": "yi", "ґ": "g",
}  # fmt: skip
_VOWELS = frozenset("аеёиоуыэюяәөұүіӣӯєї")
_SOFTENERS = frozenset("ьъ")
_HUSHING = frozenset("жчшщ")


@functools.cache
def _exceptions() -> dict[str, str]:
    text = resources.files("monitor.entities").joinpath("data", "person_latin.ru.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {cyr.lower(): latin for cyr, latin in rows}


def _word(word: str) -> str:
    low = word.lower()
    known = _exceptions().get(low)
    if known is not None:
        return known
    out: list[str] = []
    n = len(low)
    for i, c in enumerate(low):
        prev = low[i - 1] if i else ""
        nxt = low[i + 1] if i + 1 < n else ""
        if c in "еёє" and (not prev or prev in _VOWELS or prev in _SOFTENERS):
            out.append({"е": "ye", "ё": "yo", "є": "ye"}[c])
        elif c == "ё" and prev in _HUSHING:
            out.append("e")
        elif c == "и" and prev in _SOFTENERS:
            out.append("yi")  # Ильин -> Ilyin
        elif c == "й":
            if prev in "иы" and not nxt:
                out[-1] = "y"  # -ий, -ый: Dmitry, Zelensky
            elif prev == "о" and not nxt:
                out.append("y")  # Donskoy
            elif prev in _VOWELS and nxt not in _VOWELS:
                out.append("i")  # Sergei, Shoigu, Nurtai
            else:
                out.append("y")
        elif c in _LETTERS:
            out.append(_LETTERS[c])
        else:
            out.append(anyascii(c))
    latin = "".join(out)
    return latin[:1].upper() + latin[1:] if word[:1].isupper() else latin


@functools.lru_cache(maxsize=65536)  # names repeat across articles
def to_latin(name: str) -> str:
    """The Latin spelling of a Cyrillic name: "Нуртай Абыкаев" -> "Nurtai Abykayev"; words of a
    hyphenated name one by one ("Касым-Жомарт" is looked up whole first)."""
    words = []
    for word in name.split(" "):
        if word.lower() in _exceptions() or "-" not in word:
            words.append(_word(word))
        else:
            words.append("-".join(_word(part) for part in word.split("-")))
    return " ".join(words)
