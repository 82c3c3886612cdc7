"""dedupe.fingerprints: canonical URLs and text fingerprints."""

from __future__ import annotations

import pytest

from monitor.dedupe.fingerprints import canonical_url, text_fingerprint


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.ORG/news/a?utm_source=rss&utm_medium=feed", "https://example.org/news/a"),
        ("http://example.org:80/news/a#comments", "https://example.org/news/a"),
        ("https://example.org/a?b=2&a=1&fbclid=XYZ&gclid=1", "https://example.org/a?a=1&b=2"),
        ("https://example.org:8443/a?id=7", "https://example.org:8443/a?id=7"),
        ("https://example.org", "https://example.org/"),
        ("ftp://example.org/a", None),
        ("urn:uuid:1234", None),
        ("", None),
        (None, None),
        ("http://[::1", None),  # malformed: no exception, no URL
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_text_fingerprint_ignores_trivial_reformatting() -> None:
    base = text_fingerprint("Border Attack", "Gunmen attacked a post.\n\nTwo were hurt.")
    assert base == text_fingerprint("border attack ", "“Gunmen” attacked  a post\nTwo were hurt!")
    assert base == text_fingerprint("BORDER\u00a0ATTACK", "Gun\u00admen attacked a post. Two were hurt.")
    assert base != text_fingerprint("Border Attack", "Gunmen attacked a post. Three were hurt.")
    # Parts are separated: moving words between title and text is another fingerprint.
    assert text_fingerprint("a b", "c") != text_fingerprint("a", "b c")
