"""Taxonomy loading: a valid file becomes frozen dataclasses; every mistake names file and line."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from monitor.classify.rules import default_taxonomy_text
from monitor.classify.taxonomy import load_taxonomy, parse_phrase, parse_taxonomy
from monitor.errors import TaxonomyError

VALID = """\
version: "1.0"
default_language: en
topics:
  - id: terrorism
    label: Terrorism
    description: Attacks meant to spread fear.
    iptc: medtop:20000103
    gdelt: [TERROR]
    threshold: 3
    terms:
      en:
        - {term: "terroris*", weight: 3}
        - {term: "car bomb*", weight: 4, variants: ["truck bomb*"]}
        - {term: "IED", regex: '\\bieds?\\b', weight: 3}
    negative:
      en:
        - "box office bomb*"
        - {regex: 'bombed at the box office'}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    return message


def test_valid_file_loads_into_frozen_dataclasses(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(write(tmp_path, VALID))
    assert taxonomy.version == "1.0"
    assert taxonomy.default_language == "en"
    (topic,) = taxonomy.topics
    assert (topic.id, topic.label, topic.iptc, topic.gdelt, topic.threshold) == (
        "terrorism",
        "Terrorism",
        "medtop:20000103",
        ("TERROR",),
        3.0,
    )
    terms = {term.term: term for term in topic.terms["en"]}
    assert terms["car bomb*"].phrases == (
        (("car", False), ("bomb", True)),
        (("truck", False), ("bomb", True)),
    )
    assert terms["IED"].regex is not None
    assert terms["terroris*"].line == 12
    assert [n.text for n in topic.negative["en"]] == ["box office bomb*", "bombed at the box office"]
    assert len(taxonomy.content_hash) == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        topic.threshold = 1.0  # type: ignore[misc]


def test_packaged_taxonomy_is_valid() -> None:
    taxonomy = parse_taxonomy(default_taxonomy_text(), source="security.yaml")
    ids = [topic.id for topic in taxonomy.topics]
    assert ids == [
        "terrorism",
        "violent_extremism",
        "armed_conflict",
        "civil_unrest",
        "border_security",
        "organised_crime",
        "cyber",
        "arms_control",
        "soft_targets",
        "international_security_cooperation",
        "espionage",
        "national_security",
        "peace_process",
    ]
    by_id = {topic.id: topic for topic in taxonomy.topics}
    assert by_id["terrorism"].iptc == "medtop:20000103"
    assert by_id["peace_process"].iptc == "medtop:20000073"
    assert by_id["soft_targets"].iptc is None
    assert all(topic.terms["en"] and topic.gdelt for topic in taxonomy.topics)


def test_phrase_parsing() -> None:
    assert parse_phrase("Anti-Terror*") == (("anti", False), ("terror", True))
    assert parse_phrase("coup d'etat") == (("coup", False), ("d", False), ("etat", False))
    for bad in ["", "---", "te*", "bo*mb", "*"]:
        with pytest.raises(ValueError):
            parse_phrase(bad)


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        # unknown field in a topic, reported at the key
        ("    gdelt: [TERROR]\n", "    gdelt: [TERROR]\n    colour: red\n", 9, "unknown field 'colour'"),
        # unknown field in a term
        (
            '{term: "terroris*", weight: 3}',
            '{term: "terroris*", weight: 3, wieght: 2}',
            12,
            "unknown field 'wieght'",
        ),
        # missing threshold, reported at the topic
        ("    threshold: 3\n", "", 4, "missing required field 'threshold'"),
        # bad weights
        ('{term: "terroris*", weight: 3}', '{term: "terroris*", weight: -1}', 12, "weight of 'terroris*'"),
        ('{term: "terroris*", weight: 3}', '{term: "terroris*", weight: "high"}', 12, "must be a number"),
        ('{term: "terroris*", weight: 3}', '{term: "terroris*", weight: yes}', 12, "must be a number"),
        ('{term: "terroris*", weight: 3}', '{term: "terroris*", weight: 50}', 12, "must be in (0, 10]"),
        # bad threshold
        (
            "    threshold: 3\n",
            "    threshold: 0\n",
            9,
            "threshold of topic 'terrorism' must be greater than 0",
        ),
        # bad ids and codes
        ("  - id: terrorism\n", "  - id: Terror-ism\n", 4, "snake_case"),
        ("    iptc: medtop:20000103\n", "    iptc: 20000103\n", 7, "iptc"),
        ("    gdelt: [TERROR]\n", "    gdelt: [terror]\n", 8, "upper case"),
        # term problems
        ('{term: "terroris*", weight: 3}', '{term: "te*", weight: 3}', 12, "too short"),
        (
            '{term: "terroris*", weight: 3}',
            '{term: "car bomb*", weight: 3}',
            13,
            "duplicate term 'car bomb*'",
        ),
        ("'\\bieds?\\b'", "'(unclosed'", 14, "does not compile"),
        ("'\\bieds?\\b'", "'x*'", 14, "matches the empty string"),
        ("      en:\n        - {term", "      EN:\n        - {term", 11, "not a language code"),
        ('        - {term: "terroris*", weight: 3}\n', "        - just a string\n", 12, "must be a mapping"),
        # duplicate YAML keys are errors, not silently overwritten
        ("    label: Terrorism\n", "    label: Terrorism\n    label: Terror\n", 6, "duplicate key 'label'"),
        # top level
        ('version: "1.0"\n', "", 1, "missing required field 'version'"),
        ("default_language: en\n", "default_language: english\n", 2, "not a language code"),
        (
            "default_language: en\n",
            "default_language: fr\n",
            1,
            "no topic has terms for default_language 'fr'",
        ),
        # YAML syntax error, with the line from the scanner
        ("    label: Terrorism\n", "    label: Terrorism: bad\n", 5, "invalid YAML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, fragment: str) -> None:
    assert old in VALID, old
    message = error_for(tmp_path, VALID.replace(old, new, 1))
    assert f"taxonomy.yaml:{line}:" in message, message
    assert fragment in message, message


def test_duplicate_topic_ids(tmp_path: Path) -> None:
    text = VALID + textwrap.indent(
        textwrap.dedent(
            """\
            - id: terrorism
              label: Again
              threshold: 1
              terms:
                en:
                  - {term: "bomb", weight: 1}
            """
        ),
        "  ",
    )
    message = error_for(tmp_path, text)
    assert "taxonomy.yaml:19:" in message
    assert "duplicate topic id 'terrorism' (first defined at line 4)" in message


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    assert "empty" in error_for(tmp_path, "")
    with pytest.raises(TaxonomyError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_string_source_is_named_in_errors() -> None:
    with pytest.raises(TaxonomyError, match=r"^inline:1: taxonomy must be a mapping"):
        parse_taxonomy("- just\n- a list\n", source="inline")
