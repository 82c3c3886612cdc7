"""Text normalisation shared by every stage: decoding bytes, whitespace, content hashing.

Pure functions: bytes or text in, text out.
"""

from __future__ import annotations

import codecs
import itertools
import logging
import re
import unicodedata

import charset_normalizer

from monitor.errors import InputError

logger = logging.getLogger(__name__)

# Characters that are invisible but break word matching and hashing ("ter\u200brorism").
# U+00AD (soft hyphen) is included: it only marks a possible hyphenation point.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)
# Every horizontal white space, including NBSP and the typographic spaces, becomes one plain space.
_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")

# Single-byte encodings tried when bytes are not UTF-8, in order of preference for ties: a latin-1
# file decodes identically as cp1252 (which only adds printable characters in 0x80-0x9F), and cp1251
# / koi8-r cover the Cyrillic news we see. charset-normalizer alone misjudges short texts (it calls a
# 20-word cp1251 text cp1250), so its candidates are re-ranked by how plausible the words look.
_PREFERRED_ENCODINGS = ("cp1252", "cp1251", "koi8_r", "cp1250", "iso8859_2", "cp1253", "iso8859_15")
_WORD = re.compile(r"[^\W\d_]+")
# Below this share of plausible letters no decoding is believed (random bytes, wrong family).
_MIN_PLAUSIBILITY = 0.8


def decode_text(data: bytes, name: str) -> tuple[str, str | None]:
    """Decode bytes that should be text; return the text and a problem note (None when clean UTF-8).

    Strict UTF-8 first (a UTF-8 or UTF-16 byte-order mark is honoured). Otherwise the most plausible
    single-byte or multi-byte encoding is chosen and the note says what was wrong and what was used.
    Raises InputError(name, ...) when no decoding yields plausible text.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            raise InputError(name, f"not valid UTF-16 despite its byte-order mark ({exc.reason})") from exc
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        bad_byte = data[exc.start]
        where = f"byte 0x{bad_byte:02x} at offset {exc.start}"
        if exc.reason == "unexpected end of data":
            # Cut inside the last character (a size-capped download, a truncated copy): the rest is
            # fine UTF-8, and any single-byte guess would turn all of it into mojibake.
            kept = data[: exc.start].decode("utf-8-sig")
            return kept, f"not valid UTF-8 ({where}): truncated character dropped"

    damaged = _damaged_utf8(data)
    if damaged is not None:
        repaired, bad = damaged
        return repaired, f"not valid UTF-8 ({where}): {bad} invalid byte(s) read as cp1252"
    guessed, encoding = _guess_encoding(data)
    if guessed is None:
        raise InputError(name, f"not valid UTF-8 ({where}) and no other encoding gives plausible text")
    note = f"not valid UTF-8 ({where}); decoded as {encoding}"
    logger.info("decoded with fallback encoding", extra={"source": name, "encoding": encoding})
    return guessed, note


# UTF-8 with a few bad bytes (a cp1252 "é" pasted into a UTF-8 file, a damaged byte) has many valid
# multi-byte characters per invalid byte; text in a single-byte encoding read as UTF-8 has almost
# none, because its accented letters rarely form valid sequences.
_MIN_VALID_PER_INVALID = 10


def _cp1252_bytes(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: the invalid bytes as cp1252 (what mixed-encoding files nearly always
    hold), U+FFFD for the five bytes cp1252 leaves undefined."""
    assert isinstance(exc, UnicodeDecodeError)
    chunk = exc.object[exc.start : exc.end]
    return chunk.decode("cp1252", errors="replace"), exc.end


codecs.register_error("monitor-cp1252", _cp1252_bytes)


def _damaged_utf8(data: bytes) -> tuple[str, int] | None:
    """(text, invalid bytes) when `data` is UTF-8 with a few bad bytes, else None."""
    strict_parts = data.decode("utf-8-sig", errors="replace")
    bad = strict_parts.count("\ufffd") - data.count("\ufffd".encode())
    valid = sum(1 for c in strict_parts if not c.isascii()) - strict_parts.count("\ufffd")
    if bad > 0 and valid >= _MIN_VALID_PER_INVALID * bad:
        return data.decode("utf-8-sig", errors="monitor-cp1252"), bad
    return None


def _guess_encoding(data: bytes) -> tuple[str | None, str | None]:
    candidates: list[str] = list(_PREFERRED_ENCODINGS)
    # Bound the work: charset-normalizer is slow on large inputs and its top matches are enough.
    for match in list(charset_normalizer.from_bytes(data[:200_000]))[:8]:
        if match.encoding not in candidates:
            candidates.append(match.encoding)
    best: tuple[float, str, str] | None = None
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = _plausibility(text)
        # Strictly greater: on ties the earlier (preferred) encoding wins.
        if best is None or score > best[0]:
            best = (score, encoding, text)
    if best is None or best[0] < _MIN_PLAUSIBILITY:
        return None, None
    return best[2], best[1]


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN"
    try:
        return unicodedata.name(char).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


def _plausible_word(word: str) -> bool:
    """Mis-decoded words mix scripts, are all accented Latin ("Ďđčâĺň") or flip case mid-word."""
    if word.isascii():
        return True
    scripts = {_script(c) for c in word}
    if len(scripts) != 1:
        return False
    if scripts == {"LATIN"}:
        accented = sum(1 for c in word if not c.isascii())
        if accented > max(1, len(word) // 2):
            return False
    # Lower-case followed by upper-case inside a non-ASCII word: a koi8-r/cp1251 mix-up signature.
    return not any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))


def _plausibility(text: str) -> float:
    """Share of letters that sit in plausible words, lowered by control and private-use characters."""
    letters = plausible = 0
    for word in _WORD.findall(text[:20_000]):
        letters += len(word)
        if _plausible_word(word):
            plausible += len(word)
    if letters == 0:
        return 0.0
    junk = sum(
        1 for c in text[:20_000] if unicodedata.category(c) in ("Cc", "Co", "Cs") and c not in "\n\r\t\f"
    )
    return (plausible - 5 * junk) / letters


def normalize_whitespace(text: str) -> str:
    """NFC-normalise, drop zero-width characters, collapse spaces, keep line and paragraph breaks.

    Paragraphs come out separated by exactly one blank line ("\\n\\n"); single line breaks stay.
    """
    text = unicodedata.normalize("NFC", text)
    # str.translate with a dict looks up every character of a non-ASCII text (~0.1 ms per 1 KB):
    # six substring scans first, as the characters are rare
    if any(c in text for c in _INVISIBLE_CHARS):
        text = text.translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _HSPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
