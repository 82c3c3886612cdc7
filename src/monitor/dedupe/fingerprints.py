"""Fingerprints for exact-duplicate detection: canonical URLs and content hashes. Pure."""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

# Query parameters that identify a campaign or a click, never the article. Removing them makes the
# same story shared through a newsletter, a social network and the feed one URL.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "ocid",
        "cmpid",
        "cmp",
        "icid",
        "ncid",
        "ito",
        "smid",
        "sr_share",
        "ref",
        "ref_src",
        "referrer",
        "source",
        "src",
        "feature",
        "spm",
        "share",
        "xtor",
        "at_medium",
        "at_campaign",
        "rss",
    }
)
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_", "hmb_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str | None) -> str | None:
    """The URL an article is known by: lower-case scheme and host, no default port, no fragment,
    no tracking parameters, remaining parameters sorted. None for anything that is not http(s)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit(("https" if scheme == "http" else scheme, host, path, urlencode(sorted(query)), ""))


# Zero-width characters hide inside words (soft hyphens, joiners) and would split them.
INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE_CHARS))
# A word is a maximal run of str.isalnum() characters: regex [^\W_], i.e. \w without "_". ASCII text
# (most news) is folded by one bytes.translate: word bytes lower-cased, every other byte a space.
_ASCII_FOLD = bytes(c if chr(c).isalnum() else 32 for c in range(128)).lower() + b" " * 128
_SPACE = np.uint32(32)


@functools.cache
def word_char_table() -> np.ndarray:
    """For every code point, whether it is a word character (str.isalnum). Built once, 1 MB: indexing
    it with a text's code points classifies them in one numpy call (near.py uses it too)."""
    table = np.zeros(0x110000, dtype=bool)
    table[[i for i in range(0x110000) if chr(i).isalnum()]] = True
    return table


def _one_space_runs(word: np.ndarray) -> np.ndarray:
    """Positions to keep: every word character and the first separator after a word, so each run of
    separators becomes one space and leading ones go (a trailing one is stripped by the caller)."""
    keep = word.copy()
    keep[1:] |= word[:-1]
    return keep


def _words(part: str) -> bytes:
    """The words of `part`, NFKC-normalised, without invisible characters, case-folded, joined by
    single spaces, as UTF-8. Byte for byte what the earlier regex split gave (stored hashes depend on
    it), in a few C-level calls instead of a regex pass over every character."""
    if part.isascii():  # NFKC leaves ASCII alone, no invisible characters, casefold is lower
        chars = np.frombuffer(part.encode("ascii").translate(_ASCII_FOLD), dtype=np.uint8)
        return chars[_one_space_runs(chars != 32)].tobytes().rstrip(b" ")
    folded = unicodedata.normalize("NFKC", part)
    if any(c in folded for c in INVISIBLE_CHARS):  # rare: a scan is cheaper than translating every text
        folded = folded.translate(_INVISIBLE)
    # surrogatepass: a lone surrogate is a separator like any other non-word character
    cp = np.frombuffer(folded.casefold().encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    word = word_char_table().take(cp)  # take: faster than [] indexing
    spaced = np.where(word, cp, _SPACE)[_one_space_runs(word)]
    return spaced.tobytes().decode("utf-32-le").rstrip(" ").encode("utf-8")


def text_fingerprint(*parts: str) -> str:
    """sha256 of the words of `parts`, case-folded: insensitive to markup spacing and punctuation."""
    h = hashlib.sha256()
    for part in parts:
        h.update(_words(part))
        h.update(b"\x1f")  # separator, so ("ab", "c") and ("a", "bc") differ
    return h.hexdigest()
