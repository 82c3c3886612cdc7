"""HTML to clean text: feed-item fragments (`html_to_text`) and full web pages (`extract_page`).

Pure: bytes or text in, text out; the page URL is only a hint for trafilatura, never fetched.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import trafilatura
from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag
from bs4.element import PageElement
from lxml.etree import HTMLParser, ParserError, XPath
from lxml.html import HtmlElement
from trafilatura.settings import Document

from monitor.extract.dates import parse_optional
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
_PARAGRAPH = "\x00P"  # marker that cannot occur in parsed text (NUL is dropped by the HTML parser)
_LINE = "\x00L"


def _soup(markup: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(markup, "lxml")


def _node_text(root: Tag) -> str:
    """Text of a tree with block elements as paragraph breaks and <br> as line breaks.

    An explicit stack instead of recursion: real pages nest deeper than Python's recursion limit.
    """
    parts: list[str] = []
    stack: list[PageElement | str] = [root]  # Tag.contents is typed list[PageElement]
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
    return _parts_text(parts)


def _parts_text(parts: list[str]) -> str:
    """Text from the pieces and paragraph/line markers: spaces collapsed, empty lines dropped."""
    paragraphs = []
    for chunk in "".join(parts).split(_PARAGRAPH):
        # str.split() splits at exactly the characters regex \s matches: a run collapses to one space
        lines = (" ".join(line.split()) for line in chunk.split(_LINE))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return normalize_whitespace("\n\n".join(paragraphs))


# bs4 (BeautifulSoup.endData) turns a text node of only these characters into one "\n" or " ",
# outside <pre> and <textarea>.
_ASCII_SPACES = " \n\t\f\r"
_PRESERVE_WHITESPACE = frozenset({"pre", "textarea"})


class _TextTarget:
    """lxml parser target that builds `_node_text`'s pieces straight from the parse events.

    BeautifulSoup with the lxml builder runs the same parser with the same options and builds a tree
    from these events in Python; `_node_text` then walks it. Doing the walk's work in the events
    skips the tree (4x less CPU) and gives the same pieces: text is cut into nodes where bs4 cuts it
    (at every tag, comment, processing instruction and doctype), with bs4's whitespace rule.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.parts: list[str] = []
        self.pending: list[str] = []  # text since the last event: one text node
        self.dropped = 0  # depth inside an element whose content is skipped (DROP_TAGS, <br>)
        self.preserved = 0  # depth inside <pre>/<textarea>

    def _flush(self) -> None:
        text = "".join(self.pending)
        self.pending = []
        if self.dropped:
            return
        if not self.preserved and not text.strip(_ASCII_SPACES):
            text = "\n" if "\n" in text else " "  # also "" -> " ", as bs4 does
        self.parts.append(text)

    def start(self, tag: str, attrib: object) -> None:
        if self.pending:
            self._flush()
        if tag in _PRESERVE_WHITESPACE:
            self.preserved += 1
        if self.dropped:
            self.dropped += 1
        elif tag in DROP_TAGS:
            self.dropped = 1
        elif tag == "br":
            self.parts.append(_LINE)
            self.dropped = 1  # `_node_text` does not descend into a <br>
        elif tag in BLOCK_TAGS:
            self.parts.append(_PARAGRAPH)

    def end(self, tag: str) -> None:
        if self.pending:
            self._flush()
        if tag in _PRESERVE_WHITESPACE:
            self.preserved -= 1
        if self.dropped:
            self.dropped -= 1
        elif tag in BLOCK_TAGS:
            self.parts.append(_PARAGRAPH)

    def data(self, data: str) -> None:
        self.pending.append(data)

    def comment(self, text: str) -> None:  # skipped, but it ends the text node before it
        if self.pending:
            self._flush()

    def pi(self, target: str, data: str) -> None:
        if self.pending:
            self._flush()

    def doctype(self, name: str, pubid: str, system: str) -> None:
        if self.pending:
            self._flush()

    def close(self) -> list[str]:
        if self.pending:
            self._flush()
        return self.parts


