"""Fingerprints for exact-duplicate detection: canonical URLs and content hashes. Pure."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# Zero-width characters hide inside words (soft hyphens, joiners) and would split them.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def text_fingerprint(*parts: str) -> str:
    """sha256 of the words of `parts`, case-folded: insensitive to markup spacing and punctuation."""
    h = hashlib.sha256()
    for part in parts:
        folded = unicodedata.normalize("NFKC", part).translate(_INVISIBLE).casefold()
        words = _NON_WORD.sub(" ", folded).split()
        h.update(" ".join(words).encode("utf-8"))
        h.update(b"\x1f")  # separator, so ("ab", "c") and ("a", "bc") differ
    return h.hexdigest()
