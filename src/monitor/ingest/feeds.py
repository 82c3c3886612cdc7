"""Feed documents (RSS 0.9x/1.0/2.0, Atom, RDF) as bytes -> ParsedFeed, with feedparser.

Pure: the bytes come from `ingest.fetch` or a file; nothing here touches the network or the disk.

XML entity attacks. feedparser 6.0 parses with expat through xml.sax, with external general entities
off (no XXE file or URL reads), and strips most ENTITY declarations with a line-based regex before
parsing. That is not enough: declarations the regex misses (a DOCTYPE on the same line as the XML
declaration) reach expat, whose own amplification limit (expat >= 2.4) only trips after megabytes
of expansion, and the "safe" entities feedparser keeps (plain text values) are expanded by both its
parsers without bound: one 100 KB entity referenced 5,000 times took 8 s and 1.4 GB. Feeds have no
need for entity declarations, so a document that declares any is refused before feedparser sees it
(`_refuse_entity_declarations`), judged on the same UTF-8 bytes feedparser's parsers will read.
"""

from __future__ import annotations

import html
import io
import logging
import re
import xml.sax
import zlib
from datetime import UTC, datetime
from time import struct_time
from typing import Any
from urllib.parse import urljoin
from xml.parsers.expat import ExpatError, ParserCreate

import feedparser
import feedparser.encodings

from monitor.errors import InputError
from monitor.extract.normalize import normalize_whitespace
from monitor.models import FeedItem, ParsedFeed, RawFormat

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
# A gzipped feed file is inflated in memory; past this size it is treated as a decompression bomb.
MAX_INFLATED_BYTES = 50 * 1024 * 1024
_TAG = re.compile(r"<[^>]*>")
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S
)
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
# Titles derived from text for entries that have none are cut at this length (at a word boundary).
DERIVED_TITLE_CHARS = 100
ENTITY_REFUSAL = "refused: XML entity declarations (possible entity-expansion or XXE attack)"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_FIRST_TAG = re.compile(rb"<\w")


class _EntityDeclared(Exception):
    pass


class _RootReached(Exception):
    pass


