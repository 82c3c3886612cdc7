"""ingest.feeds on fixture feeds written for the project, and a robustness sweep over real feeds."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import InputError
from monitor.ingest.feeds import parse_feed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
SHARED_FEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "feeds"


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_rss2_items_titles_links_dates_and_raw_html() -> None:
    feed = parse_feed(_read("rss2.xml"), "rss2.xml", base_url="https://wire.example.org/feeds/main.xml")
    assert feed.title == "Example Security Wire"
    assert feed.link == "https://wire.example.org/"
    first, second = feed.items
    # Entities decoded once more than feedparser does (double-escaped "&amp;amp;"), spaces collapsed.
    assert first.title == "Militants attack border post & flee"
    assert first.url == "https://wire.example.org/2024/03/border-post-attack"  # relative link resolved
    assert first.guid == "wire-1001"
    assert first.published == datetime(2024, 3, 5, 9, 15, tzinfo=UTC)  # +0100 normalised to UTC
    assert first.author == "Jane Reporter"
    assert first.language == "en"
    # content:encoded is richer than the description and is kept verbatim, markup and all.
    assert first.raw == (
        "<p>Gunmen attacked a <b>border post</b> overnight &amp; fled across the river.</p>"
        "<p>Two guards were wounded.</p>"
    )
    assert first.raw_format == "html"
    assert second.raw == "Customs officers found rifle parts hidden in a shipment of machine tools."
    assert second.published == datetime(2024, 3, 6, 8, 0, tzinfo=UTC)
    # The third item has neither title nor text: skipped, and said so.
    assert feed.problem == "1 of 3 entries skipped: no title and no text"


def test_relative_links_fall_back_to_the_feed_site_link() -> None:
    feed = parse_feed(_read("rss2.xml"), "rss2.xml")
    assert feed.items[0].url == "https://wire.example.org/2024/03/border-post-attack"


def test_atom_html_title_content_types_and_xml_base() -> None:
    feed = parse_feed(_read("atom.xml"), "atom.xml", content_type="application/atom+xml; charset=utf-8")
    first, second = feed.items
    assert first.title == "Cyberangriff auf Stadtwerke"  # markup in an html title removed
    assert first.raw == "<p>Ein Angriff legte die Pumpen lahm.</p>" and first.raw_format == "html"
    assert first.url == "https://nachrichten.example.de/artikel/cyberangriff"
    assert first.published == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)  # updated, as no published
    assert first.author == "Max Muster"
    assert first.language == "de"
    assert second.raw_format == "text"
    assert second.published == datetime(2024, 3, 4, 9, 30, tzinfo=UTC)  # published wins over updated
    assert feed.problem is None


def test_rdf_rss1() -> None:
    feed = parse_feed(_read("rdf.xml"), "rdf.xml")
    (item,) = feed.items
    assert feed.title == "RDF Security Digest"
    assert item.title == "Arms embargo extended"
    assert item.url == "https://rdf.example.net/item/1"
    assert item.published == datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


def test_malformed_but_usable_feed_reports_problem() -> None:
    feed = parse_feed(_read("malformed.xml"), "malformed.xml")
    assert [item.title for item in feed.items] == ["Good item", "Second item with a stray & ampersand"]
    assert feed.problem == "malformed XML: not well-formed (invalid token) at line 12, column 39"


def test_valid_feed_without_entries_is_not_an_error() -> None:
    feed = parse_feed(_read("empty_channel.xml"), "empty_channel.xml")
    assert feed.items == [] and feed.title == "Quiet Feed" and feed.problem is None


def test_gzipped_feed_bytes_are_inflated() -> None:
    feed = parse_feed(gzip.compress(_read("rdf.xml")), "rdf.xml.gz")
    assert [item.title for item in feed.items] == ["Arms embargo extended"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ((FIXTURES / "page.html").read_bytes(), "not a feed: HTML document"),
        ((FIXTURES / "mismatched.xml").read_bytes(), "malformed XML: mismatched tag at line 5, column 4"),
        (b"", "empty document"),
        (b"  \n\t ", "empty document"),
        (bytes(range(256)) * 4, "not a feed: not XML (no markup at the start)"),
        (b"just some words", "not a feed: not XML (no markup at the start)"),
        (
            b'<?xml version="1.0"?><config><a>1</a></config>',
            "not a feed: XML document with root element <config>",
        ),
        (b"\x1f\x8b\x08\x00garbage", "corrupt gzip data"),
    ],
)
def test_unusable_input_raises_clear_input_error(data: bytes, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_feed(data, "source-x")
    assert info.value.source == "source-x"
    assert info.value.reason.startswith(reason)


def _shared_feed_files() -> list[Path]:
    if not SHARED_FEEDS.is_dir():
        return []
    return sorted(
        p
        for p in SHARED_FEEDS.rglob("*")
        if p.is_file() and p.suffix in {".xml", ".rss", ".atom", ".html", ".gz"}
    )


@pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason=f"shared feed data not present at {SHARED_FEEDS}")
def test_real_feeds_never_raise_anything_but_input_error() -> None:
    files = _shared_feed_files()
    parsed, rejected = 0, []
    for path in files:
        try:
            feed = parse_feed(path.read_bytes(), path.name)
        except InputError as exc:
            assert exc.reason and "\n" not in exc.reason
            rejected.append(path.name)
        else:
            parsed += 1
            assert all(item.title for item in feed.items)
            assert all(item.published is None or item.published.tzinfo is not None for item in feed.items)
    assert files
    # Most real feeds parse; the rejects are the non-feeds and entries without any text.
    assert parsed >= 0.9 * len(files), rejected
    assert "notafeed.html" in rejected
