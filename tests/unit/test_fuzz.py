"""Property-based robustness of the parsers: hostile or random input gives InputError or a result,
never another exception, and never takes long.

The budgets (max_examples, deadline) keep this module to about fifteen seconds on one core; the
examples are derandomized so a failure reproduces and CI is stable. To explore further locally,
raise max_examples and drop derandomize. The sweep over the shared real feed files lives in
test_feeds.py.
"""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import InputError
from monitor.extract.html import extract_page, html_to_text
from monitor.ingest.feeds import parse_feed
from monitor.ingest.files import SUPPORTED, parse_inbox_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
VALID_FEEDS = [
    (FIXTURES / name).read_bytes() for name in ("rss2.xml", "atom.xml", "rdf.xml", "malformed.xml")
]

# Deadline per example: generous against a loaded CI machine, far below "hangs". The first example
# also pays for lazy imports (bs4, trafilatura), hence the health check on slow generation is off.
FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,  # no .hypothesis/ folder in the work tree; derandomized runs need no replay store
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# parse_inbox_file runs language detection and HTML extraction (~15 ms an example): fewer examples.
INBOX = settings(FUZZ, max_examples=100)
PAGES = settings(FUZZ, max_examples=60)  # trafilatura is the slowest stage (~20 ms a page)

_MARKUP = st.sampled_from(
    [
        b"<",
        b">",
        b"</item>",
        b"<item>",
        b"<entry>",
        b"<title>",
        b"</title>",
        b"<![CDATA[",
        b"]]>",
        b"<!--",
        b"-->",
        b"&amp;",
        b"&#0;",
        b"&#x110000;",
        b"&nosuch;",
        b"<!DOCTYPE rss [",
        b'<!ENTITY a "aaaa">',
        b"]>",
        b'<?xml version="1.0" encoding="utf-16"?>',
        b'<?xml version="1.0" encoding="x-no-such"?>',
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"\x1f\x8b",
        b"<script>",
        b'<a href="javascript:x">',
        b"<pubDate>Tue, 99 Foo 2024 99:99:99 +9999</pubDate>",
        b"<link>http://[::1</link>",
        b'xml:base="::::"',
        b"<rss>",
        b'<rss version="2.0"><channel>',
        b'<feed xmlns="http://www.w3.org/2005/Atom">',
    ]
)


def _mutate(data: bytes, position: int, cut: int, insert: bytes) -> bytes:
    position %= len(data) + 1
    return data[:position] + insert + data[position + cut :]


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(VALID_FEEDS))
    for _ in range(draw(st.integers(1, 6))):
        insert = draw(st.one_of(_MARKUP, st.binary(max_size=16)))
        data = _mutate(data, draw(st.integers(0, 10_000)), draw(st.integers(0, 40)), insert)
    return data


def _parse_feed_or_input_error(data: bytes, content_type: str | None = None) -> None:
    try:
        feed = parse_feed(data, "fuzz", content_type=content_type, base_url="https://fuzz.example.org/f")
    except InputError as exc:
        assert exc.source == "fuzz" and exc.reason
    else:
        assert all(item.title for item in feed.items)


@FUZZ
@given(st.binary(max_size=4096))
def test_parse_feed_arbitrary_bytes(data: bytes) -> None:
    _parse_feed_or_input_error(data)


@FUZZ
@given(
    mutated_feeds(),
    st.sampled_from(
        [None, "application/rss+xml", "text/html", "text/xml; charset=utf-7", "x/y; charset=nope"]
    ),
)
def test_parse_feed_mutated_valid_feeds(data: bytes, content_type: str | None) -> None:
    _parse_feed_or_input_error(data, content_type)


@FUZZ
@given(mutated_feeds())
def test_parse_feed_gzipped_mutations(data: bytes) -> None:
    packed = gzip.compress(data)
    _parse_feed_or_input_error(packed[: len(packed) // 2] if data[:1] == b"<" else packed)


_NAMES = st.one_of(
    st.sampled_from(SUPPORTED).map(lambda ext: "article" + ext),
    st.sampled_from(SUPPORTED).flatmap(lambda ext: st.text(max_size=20).map(lambda stem: stem + ext)),
    st.text(max_size=30),
)


@INBOX
@given(_NAMES, st.binary(max_size=4096))
def test_parse_inbox_file_arbitrary_bytes_and_names(name: str, data: bytes) -> None:
    try:
        parse_inbox_file(name, data, max_bytes=2048)
    except InputError as exc:
        assert exc.reason


@INBOX
@given(
    st.sampled_from([".txt", ".md", ".html", ".jsonl"]),
    st.lists(
        st.one_of(
            st.text(max_size=80),
            st.sampled_from(
                [
                    "\n",
                    "\n\n",
                    "<p>",
                    "</p>",
                    "<h1>",
                    '{"id": 1, "title": "t", "text": "x"}\n',
                    '{"id": null}\n',
                    "[1,2]\n",
                    "{\n",
                    "World media monitoring\n",
                    "# Heading\n",
                    "\x0c",
                    "\ufeff",
                ]
            ),
        ),
        max_size=20,
    ),
)
def test_parse_inbox_file_structured_text(extension: str, pieces: list[str]) -> None:
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    try:
        parse_inbox_file("inbox" + extension, data, max_bytes=1_000_000)
    except InputError as exc:
        assert exc.reason


_HTML_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<br>",
        "<script>x()</script>",
        "<style>p{}</style>",
        "<!--",
        "-->",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "&bogus",
        "<title>T</title>",
        '<meta property="og:title" content="">',
        "<h1>Head</h1>",
        "<table><tr><td>",
        "<![CDATA[",
        "<?php ?>",
        "<!DOCTYPE html>",
        "<svg><foreignObject>",
        "\x00",
    ]
)


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=40), _HTML_PIECES), max_size=40))
def test_html_to_text_never_raises(pieces: list[str]) -> None:
    text = html_to_text("".join(pieces))
    assert isinstance(text, str)


def test_html_to_text_deep_nesting() -> None:
    assert html_to_text("<div>" * 5000 + "deep" + "</div>" * 5000) == "deep"


@PAGES
@given(
    st.one_of(
        st.binary(max_size=2048),
        st.lists(st.one_of(st.text(max_size=40), _HTML_PIECES)).map(
            lambda pieces: "".join(pieces).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_extract_page_never_raises(data: bytes) -> None:
    try:
        page = extract_page(data, url="https://fuzz.example.org/page")
    except InputError as exc:
        assert exc.reason
    else:
        assert isinstance(page.text, str)