def parse_feed(
    data: bytes, source: str, content_type: str | None = None, base_url: str | None = None
) -> ParsedFeed:
    """Parse a feed document. Raises only InputError, naming `source` and the reason.

    `content_type` is the HTTP Content-Type (it may carry the charset); `base_url` resolves relative
    item links. Entry content is kept verbatim (no sanitising, no link rewriting): cleaning happens
    later, on a copy, so the stored raw text is what the publisher sent.
    """
    if not data or not data.strip():
        raise InputError(source, "empty document")
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, source)

    headers: dict[str, str] = {}
    if base_url:
        headers["content-location"] = base_url
    if content_type or headers:
        # With any header present feedparser wants a type too; XML lets the document declare its charset.
        headers["content-type"] = content_type or "application/xml"
    _refuse_entity_declarations(data, headers, source)
    try:
        # BytesIO, never the bytes themselves: feedparser treats a bare string as a URL or a path.
        result = feedparser.parse(
            io.BytesIO(data), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser is robust, but a crash on one feed must not stop the batch
        logger.warning("feedparser crashed", exc_info=True, extra={"source": source})
        raise InputError(source, f"feed parser failed: {type(exc).__name__}: {exc}") from exc

    fatal_reason = _bozo_reason(result) if result.get("bozo") and not _is_type_note(result) else None
    entries = result.get("entries") or []
    if not entries:
        if not result.get("version"):
            raise InputError(source, _not_a_feed_reason(data, fatal_reason))
        if fatal_reason and not _is_encoding_note(result):
            raise InputError(source, fatal_reason)

    feed = result.get("feed") or {}
    link = feed.get("link") or None
    if link and base_url:
        link = urljoin(base_url, link)
    # Without a fetch URL, the feed's own absolute site link is the best base for relative item links.
    item_base = base_url or (link if link and link.startswith(("http://", "https://")) else None)
    feed_language = _language_tag(feed.get("language"))
    items: list[FeedItem] = []
    skipped = 0
    for entry in entries:
        item = _entry_to_item(entry, item_base, feed_language)
        if item is None:
            skipped += 1
        else:
            items.append(item)

    problems = []
    if fatal_reason:
        problems.append(fatal_reason)
    if skipped:
        problems.append(f"{skipped} of {len(entries)} entries skipped: no title and no text")
    if entries and not items:
        raise InputError(source, "; ".join(problems))
    title = _clean_title(feed.get("title"), feed.get("title_detail")) or None
    return ParsedFeed(title=title, link=link, items=items, problem="; ".join(problems) or None)


def _gunzip(data: bytes, source: str) -> bytes:
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        inflated = decompressor.decompress(data, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise InputError(source, f"corrupt gzip data: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise InputError(source, f"gzip content larger than {MAX_INFLATED_BYTES} bytes when inflated")
    if not decompressor.eof and not inflated:
        raise InputError(source, "corrupt gzip data: truncated before any content")
    # A truncated stream that still gave content goes on: the XML parser reports what is missing.
    return inflated


def _refuse_entity_declarations(data: bytes, headers: dict[str, str], source: str) -> None:
    """InputError when the document declares XML entities (billion laughs, XXE, linear blow-up).

    Judged on what feedparser's parsers will read: its own charset conversion of `data` under the
    same headers (so UTF-16, UTF-7 or a lying charset cannot hide a declaration). Then:
    - no "<!ENTITY" anywhere: fine (the common case, one byte search);
    - expat, stopped at the root element, reports an entity declaration (exact, and it ignores
      "<!ENTITY" inside CDATA or comments, e.g. an article about XXE): refused;
    - the part before the first tag, where feedparser's regex looks for entities, has one: refused;
    - expat gives up before the root (malformed prolog, where feedparser's own rewriting could
      still hand declarations to a parser): refused, being conservative.
    """
    try:
        view = feedparser.encodings.convert_to_utf8(dict(headers), data, {})
    except Exception:  # a conversion bug must not open the door: judge the raw bytes instead
        view = data
    if not isinstance(view, bytes):
        view = data
    if b"\x00" in view[:4096]:
        view = view.replace(b"\x00", b"")  # undecoded UTF-16/32: ASCII markup is left once NULs go
    if not _ENTITY_DECL.search(view):
        return
    first_tag = _FIRST_TAG.search(view)
    head = view[: first_tag.start() + 1] if first_tag else view
    if _ENTITY_DECL.search(head) or _expat_sees_entities(view) is not False:
        raise InputError(source, ENTITY_REFUSAL)


def _expat_sees_entities(view: bytes) -> bool | None:
    """True: expat met an entity declaration; False: it reached the root without one; None: it failed.

    Handlers stop the parse at the first declaration or at the root start tag, so nothing is ever
    expanded here and the cost is the prolog's length.
    """
    parser = ParserCreate()

    def on_entity(*_args: object) -> None:
        raise _EntityDeclared

    def on_root(*_args: object) -> None:
        raise _RootReached

    parser.EntityDeclHandler = on_entity
    parser.StartElementHandler = on_root
    try:
        parser.Parse(view, True)
    except _EntityDeclared:
        return True
    except _RootReached:
        return False
    except (ExpatError, ValueError, UnicodeError):
        return None
    return None  # the document ended without a root element


def _is_type_note(result: Any) -> bool:
    # Servers often label feeds text/html or text/plain; the document itself is fine, so no problem.
    return isinstance(result.get("bozo_exception"), feedparser.NonXMLContentType)


def _is_encoding_note(result: Any) -> bool:
    exc = result.get("bozo_exception")
    return isinstance(exc, feedparser.CharacterEncodingOverride | feedparser.CharacterEncodingUnknown)


def _bozo_reason(result: Any) -> str:
    """One line saying what was wrong with the document, e.g. "malformed XML: mismatched tag at line 12"."""
    exc = result.get("bozo_exception")
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return f"encoding problem: {_one_line(str(exc))}; decoded as {result.get('encoding')}"
    if isinstance(exc, feedparser.CharacterEncodingUnknown):
        return f"encoding problem: {_one_line(str(exc))}"
    if isinstance(exc, xml.sax.SAXParseException):
        message = exc.getMessage()
        return f"malformed XML: {message} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    if exc is None:
        return "malformed feed"
    return f"malformed feed: {_one_line(str(exc)) or type(exc).__name__}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _not_a_feed_reason(data: bytes, bozo_reason: str | None) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return "not a feed: HTML document"
    if not head.lstrip().startswith(b"<"):
        return "not a feed: not XML (no markup at the start)"
    if bozo_reason and bozo_reason.startswith("malformed XML"):
        return bozo_reason
    root = _FIRST_ELEMENT.search(head.replace(b"<?", b"").replace(b"<!", b""))
    if root:
        return f"not a feed: XML document with root element <{root.group(1).decode('ascii', 'replace')}>"
    return bozo_reason or "not a feed"


def _clean_title(title: str | None, detail: Any) -> str:
    if not title:
        return ""
    kind = (detail or {}).get("type", "")
    if "<" in title and kind in _HTML_TYPES:
        title = _TAG.sub(" ", title)
    # feedparser decodes one level of entities; feeds that double-escape ("&amp;#8217;") leave one.
    if "&" in title:
        title = html.unescape(title)
    return " ".join(normalize_whitespace(title).split())


def _raw_format(kind: str | None) -> RawFormat:
    return "html" if (kind or "").split(";")[0].strip() in _HTML_TYPES else "text"


def _richest_content(entry: Any) -> tuple[str, RawFormat]:
    """Full content (Atom content, RSS content:encoded) when present, else the summary."""
    best_value, best_type = "", None
    for content in entry.get("content") or []:
        value = content.get("value") or ""
        if len(value.strip()) > len(best_value.strip()):
            best_value, best_type = value, content.get("type")
    summary = entry.get("summary") or ""
    if len(summary.strip()) > len(best_value.strip()) and not best_value.strip():
        best_value, best_type = summary, (entry.get("summary_detail") or {}).get("type")
    return best_value, _raw_format(best_type)


def _published(entry: Any) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get, not entry.get: FeedParserDict maps missing published_* to updated_* with a warning.
        value: struct_time | None = dict.get(entry, key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _derived_title(raw: str, raw_format: RawFormat) -> str:
    if raw_format == "html":
        from monitor.extract.html import html_to_text  # bs4 import only when a title is missing

        text = html_to_text(raw)
    else:
        text = normalize_whitespace(raw)
    first = " ".join(text.split("\n", 1)[0].split())
    if len(first) <= DERIVED_TITLE_CHARS:
        return first
    cut = first.rfind(" ", 0, DERIVED_TITLE_CHARS)
    return first[: cut if cut > 0 else DERIVED_TITLE_CHARS] + "…"


def _language_tag(value: Any) -> str | None:
    """Primary subtag of a declared language ("en-US" -> "en"); None when absent or not a tag."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def _entry_to_item(entry: Any, base_url: str | None, feed_language: str | None) -> FeedItem | None:
    title = _clean_title(entry.get("title"), entry.get("title_detail"))
    raw, raw_format = _richest_content(entry)
    if not raw.strip():
        raw = ""
    if not title and not raw:
        return None
    if not title:
        title = _derived_title(raw, raw_format)
        if not title:
            return None
    link = entry.get("link") or None
    if link and base_url:
        link = urljoin(base_url, link)
    author = entry.get("author") or None
    return FeedItem(
        title=title,
        raw=raw,
        raw_format=raw_format,
        url=link,
        guid=entry.get("id") or None,
        published=_published(entry),
        author=" ".join(author.split()) if author else None,
        language=_language_tag((entry.get("title_detail") or {}).get("language")) or feed_language,
    )
