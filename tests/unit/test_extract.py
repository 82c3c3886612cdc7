"""extract: HTML to text, full-page extraction, normalisation, hashing and language detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trafilatura

from monitor.extract import html as extract_html
from monitor.extract.html import extract_page, html_to_text
from monitor.extract.language import LanguageDetector, detect_language
from monitor.extract.normalize import normalize_whitespace

# One model for the module: loading it takes most of a second.
DETECTOR = LanguageDetector()

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
# One small page per kind of extraction problem, each beside a .json with the segments its main text
# must and must not contain.
EXTRACT_PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "extract"


def test_html_to_text_drops_chrome_decodes_entities_keeps_paragraphs() -> None:
    text = html_to_text((PAGES / "fragment.html").read_text(encoding="utf-8"))
    assert text == (
        "Port security & customs\n\n"
        "Officers checked every container from the three routes – as announced.\n\n"
        "The minister said:\n“We will not wait.”\n\n"
        "First measure\n\n"
        "Second measure"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain words, no markup", "plain words, no markup"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("<b>bold</b> and <i>italic</i>", "bold and italic"),
        ("", ""),
        ("<script>only()</script>", ""),
        ("<p>zero\u200bwidth</p>", "zerowidth"),
    ],
)
def test_html_to_text_small_fragments(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_to_text_survives_very_deep_nesting() -> None:
    assert html_to_text("<div>" * 5000 + "deep" + "</div>" * 5000) == "deep"


def test_extract_page_main_text_title_date_language() -> None:
    page = extract_page(
        (PAGES / "article.html").read_bytes(), url="https://daily.example.com/arms-ring", language=DETECTOR
    )
    assert page.title == "Police Break Up Arms Trafficking Ring"
    assert page.published == datetime(2024, 1, 20, 13, 5, tzinfo=UTC)
    assert page.language == "en"
    assert "arrested eleven suspects on Thursday" in page.text
    assert page.text.rstrip().endswith("according to a statement released in the evening.")
    assert len(page.text.split("\n\n")) >= 4  # paragraphs stay apart
    for chrome in (
        "Subscribe now",
        "Most read",
        "Celebrity wedding",
        "All rights reserved",
        "Cookie",
        "slot1",
    ):
        assert chrome not in page.text


def test_extract_page_falls_back_for_tiny_pages() -> None:
    page = extract_page(b"<html><head><title>Short</title></head><body><p>One line.</p></body></html>")
    assert page.title == "Short"
    assert page.text == "One line."
    assert page.language is None  # too short to judge


@pytest.mark.parametrize("name", sorted(p.stem for p in EXTRACT_PAGES.glob("*.html")))
def test_extract_page_kinds_of_pages(name: str) -> None:
    """widgets: sign-up boxes, related-story boxes and hidden forms stay out; structured_body: a
    script-rendered page whose article is only in JSON-LD; lead: the standfirst in the article header;
    meta_and_comments: the post's date line and plain-div reader comments stay out; related_tail:
    a closing "Also on ..." list of headlines goes, a "Related" heading inside the article stays."""
    expected = json.loads((EXTRACT_PAGES / f"{name}.json").read_text(encoding="utf-8"))
    text = extract_page((EXTRACT_PAGES / f"{name}.html").read_bytes()).text
    for segment in expected["must_contain"]:
        assert segment in text
    for segment in expected["must_not_contain"]:
        assert segment not in text


def test_prune_page_drops_widgets_but_not_a_page_wide_form() -> None:
    article = "<p>" + "Officers checked every container on the three routes. " * 20 + "</p>"
    tree = trafilatura.load_html(
        "<html><body><form id='aspnetForm'><h1>Title</h1>" + article + "<div class='newsletter'>Join us</div>"
        "<div class='related-posts'><p>Other story</p></div><div style='display: none'>Hidden</div>"
        "<form><p>Search</p></form></form></body></html>"
    )
    extract_html._prune_page(tree)
    text = tree.text_content()
    assert "Officers checked" in text
    for gone in ("Join us", "Other story", "Hidden", "Search"):
        assert gone not in text


LONG_PARAGRAPH = (
    "The story goes on with what the officers found in the containers after the first search. " * 2
)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Title\nJanuary 13, 2020 at 08:45 AM | categories: Python | View Comments\nBody.", "Title\n\nBody."),
        ("Title\n24. März 2004, 19:49 | Genesis\nBody.", "Title\n\nBody."),
        ("| date | 12:30 | place |\nBody.", "| date | 12:30 | place |\n\nBody."),  # a table row stays
        ("Body.\n#1 Kommentar von Naru\n26. März 2004\nDanke!", "Body."),
        ("Body.\n3 Comments\nNice.", "Body."),
        ("Body.\nComments\nCode comments explain why.", "Body.\n\nComments\n\nCode comments explain why."),
        ("Body.\nRead more\nOne headline\nAnother headline", "Body."),
        (
            "Body.\nRelated\n" + LONG_PARAGRAPH,
            "Body.\n\nRelated\n\n" + LONG_PARAGRAPH.strip(),
        ),  # the story goes on
    ],
)
def test_trafilatura_text_drops_meta_lines_comments_and_related_tails(raw: str, text: str) -> None:
    assert extract_html._trafilatura_text(raw) == text

    messy = "  Caf\u0065\u0301\u00a0 au\tlait \r\n\r\n\n\n next\u200b para \nline  "
    assert normalize_whitespace(messy) == "Café au lait\n\nnext para\nline"


SAMPLES = {
    "en": "The interior ministry said on Monday that border patrols would be doubled after smugglers "
    "opened new routes through the mountains during the winter months.",
    "de": "Das Innenministerium teilte am Montag mit, dass die Grenzpatrouillen verdoppelt werden, "
    "nachdem Schmuggler im Winter neue Routen durch die Berge eröffnet hatten.",
    "fr": "Le ministère de l'Intérieur a annoncé lundi que les patrouilles frontalières seraient doublées "
    "après que des passeurs ont ouvert de nouvelles routes à travers les montagnes.",
    "ru": "Министерство внутренних дел сообщило в понедельник, что пограничные патрули будут удвоены после "
    "того, как контрабандисты проложили новые маршруты через горы.",
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_detect_language(language: str) -> None:
    assert detect_language(SAMPLES[language], DETECTOR) == language
    assert detect_language(SAMPLES[language].upper(), DETECTOR) == language  # shouted headlines too


@pytest.mark.parametrize(
    ("headline", "language"),
    [
        # headlines the model alone calls Swedish, Nigerian Pidgin and Shona (English a close second)
        ("Gunmen attack border post", "en"),
        ("Week in Pictures: From Dakota pipeline to Somalia blast", "en"),
        ("China and US: face-to-face", "en"),
        # foreign headlines stay foreign
        ("Attentat à Paris: trois morts", "fr"),
        ("Взрыв на рынке в Оше: есть погибшие", "ru"),
        ("Қазақстанда жер сілкінісі болды", "kk"),
    ],
)
def test_a_short_headline_is_english_when_english_is_a_close_guess(headline: str, language: str) -> None:
    assert detect_language(headline, DETECTOR) == language


def test_detect_language_refuses_short_text_and_bounds_long_text() -> None:
    assert detect_language("Breaking: 12:45", DETECTOR) is None
    assert detect_language("", DETECTOR) is None
    assert detect_language(SAMPLES["de"] * 500, DETECTOR) == "de"  # long text: only a sample is classified


def test_plainly_english_text_takes_the_fast_path_and_agrees_with_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.extract import language

    text = SAMPLES["en"] + " The officials said that they would not comment on the report."
    assert language._plainly_english(language._sample(text))
    assert DETECTOR.classify(language._sample(text)) == "en"  # what the slow path would say

    def no_model(sample: str) -> str:
        raise AssertionError("py3langid must not be asked")

    unasked = LanguageDetector()
    monkeypatch.setattr(unasked, "classify", no_model)
    assert detect_language(text, unasked) == "en"


@pytest.mark.parametrize(
    "text",
    [
        SAMPLES["de"] + " Die Polizei sagte, das war nicht das erste Mal, und sie will weiter ermitteln.",
        SAMPLES["fr"] + " Le ministre a dit que la situation est sous contrôle et que tout va bien.",
        "El ministerio del Interior anunció el lunes que las patrullas fronterizas se duplicarán después "
        "de que los contrabandistas abrieran nuevas rutas a través de las montañas durante el invierno.",
        # Dutch shares "is", "was" and "of" with English: none of them counts as English evidence.
        "Het ministerie van Binnenlandse Zaken zei maandag dat het aantal grenspatrouilles is verdubbeld "
        "nadat smokkelaars nieuwe routes door de bergen hadden geopend, of dat was de bedoeling.",
        # English words in a foreign text (names, loanwords) are not enough.
        "Der Bericht der Agentur The Guardian über das Netzwerk wurde am Montag in Berlin vorgestellt, "
        "und die Regierung hat die Vorwürfe zurückgewiesen.",
        "Kilka godzin później to samo zdarzyło się na granicy, to znaczy w pobliżu przejścia w Terespolu, "
        "jak podała straż graniczna.",
    ],
)
def test_other_languages_never_take_the_english_fast_path(text: str) -> None:
    from monitor.extract import language

    assert not language._plainly_english(language._sample(text))
    assert detect_language(text, DETECTOR) != "en"


def test_short_or_mostly_non_ascii_english_goes_to_the_model() -> None:
    from monitor.extract import language

    assert not language._plainly_english("The minister said that the border was closed.")  # < 20 words
    mixed = (
        "Министерство сообщило, что the border would be closed and that the patrols have been doubled " * 2
    )
    assert not language._plainly_english(mixed)
