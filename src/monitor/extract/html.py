"""HTML to clean text: feed-item fragments (`html_to_text`) and full web pages (`extract_page`).

Pure: bytes or text in, text out; the page URL is only a hint for trafilatura, never fetched.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import trafilatura
from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from monitor.extract.language import detect_language
from monitor.extract.normalize import normalize_whitespace
from monitor.models import ExtractedPage

logger = logging.getLogger(__name__)

# Elements whose text is never article text: code, navigation chrome, forms, embedded documents.
DROP_TAGS = frozenset(
    {
        "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
        "template", "button", "select", "textarea", "object", "embed", "canvas", "head",
    }
)  # fmt: skip
# Elements that start a new paragraph; everything else is inline and flows into the paragraph.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "html", "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# htmldate (inside trafilatura) returns only the day unless asked for a time; original_date prefers
# the publication date over the last modification.
DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_SPACES = re.compile(r"\s+")
_PARAGRAPH = "\x00P"  # marker that cannot occur in parsed text (NUL is dropped by the HTML parser)
_LINE = "\x00L"


def _soup(markup: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(markup, "lxml")


def _node_text(root: Tag) -> str:
    """Text of a tree with block elements as paragraph breaks and <br> as line breaks.

    An explicit stack instead of recursion: real pages nest deeper than Python's recursion limit.
    """
    parts: list[str] = []
    stack: list[Tag | NavigableString | str] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            parts.append(node)  # a marker pushed below
        elif isinstance(node, NavigableString):
            if not isinstance(node, _SKIPPED_STRINGS):
                parts.append(str(node))
        elif isinstance(node, Tag):
            name = node.name
            if name in DROP_TAGS:
                continue
            if name == "br":
                parts.append(_LINE)
                continue
            block = name in BLOCK_TAGS
            if block:
                parts.append(_PARAGRAPH)
                stack.append(_PARAGRAPH)
            stack.extend(reversed(node.contents))
    text = "".join(parts)
    paragraphs = []
    for chunk in text.split(_PARAGRAPH):
        lines = (_SPACES.sub(" ", line).strip() for line in chunk.split(_LINE))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return normalize_whitespace("\n\n".join(paragraphs))


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment or page: no scripts or navigation, entities decoded,
    block elements as blank-line-separated paragraphs, whitespace normalised."""
    if "<" not in html and "&" not in html:
        return normalize_whitespace(html)  # plain text: skip the parser (common in feeds)
    soup = _soup(html)
    return _node_text(soup)


def _page_title(soup: BeautifulSoup) -> str | None:
    for selector in ('meta[property="og:title"]', 'meta[name="twitter:title"]'):
        meta = soup.select_one(selector)
        if meta and isinstance(meta.get("content"), str) and meta["content"].strip():
            return normalize_whitespace(str(meta["content"]))
    if soup.title and soup.title.string:
        return normalize_whitespace(str(soup.title.string)) or None
    heading = soup.find("h1")
    if heading:
        return normalize_whitespace(heading.get_text(" ")) or None
    return None


def _parse_date(value: str | None) -> datetime | None:
    """trafilatura/htmldate give ISO dates, with or without time and offset; naive ones are UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# Short blocks that news sites put inside the article body but that are not the article: cross-links,
# sign-up boxes, picture credits. Only blocks of at most BOILERPLATE_MAX_WORDS words are dropped, so
# a real paragraph that happens to start with "Photo" or mention a newsletter stays.
BOILERPLATE_MAX_WORDS = 15
_BOILERPLATE = re.compile(
    r"^\W{0,3}(?:read more|related:|see also|sign up|subscribe|advertisement|share this|view comments"
    r"|leave a (?:reply|comment)|click here|credits?:|photo:|image:|image illustrative|follow us"
    r"|all rights reserved|lesen sie (?:auch|mehr)|mehr zum thema|weiterlesen|kommentar(?:e)? schreiben"
    r"|anzeige$|(?:à )?lire aussi|publicité$)"
    r"|\bnewsletter\b",
    re.IGNORECASE,
)


def _is_boilerplate(block: str) -> bool:
    return len(block.split()) <= BOILERPLATE_MAX_WORDS and _BOILERPLATE.search(block) is not None


def _trafilatura_text(text: str) -> str:
    # trafilatura separates blocks with one newline; our convention is a blank line between them.
    blocks = (line.strip() for line in text.split("\n"))
    return normalize_whitespace("\n\n".join(b for b in blocks if b and not _is_boilerplate(b)))


def extract_page(data: bytes, url: str | None = None) -> ExtractedPage:
    """Main text, title, publication date and language of a full web page.

    trafilatura finds the main text; when it finds nothing (very short pages, odd markup) the whole
    body is converted with `html_to_text`, which keeps navigation out but not every side block.
    """
    document = None
    try:
        document = trafilatura.bare_extraction(
            data,
            url=url,
            with_metadata=True,
            include_comments=False,  # reader comments are not the article
            include_tables=True,
            date_extraction_params=DATE_PARAMS,
        )
    except Exception:  # trafilatura/lxml can fail on hostile markup; the fallback still applies
        logger.warning("trafilatura failed; falling back to html_to_text", exc_info=True, extra={"url": url})

    text = _trafilatura_text(document.text) if document is not None and document.text else ""
    title = normalize_whitespace(document.title) if document is not None and document.title else None
    published = _parse_date(document.date) if document is not None else None

    if not text or title is None:
        soup = _soup(data)
        if title is None:
            title = _page_title(soup)
        if not text:
            body = soup.body or soup
            text = _node_text(body)
    return ExtractedPage(title=title, text=text, published=published, language=detect_language(text))
