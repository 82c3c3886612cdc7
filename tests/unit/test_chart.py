"""Digest charts: valid PNG, e-mail sized, same bytes for the same input (also across processes)."""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
import zlib

import pytest

from monitor.digest.chart import WIDTH_PX, articles_per_day_png, daily_volume_png, topic_volume_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

COUNTS = [
    ("Terrorism", 12),
    ("Armed conflict", 9),
    ("Organised crime and trafficking", 7),
    ("Cyber threats", 14),
    ("International security cooperation", 4),
]
TITLE = "Articles by topic, 2026-11-26"
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


def test_topic_chart_is_a_png_of_email_width() -> None:
    png = topic_volume_png(COUNTS, TITLE)
    width, height = _ihdr(png)
    assert width == WIDTH_PX == 600
    # Grows with the number of bars but stays well under a screen for a whole taxonomy.
    assert 150 < height < 400
    assert _chunk_types(png)[-1] == b"IEND"


def test_topic_chart_carries_no_text_metadata() -> None:
    # tEXt/iTXt/tIME would carry the matplotlib version or a timestamp and break byte equality.
    types = _chunk_types(topic_volume_png(COUNTS, TITLE))
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(types)


def test_topic_chart_is_deterministic() -> None:
    assert topic_volume_png(COUNTS, TITLE) == topic_volume_png(list(COUNTS), TITLE)


def test_topic_chart_is_deterministic_across_processes() -> None:
    # A fresh interpreter has a fresh font cache and hash seed: neither may change the bytes.
    code = (
        "import sys; from monitor.digest.chart import topic_volume_png; "
        f"sys.stdout.buffer.write(topic_volume_png({COUNTS!r}, {TITLE!r}))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert other == topic_volume_png(COUNTS, TITLE)


def test_topic_chart_changes_with_counts_and_title() -> None:
    base = topic_volume_png(COUNTS, TITLE)
    assert topic_volume_png([*COUNTS[:-1], ("International security cooperation", 5)], TITLE) != base
    assert topic_volume_png(COUNTS, "Articles by topic, 2026-11-27") != base


def test_taller_with_more_topics() -> None:
    assert _ihdr(topic_volume_png(COUNTS, TITLE))[1] > _ihdr(topic_volume_png(COUNTS[:2], TITLE))[1]


def test_topic_chart_empty_input_gives_small_image() -> None:
    png = topic_volume_png([], TITLE)
    width, height = _ihdr(png)
    assert width == 600
    assert height <= 150  # a placeholder, not a chart-sized blank
    assert png == topic_volume_png([], TITLE)


def test_topic_chart_handles_non_ascii_long_labels_and_zero() -> None:
    png = topic_volume_png([("Kyiv – Київ", 3), ("x" * 200, 0)], "Тема – topic")
    assert _ihdr(png)[0] == 600


def test_topic_chart_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match="Terrorism"):
        topic_volume_png([("Terrorism", -1)], TITLE)


def test_daily_chart() -> None:
    png = daily_volume_png(DAYS, SERIES, "Articles per day, last 14 days")
    assert _ihdr(png)[0] == 600
    assert png == daily_volume_png(DAYS, dict(SERIES), "Articles per day, last 14 days")
    changed = {**SERIES, "Cyber threats": [9, *SERIES["Cyber threats"][1:]]}
    assert daily_volume_png(DAYS, changed, "Articles per day, last 14 days") != png


def test_daily_chart_empty_and_all_zero() -> None:
    empty = daily_volume_png([], {}, "Articles per day")
    assert _ihdr(empty)[0] == 600
    assert daily_volume_png(DAYS, {"Terrorism": [0] * 14}, "Articles per day") == empty


def test_daily_chart_rejects_series_of_wrong_length() -> None:
    with pytest.raises(ValueError, match="13 values for 14 days"):
        daily_volume_png(DAYS, {"Terrorism": [1] * 13}, "Articles per day")


TOTALS = [4, 5, 2, 3, 7, 3, 6, 8, 5, 4, 6, 3, 4, 5]  # articles per day: never less than a topic's line


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
