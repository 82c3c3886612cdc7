"""The one date parser: every date the monitor reads from its inputs, as an aware UTC datetime.

Feeds' dates are parsed by feedparser (to UTC struct_time); everything else comes through here:
JSON-line `published` fields, dates trafilatura finds in pages, HTTP headers (Retry-After,
Last-Modified), the offline cluster command's input.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime


def parse_datetime(value: str) -> datetime:
    """ISO 8601 ("2024-03-05T10:00:00Z", "2024-03-05"), a slashed or unpadded day ("2017/2/7") or
    RFC 822 / HTTP-date ("Tue, 05 Mar 2024 10:00:00 GMT", and its obsolete forms), as an aware UTC
    datetime; a value without an offset is taken as UTC. Raises ValueError naming the value."""
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text.replace("/", "-"), "%Y-%m-%d")
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = None
    if parsed is None:
        raise ValueError(f"bad date {value!r}: not ISO 8601 or RFC 822")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_optional(value: str | None) -> datetime | None:
    """`parse_datetime`, or None for a missing or unreadable value."""
    if not value or not value.strip():
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None
