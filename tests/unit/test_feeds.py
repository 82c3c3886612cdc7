"""ingest.feeds on fixture feeds written for the project, and a robustness sweep over real feeds."""

from __future__ import annotations

import gzip
import time
import tracemalloc
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


FEED_SUFFIXES = {".xml", ".rss", ".atom", ".html", ".gz"}


def _shared_files() -> list[Path]:
    if not SHARED_FEEDS.is_dir():
        return []
    return sorted(p for p in SHARED_FEEDS.rglob("*") if p.is_file())


@pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason=f"shared feed data not present at {SHARED_FEEDS}")
def test_real_feeds_never_raise_anything_but_input_error() -> None:
    """Every shared file goes through parse_feed, whatever it is (JSON, LICENSE included)."""
    files = _shared_files()
    feeds = [p for p in files if p.suffix in FEED_SUFFIXES]
    parsed, rejected = 0, []
    for path in files:
        try:
            feed = parse_feed(path.read_bytes(), path.name)
        except InputError as exc:
            assert exc.source == path.name
            assert exc.reason and "\n" not in exc.reason
            rejected.append(path.name)
        else:
            parsed += path in feeds
            assert all(item.title for item in feed.items)
            assert all(item.published is None or item.published.tzinfo is not None for item in feed.items)
    assert feeds
    # Most real feeds parse; the rejects are the non-feeds and entries without any text.
    assert parsed >= 0.9 * len(feeds), rejected
    assert "notafeed.html" in rejected


# --- XML entity attacks -------------------------------------------------------------------------

ENTITY_REFUSAL = "refused: XML entity declarations (possible entity-expansion or XXE attack)"


def _bounded_parse(data: bytes, source: str, content_type: str | None = None) -> Exception | None:
    """parse_feed under a stopwatch and tracemalloc: an attack must fail fast and small."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        parse_feed(data, source, content_type=content_type)
    except InputError as exc:
        error: Exception | None = exc
    else:
        error = None
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < 1.0, f"{source}: {elapsed:.2f}s"
    assert peak < 20 * 1024 * 1024, f"{source}: peak {peak} bytes"
    return error


@pytest.mark.parametrize(
    "name",
    [
        "hostile_billion_laughs.xml",
        "hostile_billion_laughs_one_line.xml",  # feedparser's line-based DOCTYPE stripping misses it
        "hostile_billion_laughs_utf16.xml",
        "hostile_xxe_file.xml",
        "hostile_xxe_parameter.xml",
    ],
)
@pytest.mark.parametrize("content_type", [None, "application/rss+xml", "text/html; charset=utf-8"])
def test_entity_attacks_are_refused_quickly_and_small(name: str, content_type: str | None) -> None:
    error = _bounded_parse(_read(name), name, content_type)
    assert isinstance(error, InputError)
    assert error.source == name and error.reason == ENTITY_REFUSAL


def test_xxe_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    for doctype_on_own_line in (True, False):
        sep = "\n" if doctype_on_own_line else ""
        data = (
            f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>{sep}'
            '<rss version="2.0"><channel><title>t</title>'
            "<item><title>Leak &xxe;</title><description>&xxe;</description></item></channel></rss>"
        ).encode()
        error = _bounded_parse(data, "xxe")
        assert isinstance(error, InputError) and error.reason == ENTITY_REFUSAL
        assert "TOP-SECRET-MARKER" not in str(error)


def test_linear_entity_blow_up_is_refused() -> None:
    """One plain-text entity referenced many times: feedparser keeps such "safe" entities and both of
    its parsers expand them (100 KB x 5,000 references took 8 s and 1.4 GB before the guard)."""
    data = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "' + "A" * 100_000 + '">\n]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        "<description>" + "&big;" * 5000 + "</description></item></channel></rss>"
    ).encode()
    error = _bounded_parse(data, "linear")
    assert isinstance(error, InputError) and error.reason == ENTITY_REFUSAL


def test_entity_text_inside_cdata_and_plain_doctypes_still_parse() -> None:
    article = parse_feed(_read("xxe_article_cdata.xml"), "xxe_article_cdata.xml")
    assert [item.title for item in article.items] == ["How XXE attacks read server files"]
    assert '<!ENTITY xxe SYSTEM "file:///etc/passwd">' in article.items[0].raw  # kept verbatim
    old = parse_feed(_read("rss091_netscape_doctype.xml"), "rss091_netscape_doctype.xml")
    assert [item.title for item in old.items] == ["Border talks resume"]
