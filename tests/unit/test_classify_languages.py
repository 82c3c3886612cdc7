"""Languages other than English: language files merged by topic id, Russian lemmas and French stems,
evidence as written, the learned layer kept to English. Texts are written for these tests
(tests/fixtures/classify/ru_texts.jsonl: 32 short Russian texts, each with the topics it must get)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from monitor.analyze import Models, analyze
from monitor.classify import morph
from monitor.classify.rules import Classifier, default_taxonomy_text, load_classifier, load_packaged_taxonomy
from monitor.classify.taxonomy import language_file_of, load_taxonomy, merge_language_files, parse_taxonomy
from monitor.errors import TaxonomyError
from monitor.models import TopicHit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "classify"
RU_TEXTS = [
    json.loads(line) for line in (FIXTURES / "ru_texts.jsonl").read_text(encoding="utf-8").splitlines()
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier()


@pytest.fixture(scope="module")
def rules_only() -> Classifier:
    return load_classifier(learned=False)


def topics(hits: list[TopicHit]) -> list[str]:
    return sorted(hit.topic_id for hit in hits)


def forms(hits: list[TopicHit], topic_id: str) -> dict[str, dict[str, int]]:
    """term -> {form as written: count} for one topic's evidence."""
    hit = next(h for h in hits if h.topic_id == topic_id)
    return {e.term: dict(e.forms) for e in hit.evidence}


# -- the hand-written Russian texts ------------------------------------------------------------


@pytest.mark.parametrize("case", RU_TEXTS, ids=[c["id"] for c in RU_TEXTS])
def test_russian_texts_get_their_topics(models: Models, case: dict[str, Any]) -> None:
    # Through the pipeline's chain: the language is detected from the text, not declared.
    found = analyze(case["title"], case["text"], "text", models, entities=False)
    assert found.language == "ru"
    assert topics(found.topics) == sorted(case["topics"])


def test_inflected_forms_count_and_evidence_shows_them_as_written(classifier: Classifier) -> None:
    title = "Серия терактов"
    text = (
        "Следствие связывает два теракта между собой. Теракт в метро совершили террористы, "
        "а взрывы у вокзала готовила террористическая ячейка."
    )
    hits = classifier.classify(title, text, "ru")
    hit = next(h for h in hits if h.topic_id == "terrorism")
    assert hit.label == "Terrorism"  # the topic's label is the taxonomy's (English) one
    found = forms(hits, "terrorism")
    assert found["теракт"] == {"терактов": 1, "теракта": 1, "Теракт": 1}
    assert found["террорист*"] == {"террористы": 1}
    assert found["террористическая организация"] == {"террористическая ячейка": 1}
    # Every span points at the words as written.
    for evidence in hit.evidence:
        for zone, start, end in evidence.spans:
            written = (title if zone == "title" else text)[start:end]
            assert written in dict(evidence.forms)


def test_lemmas_undo_stem_alternation(classifier: Classifier) -> None:
    # "бойца" / "боец", "вооружённого" / "вооруженных": a stemmer keeps them apart, lemmas do not.
    hits = classifier.classify(
        "", "В ходе вооруженного конфликта погибли два бойца, обстрелы продолжаются.", "ru"
    )
    found = forms(hits, "armed_conflict")
    assert found["вооружённый конфликт"] == {"вооруженного конфликта": 1}
    assert found["военнослужащий"] == {"бойца": 1}
    assert found["обстрел"] == {"обстрелы": 1}


def test_seed_article_in_russian_gets_the_topics_of_the_english_one(models: Models) -> None:
    # A Russian rendering, written for this test, of the first paragraphs of the seed article
    # (osce_astana_conference.txt); the English article gets the same three topics.
    title, _, body = (FIXTURES / "osce_astana_conference.ru.txt").read_text(encoding="utf-8").partition("\n")
    found = analyze(title, body, "text", models, entities=False)
    assert found.language == "ru"
    assert {"terrorism", "international_security_cooperation", "violent_extremism"} <= set(
        topics(found.topics)
    )
    cooperation = forms(found.topics, "international_security_cooperation")
    assert cooperation["ОБСЕ"]["ОБСЕ"] >= 3
    assert "Организации по безопасности и сотрудничеству в Европе" in cooperation["ОБСЕ"]


def test_french_is_a_file_too(classifier: Classifier) -> None:
    hits = classifier.classify(
        "Attentat déjoué", "La police a arrêté trois terroristes qui préparaient un attentat.", "fr"
    )
    assert topics(hits) == ["terrorism"]
    assert forms(hits, "terrorism")["terroriste"] == {"terroristes": 1}
    sport = classifier.classify("", "L'attaquant a marqué deux buts lors du match de championnat.", "fr")
    assert sport == []


# -- English untouched, the learned layer kept to English -----------------------------------------

ENGLISH = [
    (
        "Car bomb kills six",
        "A car bomb exploded outside a police station, killing six. A terror cell was blamed.",
    ),
    ("Border guards stop crossings", "Border guards reported illegal crossings along the frontier."),
    ("Striker scores twice", "The striker scored twice and the attack looked sharp all season."),
]


