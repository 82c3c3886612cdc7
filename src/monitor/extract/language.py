"""Language identification (ISO 639-1) with py3langid, on a bounded sample so it stays fast.

Most articles are plainly English, and for those py3langid's pure-Python byte walk (~0.5 ms on a
500-character sample, over ~40 MB of tables that also push the other stages out of the CPU cache) is
spent confirming the obvious. `detect_language` therefore answers "en" directly when the sample's
own words leave no doubt (see `_plainly_english`) and asks py3langid otherwise.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.cache import cached_pickle

logger = logging.getLogger(__name__)

# py3langid's cost is linear in the input (a pure-Python walk over the UTF-8 bytes, ~0.5 µs per
# byte). Measured on the 2017 news corpus plus the classify dev set (9,678 texts): 500 characters
# give the same language as 1,000 for every text and halve the cost; 300 changed one (en -> es).
SAMPLE_CHARS = 500
# Fewer letters than this and the n-gram model guesses (a headline fragment, a date line).
MIN_LETTERS = 20

# The English fast path. Function words that are frequent in English and are not common words of
# other languages written in Latin script: "to" (Polish, Czech), "is", "of" and "was" (Dutch),
# "will" and "was" (German), "for" (Danish, Norwegian), "he" (Spanish), "in", "a", "an" and "on"
# are left out on purpose.
_ENGLISH_FUNCTION_WORDS_TEXT = """the and that with are were have has had been this which from it its his they
their said would not but be who"""
ENGLISH_FUNCTION_WORDS = frozenset(_ENGLISH_FUNCTION_WORDS_TEXT.split())
# Measured on the 9,678 corpus and dev texts and on 560 texts in 20 other languages (Airflow's UI
# translations, rich in English technical words): English news reaches 0.24 (median), at least 0.08
# for 95 % of the texts; no text in another language went above 0.053 (Dutch, Turkish). Among the
# texts the fast path takes, py3langid's score for English beats every other language by at least
# 14 nats (log-probability), so it would have said "en" for each of them; the short texts it calls
# "pcm", "la" or "sn" all have fewer than FAST_MIN_WORDS words.
FAST_MIN_RATIO = 0.08
FAST_MIN_WORDS = 20
# A headline alone is too short for the n-gram model: it calls "Gunmen attack border post" Swedish
# and "Week in Pictures: From Dakota pipeline to Somalia blast" Nigerian Pidgin (English second, 2.2
# and 10.9 nats behind). Since a language the taxonomy does not cover gets no topics, a short sample
# is called English when English is within this many nats of the best guess; genuinely foreign
# headlines are far from it ("Attentat à Paris: trois morts": fr, English not in the top 3; Cyrillic
# and other scripts: hundreds of nats).
SHORT_ENGLISH_MARGIN = 12.0
# Words that are not pure ASCII (accents, other scripts) may be at most this share of the sample.
FAST_MAX_NON_ASCII = 0.05
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")

# Counting and splitting the ASCII part of a sample with bytes.translate (all in C, no per-character
# Python objects): in ASCII, str.isalpha is exactly A-Z and a-z, str.isupper exactly A-Z, and the
# letter runs of `_LETTER_RUN_RE` in lower-cased text are the runs of a-z.
_ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_NOT_LETTER = bytes(c for c in range(256) if c not in _ASCII_LETTERS)
_NOT_UPPER = bytes(c for c in range(256) if not ord("A") <= c <= ord("Z"))
_LOWER_LETTERS_ELSE_BLANK = bytes(
    c | 0x20 if c in _ASCII_LETTERS else 32 for c in range(256)
)  # A-Z -> a-z (bit 0x20), a-z kept, everything else a blank


class LanguageDetector:
    """py3langid's model behind the English fast path, loaded on first need and then kept.

    One per process, built at the edge (`analyze.Models`) and passed down. Loading the model takes
    ~0.85 s (an LZMA-compressed npz; ~0.2 s from the pickle in `cache_dir`): lazily, so runs that
    only meet plainly English text never pay it, and under a lock, so threads load it once.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._identifier: LanguageIdentifier | None = None
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Loads the model now: before forking workers, so they share it instead of each loading it."""
        self._model()

    def _model(self) -> LanguageIdentifier:
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    self._identifier = _load_identifier(self._cache_dir)
        return self._identifier

    def __call__(self, text: str) -> str | None:
        return detect_language(text, self)

    def classify(self, sample: str, prefer: str | None = None) -> str:
        """The model's language for `sample`; `prefer` instead when its score is within
        SHORT_ENGLISH_MARGIN of the best (for samples too short to tell close languages apart)."""
        if prefer is None:
            language, _score = self._model().classify(sample)
            return str(language)
        ranked = self._model().rank(sample)
        best, best_score = ranked[0]
        preferred = next((score for language, score in ranked if language == prefer), None)
        if preferred is not None and best_score - preferred <= SHORT_ENGLISH_MARGIN:
            return prefer
        return str(best)

    def __getstate__(self) -> dict[str, object]:
        # A lock cannot be pickled; a copy in another process starts with its own.
        return {"_cache_dir": self._cache_dir, "_identifier": self._identifier}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _load_identifier(cache_dir: Path | None) -> LanguageIdentifier:
    """The py3langid model, from an uncompressed pickle in `cache_dir` when there is one (~0.2 s
    instead of ~0.85 s). The file name carries the py3langid version, so an upgrade unpacks anew."""
    import importlib.metadata

    return cached_pickle(
        cache_dir,
        f"py3langid-{importlib.metadata.version('py3langid')}.pickle",
        lambda: LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False),
        LanguageIdentifier,
    )


def _sample(text: str) -> str:
    if len(text) <= SAMPLE_CHARS:
        return text
    cut = text.rfind(" ", SAMPLE_CHARS // 2, SAMPLE_CHARS)
    # Cut at a word boundary so a half word does not add misleading n-grams.
    return text[: cut if cut > 0 else SAMPLE_CHARS]


def _count_letters(sample: str) -> tuple[int, int]:
    """sum(map(str.isalpha, sample)) and sum(map(str.isupper, sample)), with the ASCII characters
    (nearly all of them in most news) counted by bytes.translate and only the others one by one."""
    ascii_part = sample.encode("ascii", "ignore")
    letters = len(ascii_part.translate(None, _NOT_LETTER))
    upper = len(ascii_part.translate(None, _NOT_UPPER))
    if len(ascii_part) < len(sample):
        others = _NON_ASCII_RE.findall(sample)
        letters += sum(map(str.isalpha, others))
        upper += sum(map(str.isupper, others))
    return letters, upper


def _plainly_english(sample: str) -> bool:
    """Whether the sample is English beyond doubt: enough words, nearly all in ASCII, and at least
    FAST_MIN_RATIO of them English function words (C-speed: one regex, map() over a frozenset)."""
    if sample.isascii():
        words = sample.encode("ascii").translate(_LOWER_LETTERS_ELSE_BLANK).decode("ascii").split()
    else:
        words = _LETTER_RUN_RE.findall(sample.lower())
    n = len(words)
    if n < FAST_MIN_WORDS:
        return False
    if not sample.isascii() and n - sum(map(str.isascii, words)) > FAST_MAX_NON_ASCII * n:
        return False
    return sum(map(ENGLISH_FUNCTION_WORDS.__contains__, words)) >= FAST_MIN_RATIO * n


def detect_language(text: str, detector: LanguageDetector) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short to judge. Plainly
    English text is answered without the model; everything else goes to `detector`."""
    sample = _sample(text)
    letters, upper = _count_letters(sample)
    if letters < MIN_LETTERS:
        return None
    # The model was trained on ordinary casing; SHOUTED TEXT otherwise scores as odd languages.
    if upper > letters // 2:
        sample = sample.lower()
    if _plainly_english(sample):
        return "en"
    short = len(_LETTER_RUN_RE.findall(sample)) < FAST_MIN_WORDS
    return detector.classify(sample, prefer="en" if short else None)
