"""The plain-text report format of inbox files (the seed): title line, paragraphs, short sub-heading
lines, an optional trailing source line ("World media monitoring").

Pure text in, a `FeedItem` out. Both ingestion (to read the title and the source line) and the
analysis chain (to lay out the stored raw text as paragraphs) use it, so the stored original is
parsed by the one parser whatever later changes it gets.
"""

from __future__ import annotations

import re

from monitor.errors import InputError
from monitor.extract.normalize import normalize_whitespace
from monitor.models import FeedItem

# A sub-heading ("Using The Power Of The Chairman") is a short line without closing punctuation.
HEADING_MAX_WORDS = 14
HEADING_MAX_CHARS = 120
# The trailing source line ("World media monitoring") is shorter still.
SOURCE_MAX_WORDS = 6
SOURCE_MAX_CHARS = 60
# Hard-wrap detection: at least this many lines, none longer than this, half of them near the width.
WRAP_MIN_LINES = 5
WRAP_MAX_WIDTH = 100
WRAPPED_SHARE = 0.75
# Closing punctuation that makes a line a sentence (body text), including closing quotes/brackets.
_SENTENCE_END = tuple('.!?…:;"”’»)]')
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_RULE = re.compile(r"^(?:[-*_]\s*){3,}$")


def _is_heading(line: str) -> bool:
    return (
        len(line) <= HEADING_MAX_CHARS
        and len(line.split()) <= HEADING_MAX_WORDS
        and not line.endswith(_SENTENCE_END)
        and any(c.isalpha() for c in line)
    )


def _is_source_line(line: str) -> bool:
    return (
        len(line) <= SOURCE_MAX_CHARS
        and len(line.split()) <= SOURCE_MAX_WORDS
        and not line.endswith(_SENTENCE_END)
        and any(c.isalpha() for c in line)
    )


def _wrap_width(lines: list[str]) -> int | None:
    """The column a hard-wrapped file breaks at, or None when lines are whole paragraphs.

    Hard-wrapped text has most lines close to one width (72, 80); there a short first line of a
    paragraph is not a heading, so headings must also be clearly shorter than the wrap width.
    """
    if len(lines) < WRAP_MIN_LINES:
        return None
    width = max(len(line) for line in lines)
    if width > WRAP_MAX_WIDTH:
        return None
    near = sum(1 for line in lines if len(line) >= WRAPPED_SHARE * width)
    return width if near >= len(lines) / 2 else None


def _clean_line(line: str) -> str:
    line = _MD_HEADING.sub("", line.strip())  # markdown "## Heading" -> "Heading"
    return " ".join(line.split())


def parse_seed_text(name: str, text: str) -> FeedItem:
    """The seed format: title line, paragraphs, short sub-heading lines, a trailing source line.

    Paragraphs are separated by blank lines or are one line each; hard-wrapped paragraphs (lines that
    stop mid-sentence) are joined again. Sub-headings become paragraphs of their own. A short last
    line without closing punctuation names the outlet (FeedItem.source_name) and leaves the body.
    """
    lines = [_clean_line(line) for line in normalize_whitespace(text).split("\n")]
    lines = [line for line in lines if not _MD_RULE.match(line)]
    content = [i for i, line in enumerate(lines) if line]
    if not content:
        raise InputError(name, "no usable article: the file has no text")
    title = lines[content[0]]
    body_lines = lines[content[0] + 1 :]
    while body_lines and not body_lines[-1]:
        body_lines.pop()

    source_name = None
    # Only with body text left above it: a two-line file is a title and a one-line body.
    non_empty = [line for line in body_lines if line]
    if len(non_empty) >= 2 and _is_source_line(non_empty[-1]):
        source_name = body_lines.pop()

    wrap_width = _wrap_width([line for line in body_lines if line])
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for line in body_lines:
        if not line:
            flush()
        elif (
            not current
            and _is_heading(line)
            and (wrap_width is None or len(line) < WRAPPED_SHARE * wrap_width)
        ):
            # Only at a paragraph start: inside a paragraph a short line is its hard-wrapped remainder.
            paragraphs.append(line)
        else:
            current.append(line)
            # In one-paragraph-per-line files (the seed) a line ending a sentence ends the paragraph
            # and one stopping mid-sentence continues on the next; hard-wrapped files use blank lines.
            if wrap_width is None and line.endswith(_SENTENCE_END):
                flush()
    flush()
    body = "\n\n".join(paragraphs)
    if not body:
        raise InputError(name, "no usable article: a title but no text")
    return FeedItem(title=title, raw=body, raw_format="text", source_name=source_name)
