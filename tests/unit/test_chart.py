"""Digest charts: valid PNG, e-mail sized, same bytes for the same input (also across processes)."""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
import zlib

import pytest

from monitor.digest.chart import WIDTH_PX, articles_per_day_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TITLE = "Articles per day, 2026-11-13 to 2026-11-26"
DAYS = [dt.date(2026, 11, 13) + dt.timedelta(days=i) for i in range(14)]
SERIES = {
    "Terrorism": [3, 4, 0, 2, 5, 1, 0, 7, 2, 3, 4, 1, 0, 2],
    "Armed conflict": [1, 0, 2, 2, 3, 0, 1, 1, 4, 0, 2, 2, 1, 3],
    "Cyber threats": [0, 1, 1, 0, 0, 2, 5, 1, 0, 1, 1, 0, 3, 1],
}


def _ihdr(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk: signature (8), length (4), type (4), then two uint32."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13  # IHDR is always the first chunk and 13 bytes long
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _chunk_types(png: bytes) -> list[bytes]:
    """All chunk types, checking each chunk's CRC on the way (a truncated or corrupt PNG fails)."""
    types, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + data) == crc, kind
        types.append(kind)
        pos += 12 + length
    return types


TOTALS = [4, 5, 2, 3, 7, 3, 6, 8, 5, 4, 6, 3, 4, 5]  # articles per day: never less than a topic's line


def _chart(totals: list[int] = TOTALS, title: str = TITLE) -> bytes:
    return articles_per_day_png(DAYS, totals, SERIES, title, x_label="Day (first seen, UTC)")


def test_chart_is_a_png_of_email_width_without_text_metadata() -> None:
    png = _chart()
    width, height = _ihdr(png)
    assert width == WIDTH_PX and 200 < height < 1000
    types = _chunk_types(png)
    assert types[0] == b"IHDR" and types[-1] == b"IEND"
    # No tEXt/iTXt/zTXt (matplotlib writes its version and the software by default), no time.
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(types)


def test_chart_is_deterministic_across_processes() -> None:
    code = (
        "import sys, datetime as dt; from monitor.digest.chart import articles_per_day_png; "
        f"days = [dt.date(2026, 11, 13) + dt.timedelta(days=i) for i in range(14)]; "
        f"sys.stdout.buffer.write(articles_per_day_png(days, {TOTALS!r}, {SERIES!r}, {TITLE!r}, "
        "x_label='Day (first seen, UTC)'))"
    )
    other = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout
    assert other == _chart()


def test_chart_changes_with_counts_and_title() -> None:
    assert _chart([9, *TOTALS[1:]]) != _chart()
    assert _chart(title="Articles per day, 2026-11-27") != _chart()


def test_chart_handles_non_ascii_long_labels() -> None:
    png = articles_per_day_png(DAYS[:2], [3, 1], {"Kyiv – Київ " + "x" * 200: [2, 0]}, "Тема – topic")
    assert _ihdr(png)[0] == WIDTH_PX


def test_chart_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        articles_per_day_png(DAYS[:1], [-1], {}, TITLE)
    with pytest.raises(ValueError, match="must not be negative"):
        articles_per_day_png(DAYS[:1], [1], {"Terrorism": [-1]}, TITLE)


def test_articles_per_day_chart_is_deterministic_and_counts_articles() -> None:
    png = articles_per_day_png(DAYS, TOTALS, SERIES, "Articles per day", x_label="Day (first seen, UTC)")
    assert _ihdr(png)[0] == WIDTH_PX
    assert png == articles_per_day_png(
        DAYS, list(TOTALS), dict(SERIES), "Articles per day", x_label="Day (first seen, UTC)"
    )
    assert articles_per_day_png(DAYS, [9, *TOTALS[1:]], SERIES, "Articles per day") != png
    # The legend has one row per entry (bars + each topic): more topics, a taller image, none cut.
    fewer = articles_per_day_png(DAYS, TOTALS, {"Terrorism": SERIES["Terrorism"]}, "Articles per day")
    assert _ihdr(png)[1] > _ihdr(fewer)[1]


def test_articles_per_day_chart_of_one_day_and_of_nothing() -> None:
    one = articles_per_day_png(DAYS[:1], [15], {"Terrorism": [4]}, "Articles per day, 2026-11-13")
    assert _ihdr(one)[0] == WIDTH_PX
    empty = articles_per_day_png([], [], {}, "Articles per day")
    assert articles_per_day_png(DAYS, [0] * 14, {}, "Articles per day") == empty
    with pytest.raises(ValueError, match="13 values for 14 days"):
        articles_per_day_png(DAYS, [1] * 13, {}, "Articles per day")
