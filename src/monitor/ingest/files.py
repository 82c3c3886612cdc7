"""Inbox files (.txt/.md seed format, .html/.htm pages, .jsonl articles) as bytes -> ParsedFile.

Pure: the caller reads the file and passes its name (for messages and the extension) and bytes.
Whole-file problems raise InputError(name, reason); per-line problems are returned as data.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from monitor.errors import InputError
from monitor.extract.dates import parse_datetime
from monitor.extract.html import extract_page
from monitor.extract.normalize import decode_text, normalize_whitespace
from monitor.extract.report import parse_seed_text
from monitor.models import FeedItem, ParsedFile

logger = logging.getLogger(__name__)

TEXT_EXTENSIONS = (".txt", ".md")
HTML_EXTENSIONS = (".html", ".htm")
JSONL_EXTENSIONS = (".jsonl",)
SUPPORTED = TEXT_EXTENSIONS + HTML_EXTENSIONS + JSONL_EXTENSIONS

# Share of control characters (other than tab/newline/CR/FF) above which bytes are not text.
MAX_CONTROL_SHARE = 0.05


def parse_inbox_file(name: str, data: bytes, max_bytes: int) -> ParsedFile:
    """Parse one inbox file by its extension. Raises InputError(name, reason) for a file that yields
    nothing usable: unsupported extension, empty, too large, binary, undecodable, no article."""
    extension = PurePath(name).suffix.lower()
    if extension not in SUPPORTED:
        raise InputError(
            name, f"unsupported file type {extension or '(no extension)'!r}: use {', '.join(SUPPORTED)}"
        )
    if len(data) > max_bytes:
        raise InputError(name, f"file too large: {len(data)} bytes, the limit is {max_bytes} bytes")
    if not data.strip():
        raise InputError(name, "empty file")
    _reject_binary(name, data)

    if extension in HTML_EXTENSIONS:
        return _parse_html(name, data)
    text, note = decode_text(data, name)
    problems = [f"{name}: {note}"] if note else []
    if extension in JSONL_EXTENSIONS:
        items, line_problems = _parse_jsonl(name, text)
        problems.extend(line_problems)
        if not items:
            detail = f" ({line_problems[0]}{' …' if len(line_problems) > 1 else ''})" if line_problems else ""
            raise InputError(name, f"no usable article{detail}")
        return ParsedFile(items=items, problems=problems)
    item = parse_seed_text(name, text)
    # The stored raw is the file's text verbatim ("seed" format); processing parses the body again
    # from it, so the original survives any later change to the parser.
    return ParsedFile(items=[replace(item, raw=text, raw_format="seed")], problems=problems)


def _reject_binary(name: str, data: bytes) -> None:
    sample = data[:65536]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text carries NUL bytes legitimately; decode_text handles its BOM
    if b"\x00" in sample:
        raise InputError(name, "binary content (NUL bytes), not a text file")
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    if controls > MAX_CONTROL_SHARE * len(sample):
        raise InputError(
            name, f"binary content ({controls} control bytes in the first {len(sample)}), not text"
        )


# --- HTML pages ------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)


def _decode_html(name: str, data: bytes) -> tuple[str, str | None]:
    """UTF-8 first, then the charset the page declares, then guessing (with a note)."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:8192])
    if declared:
        encoding = declared.group(1).decode("ascii")
        try:
            return data.decode(encoding), None
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data, name)


def _parse_html(name: str, data: bytes) -> ParsedFile:
    html, note = _decode_html(name, data)
    page = extract_page(html.encode("utf-8"))
    if not page.text:
        raise InputError(name, "no usable article: the page has no main text")
    item = FeedItem(
        title=page.title or PurePath(name).stem,
        raw=html,  # the page verbatim
        raw_format="page",
        published=page.published,
        text=page.text,  # what processing would extract from `raw` (the same call), handed on
    )
    return ParsedFile(items=[item], problems=[f"{name}: {note}"] if note else [])


# --- JSON lines ------------------------------------------------------------------------------------

_OPTIONAL_STR = ("url", "source", "language", "guid")


def _jsonl_item(record: Any) -> FeedItem:
    """One JSON line -> FeedItem; ValueError with a short reason when it is unusable."""
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object but {type(record).__name__}")
    missing = [
        key for key in ("title", "text") if not isinstance(record.get(key), str) or not record[key].strip()
    ]
    if missing:
        raise ValueError(f"missing or empty {' and '.join(missing)}")
    for key in (*_OPTIONAL_STR, "published"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ValueError(f"{key} must be a string")
    published = parse_datetime(record["published"]) if record.get("published") else None
    return FeedItem(
        title=" ".join(normalize_whitespace(record["title"]).split()),
        raw=record["text"],  # verbatim, as sent
        raw_format="text",
        url=record.get("url") or None,
        guid=record.get("guid") or None,
        published=published,
        source_name=record.get("source") or None,
        language=record.get("language") or None,
    )


def _parse_jsonl(name: str, text: str) -> tuple[list[FeedItem], list[str]]:
    items: list[FeedItem] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{name} line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        try:
            items.append(_jsonl_item(record))
        except ValueError as exc:
            problems.append(f"{name} line {number}: {exc}")
    if problems:
        logger.info("jsonl lines rejected", extra={"source": name, "rejected": len(problems)})
    return items, problems