# One parser per thread, reused: lxml inspects the target's methods whenever a parser starts its
# first document, which cost more than the parse of a short feed item. Parsers are not thread-safe.
_PARSERS = threading.local()


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment or page: no scripts or navigation, entities decoded,
    block elements as blank-line-separated paragraphs, whitespace normalised."""
    if "<" not in html and "&" not in html:
        return normalize_whitespace(html)  # plain text: skip the parser (common in feeds)
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        # the options bs4's lxml builder uses, so that the events are the ones its tree is built from
        parser = HTMLParser(target=_TextTarget(), recover=True, huge_tree=False, encoding=None)
        _PARSERS.parser = parser
    target = parser.target
    target.reset()
    try:
        parser.feed(html[1:] if html.startswith("\ufeff") else html)  # bs4 drops a leading BOM
        parts = parser.close()
    except (UnicodeDecodeError, LookupError, ParserError):
        # bs4 retries such markup in other ways; let it, for the same result (never seen in feeds)
        _PARSERS.parser = None
        return _node_text(_soup(html))
    except BaseException:
        _PARSERS.parser = None  # in an unknown state: the next call starts a new one
        raise
    return _parts_text(parts)


def _page_title(soup: BeautifulSoup) -> str | None:
    for selector in ('meta[property="og:title"]', 'meta[name="twitter:title"]'):
        meta = soup.select_one(selector)
        if meta and isinstance(content := meta.get("content"), str) and content.strip():
            return normalize_whitespace(str(content))
    if soup.title and soup.title.string:
        return normalize_whitespace(str(soup.title.string)) or None
    heading = soup.find("h1")
    if heading:
        return normalize_whitespace(heading.get_text(" ")) or None
    return None


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


# A post's meta line: date or time, author, categories, comment link, joined by separators. Tables
# come out as "| a | b |" rows, hence the separator must not open the block.
META_LINE_MAX_WORDS = 20
_DATE = re.compile(
    r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b(?:jan|feb|m[aä]r|apr|ma[iy]|jui?[nl]|aug|sep|o[ck]t|nov|d[eé][cz]|janvier|f[eé]vrier|avril|ao[uû]t)"
    r"[a-zéû]*\.?\s+(?:\d{1,2}\b|\d{4}\b)",
    re.IGNORECASE,
)
_META_SEPARATOR = re.compile(r"\s[|·•]\s")


def _is_meta_line(block: str) -> bool:
    return (
        len(block.split()) <= META_LINE_MAX_WORDS
        and not block.startswith("|")
        and _META_SEPARATOR.search(block) is not None
        and _DATE.search(block) is not None
    )


# The heading that opens a reader-comment section ("3 Kommentare", "#1 Comment by Ann", "Leave a
# reply", "12 thoughts on ..."). trafilatura drops comment sections it recognises by their markup;
# ones in plain divs come through, and everything from such a heading on is comments. A bare
# "Comments" is not enough: articles have sections of that name.
COMMENT_HEADING_MAX_WORDS = 12
_COMMENT_HEADING = re.compile(
    r"^#?\d+\.?\s+(?:kommentare?|comments?|commentaires?|antworten|responses?|replies)"
    r"(?:\s+(?:von|by|de|par|to|zu|on)\b.*)?:?$"
    r"|^(?:kommentare?|comments?|commentaires?)\s*\(\d+\):?$"
    r"|^(?:leave a (?:reply|comment)|\d+\s+thoughts? on\b)",
    re.IGNORECASE,
)


def _is_comment_heading(block: str) -> bool:
    return len(block.split()) <= COMMENT_HEADING_MAX_WORDS and _COMMENT_HEADING.search(block) is not None


# A heading over a list of links to other articles ("Read more", "Auch auf example.de", "À lire
# aussi") that ends the text: the heading and the headlines after it go. Headlines are short; a
# longer block after the heading means the article goes on and nothing is cut.
RELATED_HEADING_MAX_WORDS = 8
RELATED_ITEM_MAX_WORDS = 25
_RELATED_HEADING = re.compile(
    r"^\W{0,3}(?:read more|related(?:\s+(?:articles|stories|posts|content|reading|links))?|see also"
    r"|more (?:from|on|about|stories)\b.*|also on\b.*|auch (?:auf|bei)\b.*|lesen sie (?:auch|mehr)"
    r"|mehr zum thema|weitere (?:artikel|beiträge)|das könnte sie auch interessieren|(?:à )?lire aussi"
    r"|sur le même sujet|you (?:may|might) also (?:like|enjoy)|recommended(?: for you)?)\W{0,3}$",
    re.IGNORECASE,
)


def _without_related_tail(blocks: list[str]) -> list[str]:
    for index, block in enumerate(blocks[1:], start=1):
        if len(block.split()) <= RELATED_HEADING_MAX_WORDS and _RELATED_HEADING.search(block):
            tail = blocks[index + 1 :]
            if tail and all(len(item.split()) <= RELATED_ITEM_MAX_WORDS for item in tail):
                return blocks[:index]
    return blocks


def _trafilatura_text(text: str) -> str:
    # trafilatura separates blocks with one newline; our convention is a blank line between them.
    blocks: list[str] = []
    for block in (line.strip() for line in text.split("\n")):
        if blocks and _is_comment_heading(block):
            break  # the rest is reader comments
        if block:
            blocks.append(block)
    kept = (b for b in _without_related_tail(blocks) if not _is_boilerplate(b) and not _is_meta_line(b))
    return normalize_whitespace("\n\n".join(kept))


# Parts of a page that are never the article, pruned from the parsed tree before trafilatura sees it:
# trafilatura drops most of them itself, but its readability/justext fallbacks run on the raw tree
# and bring them back: hidden elements (modal dialogs, collapsed menus), forms, newsletter sign-up and
# related-story boxes. Candidates come in one pass over the tree; XPath 1.0 cannot split class tokens,
# so `_is_prunable` checks them.
_WIDGET = r"newsletter|related|recommend|read-?next|more-(?:about|from|on|stories)"
_PRUNE_CANDIDATES = XPath(
    "//body//*[self::form or @hidden or @aria-hidden='true' or contains(@style, 'none')"
    " or contains(@class, 'hidden') or ((self::div or self::section or self::aside)"
    f" and (re:test(@class, '{_WIDGET}', 'i') or re:test(@id, '{_WIDGET}', 'i')))]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_WIDGET_NAME = re.compile(_WIDGET, re.IGNORECASE)
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
# A pruned element never holds more than this share of the page's text: when it does, the page puts
# its article inside it (ASP.NET wraps whole pages in a <form>, some themes hide the body until a
# script runs), and dropping it would leave nothing.
PRUNE_MAX_SHARE = 0.3


def _is_prunable(element: HtmlElement) -> bool:
    if element.tag == "form":
        return True
    style, classes = element.get("style", ""), element.get("class", "").split()
    return (
        element.get("hidden") is not None
        or element.get("aria-hidden") == "true"
        or _DISPLAY_NONE.search(style) is not None
        or "hidden" in classes
        or (
            element.tag in ("div", "section", "aside")
            and _WIDGET_NAME.search(f"{element.get('class', '')} {element.get('id', '')}") is not None
        )
    )


def _remove(element: HtmlElement) -> None:
    """Drop an element but keep its tail text, which belongs to the parent."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _prune_page(tree: HtmlElement) -> None:
    """Drop hidden elements, forms and sign-up or related-story boxes, unless they hold the article."""
    candidates = [e for e in _PRUNE_CANDIDATES(tree) if _is_prunable(e)]
    body = tree.find("body")
    if not candidates or body is None:
        return
    limit = PRUNE_MAX_SHARE * len(body.text_content())
    for element in candidates:
        if element.find(".//h1") is None and len(element.text_content()) <= limit:
            _remove(element)


