"""Golden tests: a seed-format article written for the project, and the seed itself when present.

Parsing and processing are pure, so no database is needed: parse_inbox_file → process_item.
The expectations sit beside the fixture (`*.expected.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.analyze import Models, process
from monitor.ingest.files import parse_inbox_file
from monitor.models import Entity, ProcessedArticle

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"


def process_file(path: Path, models: Models) -> tuple[str, str | None, ProcessedArticle]:
    parsed = parse_inbox_file(path.name, path.read_bytes(), 10_000_000)
    assert len(parsed.items) == 1
    item = parsed.items[0]
    result = process(item.title, item.raw, item.raw_format, item.language, models)
    return item.title, item.source_name, result


def names(entities: list[Entity], kind: str) -> set[str]:
    """Canonical names and every surface form, so an expectation may use either ("OSCE")."""
    found: set[str] = set()
    for e in entities:
        if e.type == kind:
            found.add(e.name)
            found.update(e.mentions)
    return found


def test_golden_article_written_for_the_project(models: Models) -> None:
    expected = json.loads((GOLDEN / "bishkek_workshop.expected.json").read_text(encoding="utf-8"))
    title, source_name, result = process_file(GOLDEN / "bishkek_workshop.txt", models)
    assert title == expected["title"]
    assert source_name == expected["source_name"]
    assert result.language == expected["language"]
    assert "Regional desk" not in result.clean_text  # the source line is metadata, not body
    topics = {t.topic_id for t in result.topics}
    assert set(expected["topics_include"]) <= topics
    assert not set(expected["topics_exclude"]) & topics
    for kind, wanted in expected["entities_include"].items():
        missing = set(wanted) - names(result.entities, kind)
        assert not missing, f"{kind}: missing {sorted(missing)}; found {sorted(names(result.entities, kind))}"
    every_name = {e.name for e in result.entities}
    assert not set(expected["entities_exclude"]) & every_name
    # Every tag explains itself.
    for t in result.topics:
        assert t.evidence and t.score > 0


def test_seed_article(shared_data: Path, models: Models) -> None:
    """The article the project was created from (../shared/data/seed) — the issue's acceptance bar."""
    title, source_name, result = process_file(shared_data / "seed" / "osce_astana_conference.txt", models)
    assert title == "The First Anti-Terrorism OSCE Conference Took Place In The Capital Of Kazakhstan"
    assert source_name == "World media monitoring"
    topics = {t.topic_id for t in result.topics}
    assert {"terrorism", "international_security_cooperation"} <= topics
    found = {e.name for e in result.entities} | {m for e in result.entities for m in e.mentions}
    for name in (
        "Kazakhstan",
        "Astana",
        "OSCE",
        "Russia",
        "United States",
        "Kyrgyzstan",
        "Tajikistan",
        "Turkmenistan",
        "Nurtai Abykayev",
        "Kanat Saudabayev",
    ):
        assert name in found, f"{name} missing from {sorted(found)}"
    ids = {e.id for e in result.entities}
    assert {"KZ", "RU", "US", "KG", "TJ", "TM"} <= ids


@pytest.mark.parametrize("name", ["bishkek_workshop.txt"])
def test_processing_is_deterministic(name: str, models: Models) -> None:
    assert process_file(GOLDEN / name, models) == process_file(GOLDEN / name, models)
