"""The one date parser (extract/dates.py): every input form the monitor meets, as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.extract.dates import parse_datetime, parse_optional


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T10:00:00Z", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("2024-03-05T12:00:00+02:00", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),  # converted to UTC
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),  # no offset: UTC
        ("  2024-03-05 10:00  ", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("2017/2/7", datetime(2017, 2, 7, tzinfo=UTC)),  # the 2017 corpus's form
        ("Tue, 05 Mar 2024 10:00:00 GMT", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),  # RFC 822 / HTTP
        ("Tue, 05 Mar 2024 11:00:00 +0100", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("Thursday, 01-Jan-70 00:02:00 GMT", datetime(1970, 1, 1, 0, 2, tzinfo=UTC)),  # obsolete RFC 850
    ],
)
def test_every_form_gives_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["soon", "2024-13-45", "", "yesterday at noon"])
def test_unreadable_dates_raise_naming_the_value_or_give_none(text: str) -> None:
    with pytest.raises(ValueError, match="bad date"):
        parse_datetime(text)
    assert parse_optional(text) is None
    assert parse_optional(None) is None