def _walk_json(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _structured_body(tree: HtmlElement) -> str:
    """The longest schema.org `articleBody` in the page's JSON-LD, as text ("" if none).

    Script-rendered news sites ship the article only there and in a JavaScript state blob, so the
    visible HTML holds a picture caption and trafilatura finds nothing better.
    """
    best = ""
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in _walk_json(data):
            body = item.get("articleBody")
            if isinstance(body, str) and len(body) > len(best):
                best = body
    return html_to_text(best) if best else ""


_DESCRIPTION = XPath(
    "//head/meta[@property='og:description' or @name='description' or @name='twitter:description']/@content"
)
_LEAD_CANDIDATES = XPath("//body//p")
_LEAD_EXCLUDED = frozenset({"nav", "footer", "aside", "form", "figcaption", "li", "a"})
# A lead is a sentence or a short paragraph; longer descriptions are the article's first paragraph
# copied into a meta tag (trafilatura keeps those) or a whole abstract.
LEAD_WORDS = (6, 80)


def _lead(tree: HtmlElement) -> str:
    """The page's lead (standfirst): the meta description when a paragraph of the body repeats it.

    News themes put the lead above the article, beside the headline, where trafilatura drops it with
    the rest of the header. The meta description alone is not enough: many sites write one that the
    reader never sees.
    """
    descriptions = {normalize_whitespace(str(d)) for d in _DESCRIPTION(tree)}
    descriptions = {d for d in descriptions if LEAD_WORDS[0] <= len(d.split()) <= LEAD_WORDS[1]}
    if not descriptions:
        return ""
    for paragraph in _LEAD_CANDIDATES(tree):
        text = normalize_whitespace(paragraph.text_content())
        if text in descriptions and not any(a.tag in _LEAD_EXCLUDED for a in paragraph.iterancestors()):
            return text
    return ""


# The structured body replaces the extracted text only when it is this many times longer: both come
# from the same article, so a small difference is formatting, a large one means trafilatura missed it.
STRUCTURED_BODY_FACTOR = 2.0


def extract_page(
    data: bytes, url: str | None = None, language: Callable[[str], str | None] | None = None
) -> ExtractedPage:
    """Main text, title, publication date and (when given a detector) language of a full web page.

    trafilatura finds the main text in a pruned tree; a much longer JSON-LD `articleBody` replaces it,
    and when there is neither (very short pages, odd markup) the whole body is converted with
    `html_to_text`, which keeps navigation out but not every side block.
    """
    tree = None
    structured = lead = ""
    try:
        tree = trafilatura.load_html(data)
    except Exception:  # lxml can fail on hostile markup; trafilatura and the fallback still try
        logger.warning("could not parse page", exc_info=True, extra={"url": url})
    if tree is not None:
        structured = _structured_body(tree)
        _prune_page(tree)
        lead = _lead(tree)

    document: Document | None = None
    try:
        # bare_extraction is typed Document | dict | None for every call: a dict only with as_dict=True
        document = cast(
            "Document | None",
            trafilatura.bare_extraction(
                tree if tree is not None else data,
                url=url,
                with_metadata=True,
                include_comments=False,  # reader comments are not the article
                include_tables=True,
                date_extraction_params=DATE_PARAMS,
            ),
        )
    except Exception:  # trafilatura/lxml can fail on hostile markup; the fallback still applies
        logger.warning("trafilatura failed; falling back to html_to_text", exc_info=True, extra={"url": url})

    text = _trafilatura_text(document.text) if document is not None and document.text else ""
    title = normalize_whitespace(document.title) if document is not None and document.title else None
    published = parse_optional(document.date) if document is not None else None
    if len(structured) > STRUCTURED_BODY_FACTOR * len(text):
        text = structured
    if lead and text and lead not in text:
        text = f"{lead}\n\n{text}"

    if not text or title is None:
        soup = _soup(data)
        if title is None:
            title = _page_title(soup)
        if not text:
            body = soup.body or soup
            text = _node_text(body)
    return ExtractedPage(
        title=title, text=text, published=published, language=language(text) if language else None
    )