def test_english_results_do_not_depend_on_language_files() -> None:
    base = parse_taxonomy(default_taxonomy_text(), source="security.yaml")
    merged = load_packaged_taxonomy()
    assert {"ru", "fr"} <= set(merged.language_files)
    alone, together = Classifier(base), Classifier(merged)
    for title, text in ENGLISH:
        assert alone.classify(title, text, "en") == together.classify(title, text, "en")
    assert morph.normaliser("en") is None  # English words are matched as written, as before


def test_learned_layer_applies_to_english_only(classifier: Classifier, rules_only: Classifier) -> None:
    # Language files do not invalidate the model (it was trained for the main file) ...
    assert classifier.learned is not None
    assert classifier.learned_languages == frozenset({"en"})
    # ... and a Russian article is decided by the rules alone: same hits with or without the model.
    for case in RU_TEXTS:
        assert classifier.classify(case["title"], case["text"], "ru") == rules_only.classify(
            case["title"], case["text"], "ru"
        )


def test_versions_cover_language_files_but_model_check_does_not() -> None:
    from monitor.classify.learned import code_version

    base = parse_taxonomy(default_taxonomy_text(), source="security.yaml")
    merged = load_packaged_taxonomy()
    assert merged.content_hash != base.content_hash  # the classifier version changes with any file
    assert merged.base_hash == base.content_hash
    assert code_version(merged) == code_version(base)


# -- normalisers ---------------------------------------------------------------------------------


def test_russian_lemmas() -> None:
    ru = morph.normaliser("ru")
    assert ru is not None
    assert ru(["теракта", "терактов", "террористической", "вооружённого", "боёв"]) == [
        "теракт",
        "теракт",
        "террористический",
        "вооруженный",
        "бой",
    ]
    assert ru.phrase((("Террорист", True),)) == (("Террорист", True),)  # prefixes are not lemmatised
    assert ru.phrase((("всё", True),)) == (("все", True),)  # only folded


def test_snowball_stems() -> None:
    fr = morph.normaliser("fr")
    assert fr is not None
    assert len(set(fr(["terroriste", "terroristes", "terrorisme"]))) == 1


# -- language files ------------------------------------------------------------------------------

BASE = """\
version: "1.0"
topics:
  - id: terrorism
    label: Terrorism
    threshold: 3
    terms:
      en:
        - {term: "terroris*", weight: 3}
  - id: cyber
    label: Cyber
    threshold: 3
    terms:
      en:
        - {term: "ransomware", weight: 3}
"""
RU = """\
language: ru
version: "1"
off_topic:
  - {term: "футбол", weight: 1}
topics:
  - id: terrorism
    terms:
      - {term: "теракт", weight: 3}
    negative:
      - "годовщина теракт*"
"""


def write_files(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path / "tax.yaml"


def test_load_taxonomy_merges_language_files_by_topic_id(tmp_path: Path) -> None:
    files = {"tax.yaml": BASE, "tax.ru.yaml": RU, "tax.backup.yaml": "not a language file"}
    taxonomy = load_taxonomy(write_files(tmp_path, files))
    assert taxonomy.languages == frozenset({"en", "ru"})
    terrorism = taxonomy.topics[0]
    assert [t.term for t in terrorism.terms["ru"]] == ["теракт"]
    assert [n.text for n in terrorism.negative["ru"]] == ["годовщина теракт*"]
    assert "ru" not in taxonomy.topics[1].terms
    assert [t.term for t in taxonomy.off_topic["ru"]] == ["футбол"]
    assert taxonomy.language_files["ru"][0] == "1"
    hits = Classifier(taxonomy).classify("Теракт", "Два теракта за неделю.", "ru")
    assert topics(hits) == ["terrorism"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (RU.replace("id: terrorism", "id: terror"), "tax.ru.yaml:6: topic 'terror' is not a topic of"),
        (RU.replace("language: ru", "language: uk"), "tax.ru.yaml:1: language 'uk' does not match the file"),
        (RU.replace('version: "1"\n', ""), "tax.ru.yaml:1: language file is missing required field"),
        (RU.replace('- {term: "теракт"', '- {tern: "теракт"'), "tax.ru.yaml:8: unknown field 'tern'"),
    ],
)
def test_language_file_mistakes_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write_files(tmp_path, {"tax.yaml": BASE, "tax.ru.yaml": text})
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert message in str(info.value)


def test_a_language_is_defined_once(tmp_path: Path) -> None:
    base = parse_taxonomy(BASE, source="tax.yaml")
    with pytest.raises(TaxonomyError, match=re.escape("language 'en' is already defined in tax.yaml")):
        merge_language_files(base, [(RU.replace("language: ru", "language: en"), "tax.en.yaml")])
    once = merge_language_files(base, [(RU, "tax.ru.yaml")])
    with pytest.raises(TaxonomyError, match=re.escape("language 'ru' is already defined in tax.ru.yaml")):
        merge_language_files(once, [(RU, "tax.ru.yaml")])


def test_language_file_names() -> None:
    assert language_file_of("security.yaml", "security.ru.yaml") == "ru"
    assert language_file_of("security.yaml", "security.yaml") is None
    assert language_file_of("security.yaml", "security.backup.yaml") is None
    assert language_file_of("security.yaml", "other.ru.yaml") is None
