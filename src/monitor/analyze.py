"""The one per-article chain: clean → language → classify → entities, and the JSON shapes of its result.

Everything that judges an article calls `analyze`: processing (through `process`, which adds what
storage needs), `monitor classify`, `monitor eval` and the web pages. So what the monitor stores for
an article and what the offline command prints for the same title and raw text cannot differ.

Pure: text in, data out. The models it needs are built once at the edge (`Models.load`, from the
settings: CLI command, Airflow task, worker start) and passed in; nothing here keeps state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.classify.rules import Classifier, load_classifier
from monitor.dedupe.fingerprints import text_fingerprint, word_char_table
from monitor.dedupe.near import signature as near_signature
from monitor.entities.extract import EntityExtractor, build_extractor
from monitor.extract.html import extract_page, html_to_text
from monitor.extract.language import LanguageDetector
from monitor.extract.normalize import normalize_whitespace
from monitor.extract.report import parse_seed_text
from monitor.extract.sanitize import sanitize_html
from monitor.models import Entity, ProcessedArticle, RawFormat, TopicHit
from monitor.settings import Settings

# Below this many characters a text is too generic to identify an article on its own ("Read more…"),
# so the title joins the fingerprint.
_MIN_TEXT_FOR_TEXT_ONLY_HASH = 200
RAW_FORMATS: tuple[RawFormat, ...] = ("html", "text", "seed", "page")


@dataclass(frozen=True)
class Models:
    """What judging an article needs, built once per process and handed down."""

    classifier: Classifier
    extractor: EntityExtractor
    languages: LanguageDetector

    @classmethod
    def load(cls, settings: Settings) -> Models:
        """The packaged taxonomy and gazetteer, and the language model; built models are kept in
        `settings.cache_dir` between processes (~0.2 s to load instead of seconds to build)."""
        return cls(
            classifier=load_classifier(),
            extractor=build_extractor(settings.cache_dir),
            languages=LanguageDetector(settings.cache_dir),
        )

    def preload(self) -> None:
        """Everything loaded now, before forking workers: they share the pages instead of each
        unpacking the language model on its first foreign text or building the 1 MB code-point table
        of fingerprints and signatures."""
        self.languages.preload()
        word_char_table()

    @property
    def version(self) -> str:
        """Stored with every classified article (`taxonomy_version`)."""
        return self.classifier.version


@dataclass(frozen=True)
class Analysis:
    """What the chain found in one article."""

    title: str
    text: str  # the clean text
    language: str | None
    topics: list[TopicHit]
    entities: list[Entity]


def clean(raw: str, raw_format: str) -> str:
    """The article's text from its stored raw form (see `models.RawFormat`). Ingestion computes a
    page's text with this same function (it must know that a page has one), and hands it on."""
    if raw_format == "html":
        return html_to_text(raw)
    if raw_format == "page":
        return extract_page(raw.encode("utf-8")).text
    if raw_format == "seed":
        return parse_seed_text("article", raw).raw
    return normalize_whitespace(raw)


def analyze(
    title: str,
    raw: str,
    raw_format: str,
    models: Models,
    *,
    declared_language: str | None = None,
    entities: bool = True,
    cleaned: str | None = None,
) -> Analysis:
    """Clean → language → classify → entities for one article (entities skipped when not wanted).
    `cleaned` is `clean(raw, raw_format)` when the caller already has it (ingestion extracted the page)."""
    text = clean(raw, raw_format) if cleaned is None else cleaned
    title = normalize_whitespace(title)
    language = models.languages(f"{title}\n{text}") or declared_language
    topics = models.classifier.classify(title, text, language)
    found = models.extractor.extract(title, text) if entities else []
    return Analysis(title=title, text=text, language=language, topics=topics, entities=found)


def process(
    title: str,
    raw: str,
    raw_format: str,
    declared_language: str | None,
    models: Models,
    cleaned: str | None = None,
) -> ProcessedArticle:
    """`analyze`, plus what storage needs: the content fingerprint, the near-duplicate signature (here,
    in the parallel workers, not in the ordered story step) and the sanitised HTML for display."""
    found = analyze(title, raw, raw_format, models, declared_language=declared_language, cleaned=cleaned)
    text = found.text
    if len(text) >= _MIN_TEXT_FOR_TEXT_ONLY_HASH:
        content_hash = text_fingerprint(text)  # syndicated copies keep the text and change the headline
    else:
        content_hash = text_fingerprint(found.title, text)
    return ProcessedArticle(
        display_html=sanitize_html(raw) if raw_format == "html" else None,
        clean_text=text,
        language=found.language,
        content_hash=content_hash,
        topics=found.topics,
        entities=found.entities,
        signature=near_signature(text),
    )


# ---------------------------------------------------------------------------------------- JSON shapes
# The shapes of an analysed article in every output (`monitor classify`, `monitor export`).


def topics_json(topics: Sequence[TopicHit]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.topic_id,
            "label": t.label,
            "score": round(t.score, 4),
            "evidence": [e.to_json() for e in t.evidence],
        }
        for t in topics
    ]


def entities_json(entities: Sequence[Entity], *, counts: bool = False) -> list[dict[str, Any]]:
    """Entities as `monitor classify` and `monitor export` print them; a person's title (their role
    in this article) when one was found."""
    out = []
    for e in entities:
        row: dict[str, Any] = {"type": e.type, "name": e.name, "id": e.id}
        if counts:
            row["count"] = e.count
        if e.title:
            row["title"] = e.title
        out.append(row)
    return out


def analysis_json(item_id: Any, found: Analysis) -> dict[str, Any]:
    """One output line of `monitor classify`."""
    return {
        "id": item_id,
        "language": found.language,
        "topics": topics_json(found.topics),
        "entities": entities_json(found.entities),
    }


@dataclass(frozen=True)
class ClassifyInput:
    """One input line of `monitor classify`: `{id?, title?, text}` or `{id?, title?, html}`, and an
    optional declared `language` (used when the text is too short to detect one)."""

    id: Any
    title: str
    raw: str
    raw_format: RawFormat
    language: str | None


def parse_classify_input(line: str, default_id: Any) -> ClassifyInput:
    """A JSON line as `monitor classify` takes it; ValueError with a short reason when it is unusable.

    `html` is an HTML fragment (a feed item's description) and is cleaned exactly as the pipeline
    cleans feed HTML; `text` is plain text, as in an inbox .jsonl file.
    """
    doc = json.loads(line)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    html, text = doc.get("html"), doc.get("text")
    if html is not None and text is not None:
        raise ValueError("give either 'text' or 'html', not both")
    raw = html if html is not None else text
    if not isinstance(raw, str):
        raise ValueError("missing string field 'text' (or 'html')")
    title = doc.get("title") or ""
    if not isinstance(title, str):
        raise ValueError("field 'title' is not a string")
    language = doc.get("language")
    if language is not None and not isinstance(language, str):
        raise ValueError("field 'language' is not a string")
    return ClassifyInput(
        id=doc.get("id", default_id),
        title=title,
        raw=raw,
        raw_format="html" if html is not None else "text",
        language=language or None,
    )
