"""ingest.files: the seed format, JSON lines, HTML pages and the files that must be rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import InputError
from monitor.extract.normalize import decode_text
from monitor.ingest.files import parse_inbox_file, parse_seed_text
from monitor.models import FeedItem

INBOX = Path(__file__).resolve().parents[1] / "fixtures" / "inbox"
SEED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "seed" / "osce_astana_conference.txt"
LIMIT = 1_000_000


def _parse(name: str):
    return parse_inbox_file(name, (INBOX / name).read_bytes(), LIMIT)


def _body(item: FeedItem) -> str:
    """The article body: seed-format items keep the file verbatim in `raw`; processing re-parses it."""
    return parse_seed_text("body", item.raw).raw if item.raw_format == "seed" else item.raw


def test_seed_format_matches_expectation() -> None:
    expected = json.loads((INBOX / "border_seed.expected.json").read_text(encoding="utf-8"))
    parsed = _parse("border_seed.txt")
    (item,) = parsed.items
    assert parsed.problems == []
    assert item.title == expected["title"]
    assert item.source_name == expected["source_name"]
    assert item.raw_format == expected["raw_format"]
    assert _body(item).split("\n\n") == expected["paragraphs"]
    assert item.raw == (INBOX / "border_seed.txt").read_text(encoding="utf-8")  # verbatim


def test_final_short_sentence_is_body_not_source() -> None:
    (item,) = _parse("no_source.txt").items
    assert item.source_name is None
    assert _body(item).endswith("Checks start today.")


def test_hard_wrapped_text_is_rejoined_and_headings_kept() -> None:
    sentence = "Border guards reported more smuggling attempts along the eastern frontier this month. "
    wrapped = "\n".join(
        [
            "Smuggling Rises",
            "",
            "Border guards reported more smuggling attempts along the eastern frontier",
            "this month. Border guards reported more smuggling attempts along the",
            "eastern frontier this month. Border guards reported more smuggling",
            "attempts along the eastern frontier this month.",
            "",
            "Officials Respond",
            "",
            "Border guards reported more smuggling attempts along the eastern frontier",
            "this month.",
            "",
            "Wire Desk",
        ]
    )
    (item,) = parse_inbox_file("wrapped.md", wrapped.encode(), LIMIT).items
    assert item.title == "Smuggling Rises"
    assert item.source_name == "Wire Desk"
    assert _body(item).split("\n\n") == [(sentence * 3).strip(), "Officials Respond", sentence.strip()]


@pytest.mark.skipif(not SEED.exists(), reason="shared seed file not present")
def test_real_seed_file() -> None:
    (item,) = parse_inbox_file(SEED.name, SEED.read_bytes(), LIMIT).items
    paragraphs = _body(item).split("\n\n")
    assert item.title.startswith("The First Anti-Terrorism OSCE Conference")
    assert item.source_name == "World media monitoring"
    assert "World media monitoring" not in _body(item)
    assert "Using The Power Of The Chairman" in paragraphs
    assert paragraphs[-1].endswith("confirmed their participation within this event.")


def test_jsonl_good_lines_parsed_bad_lines_reported() -> None:
    parsed = _parse("articles.jsonl")
    titles = [item.title for item in parsed.items]
    assert titles == [
        "Cyber attack disrupts city water utility",
        "Arms control talks resume",
        "Police dismantle trafficking network",
    ]
    first, second, third = parsed.items
    assert first.published == datetime(2024, 3, 5, 9, 15, tzinfo=UTC)
    assert (first.url, first.source_name, first.language, first.guid) == (
        "https://news.example.org/water-attack",
        "Example News",
        "en",
        "ex-1",
    )
    assert second.published == datetime(2024, 3, 5, 12, 0, tzinfo=UTC)  # RFC 822
    assert third.published == datetime(2024, 3, 6, tzinfo=UTC)  # a bare date is taken as UTC
    assert parsed.problems == [
        "articles.jsonl line 2: not valid JSON (Expecting value at column 1)",
        "articles.jsonl line 4: missing or empty title",
        "articles.jsonl line 5: not a JSON object but list",
        "articles.jsonl line 6: bad date 'yesterday evening': not ISO 8601 or RFC 822",
    ]


def test_jsonl_without_any_good_line_is_rejected() -> None:
    with pytest.raises(
        InputError, match=r"bad.jsonl: no usable article \(bad.jsonl line 1: missing or empty text"
    ):
        parse_inbox_file("bad.jsonl", b'{"title": "only a title"}\n', LIMIT)


def test_html_file_keeps_page_and_takes_title_and_date() -> None:
    parsed = _parse("report.html")
    (item,) = parsed.items
    assert item.title == "Coast Guard Intercepts Smuggling Boat"
    assert item.raw_format == "page"
    assert item.raw == (INBOX / "report.html").read_text(encoding="utf-8")
    assert item.published == datetime(2024, 2, 11, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b" \n\n\t\n", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary content (NUL bytes)"),
        ("ctrl.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 20 + b"text", "binary content (160 control bytes"),
        ("big.txt", b"a" * (LIMIT + 1), f"file too large: {LIMIT + 1} bytes, the limit is {LIMIT} bytes"),
        ("report.pdf", b"%PDF-1.7", "unsupported file type '.pdf'"),
        ("README", b"text", "unsupported file type '(no extension)'"),
        ("title_only.txt", b"Just A Title\n", "no usable article: a title but no text"),
        ("nothing.html", b"<html><body><script>x()</script></body></html>", "no usable article"),
    ],
)
def test_rejected_files(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_inbox_file(name, data, LIMIT)
    assert info.value.source == name
    assert info.value.reason.startswith(reason)


RUSSIAN = (
    "Угроза терроризма\n\nПредседатель комитета заявил, что угроза терроризма остаётся реальной.\nАстана\n"
)
FRENCH = "Coopération régionale\n\nLe ministre a déclaré que la coopération était très importante à Genève.\n"


@pytest.mark.parametrize(
    ("text", "encoding", "note"),
    [
        (RUSSIAN, "cp1251", "not valid UTF-8 (byte 0xd3 at offset 0); decoded as cp1251"),
        (FRENCH, "latin-1", "not valid UTF-8 (byte 0xe9 at offset 4); decoded as cp1252"),
    ],
)
def test_single_byte_text_claiming_utf8_is_recovered_with_a_note(text: str, encoding: str, note: str) -> None:
    parsed = parse_inbox_file("claims-utf8.txt", text.encode(encoding), LIMIT)
    (item,) = parsed.items
    assert item.title == text.split("\n", 1)[0]
    assert parsed.problems == [f"claims-utf8.txt: {note}"]


def test_decode_text_utf8_bom_and_utf16() -> None:
    assert decode_text("\ufeffTitel mit Umlaut ä".encode(), "a") == ("Titel mit Umlaut ä", None)
    assert decode_text("Заголовок".encode("utf-16"), "b") == ("Заголовок", None)
    with pytest.raises(InputError, match="no other encoding gives plausible text"):
        decode_text(bytes(range(128, 256)) * 3, "c")


def test_utf8_cut_inside_its_last_character_keeps_the_rest() -> None:
    data = "Пограничники задержали контрабандистов".encode()[:-1]  # cut inside the last letter
    text, note = decode_text(data, "cut.txt")
    assert text == "Пограничники задержали контрабандисто"
    assert note is not None and "truncated character dropped" in note


def test_utf8_with_a_few_cp1252_bytes_is_read_as_utf8_not_as_mojibake() -> None:
    # A UTF-8 file (curly quotes, Cyrillic) into which a cp1252 "é" and "’" were pasted.
    utf8 = "“Border talks” in Астана — officials of Кыргызстан and Тоҷикистон met. ".encode() * 3
    data = utf8 + b"Caf\xe9 owners\x92 union joined."
    text, note = decode_text(data, "mixed.txt")
    assert text.startswith("“Border talks” in Астана")  # the UTF-8 part intact
    assert text.endswith("Café owners’ union joined.")  # the stray bytes as cp1252
    assert note == "not valid UTF-8 (byte 0xe9 at offset 312): 2 invalid byte(s) read as cp1252"


def test_single_byte_text_is_not_mistaken_for_damaged_utf8() -> None:
    text, note = decode_text("Пограничники задержали контрабандистов на границе".encode("cp1251"), "a")
    assert text == "Пограничники задержали контрабандистов на границе"
    assert note is not None and note.endswith("decoded as cp1251")
