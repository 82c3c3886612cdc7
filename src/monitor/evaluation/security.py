"""Security relevance and the terrorism topic on the labelled dev set (classify/security_dev.jsonl).

Each line: {"id", "source", "text", "security": true|false|null, "family"}; MUC-3/4 lines also carry
"terror_incident" (true/false) and "incident_types". An article is predicted "security" when any
topic of the taxonomy fires; `security: null` lines are not judged (but are classified and timed).
The terrorism topic is judged on the MUC lines only, against their `terror_incident` field.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.evaluation.metrics import Confusion, confusion, recall_by_group

if TYPE_CHECKING:
    from monitor.analyze import Models

DEV_FILE = Path("classify") / "security_dev.jsonl"
TERRORISM_TOPIC = "terrorism"


@dataclass(frozen=True)
class SecurityScores:
    relevance: Confusion  # security true/false vs "any topic fired"
    families: dict[str, tuple[int, int]]  # family -> (found, positives)
    terrorism: Confusion  # terrorism topic vs MUC terror_incident
    topics: Counter[str] = field(default_factory=Counter)  # how often each topic fired
    documents: int = 0


@dataclass(frozen=True)
class SecurityRun:
    scores: SecurityScores
    classifier_version: str
    seconds: float  # CPU seconds of the classify pass
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)  # for error listings
    fired: list[Collection[str]] = field(default_factory=list, repr=False)


def load_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(rows: Sequence[dict[str, Any]], fired: Sequence[Collection[str]]) -> SecurityScores:
    """Scores from the rows and, for each row, the ids of the topics that fired on it."""
    if len(rows) != len(fired):
        raise ValueError(f"{len(rows)} rows but {len(fired)} predictions")
    topics: Counter[str] = Counter()
    for ids in fired:
        topics.update(ids)
    relevance = confusion((row.get("security"), bool(ids)) for row, ids in zip(rows, fired, strict=True))
    families = recall_by_group(
        (row.get("family") or "?", bool(ids))
        for row, ids in zip(rows, fired, strict=True)
        if row.get("security") is True
    )
    terrorism = confusion(
        (row["terror_incident"], TERRORISM_TOPIC in ids)
        for row, ids in zip(rows, fired, strict=True)
        if isinstance(row.get("terror_incident"), bool)
    )
    return SecurityScores(relevance, families, terrorism, topics, len(rows))


def run(
    data_dir: Path,
    classify: Callable[[str, str], Collection[str]] | None = None,
    models: Models | None = None,
) -> SecurityRun:
    """Classifies every dev text on this core, as the pipeline does (`analyze`: cleaning, language,
    title and text; the dev set has no titles, so they are empty unless a row has one), and scores it.
    `classify(title, text)` replaces the chain (tests); otherwise `models` is needed."""
    version = "custom"
    if classify is None:
        from monitor.analyze import analyze

        if models is None:
            raise ValueError("security.run needs the models (or a classify function)")
        chain = models
        version = chain.version

        def classify(title: str, text: str) -> Collection[str]:
            found = analyze(title, text, "text", chain, entities=False)
            return {hit.topic_id for hit in found.topics}

    rows = load_rows(data_dir / DEV_FILE)
    started = time.process_time()
    fired = [classify(row.get("title") or "", row["text"]) for row in rows]
    seconds = time.process_time() - started
    return SecurityRun(score(rows, fired), version, seconds, rows, fired)
