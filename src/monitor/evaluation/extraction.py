"""Main-text extraction on the shared pages (extract/cases.json + extract/pages/): the share of
must-contain segments found in the extracted text and of must-not-contain segments kept out of it.
Segments are compared in the same whitespace form as the output (NBSP -> space etc.)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.evaluation.metrics import ratio

EXTRACT_DIR = Path("extract")


@dataclass(frozen=True)
class ExtractionScores:
    found: int
    wanted: int
    avoided: int
    unwanted: int
    pages: int
    misses: list[str] = field(default_factory=list)  # "MISSING file: segment" / "PRESENT file: segment"

    @property
    def must_contain(self) -> float:
        return ratio(self.found, self.wanted)

    @property
    def must_not_contain(self) -> float:
        return ratio(self.avoided, self.unwanted)


@dataclass(frozen=True)
class ExtractionRun:
    scores: ExtractionScores
    seconds: float


def score(cases: Sequence[dict[str, Any]], texts: Sequence[str]) -> ExtractionScores:
    """Scores of the extracted `texts`, one per case, against the cases' segments."""
    from monitor.extract.normalize import normalize_whitespace

    found = wanted = avoided = unwanted = 0
    misses = []
    for case, text in zip(cases, texts, strict=True):
        for segment in map(normalize_whitespace, case.get("must_contain", [])):
            wanted += 1
            if segment in text:
                found += 1
            else:
                misses.append(f"MISSING {case['file']}: {segment!r}")
        for segment in map(normalize_whitespace, case.get("must_not_contain", [])):
            unwanted += 1
            if segment not in text:
                avoided += 1
            else:
                misses.append(f"PRESENT {case['file']}: {segment!r}")
    return ExtractionScores(found, wanted, avoided, unwanted, len(cases), misses)


def run(data_dir: Path, extract: Callable[[bytes, str | None], str] | None = None) -> ExtractionRun:
    if extract is None:
        from monitor.extract.html import extract_page

        def extract(data: bytes, url: str | None) -> str:
            return extract_page(data, url=url).text

    root = data_dir / EXTRACT_DIR
    cases = json.loads((root / "cases.json").read_text(encoding="utf-8"))
    pages = [(root / "pages" / case["file"]).read_bytes() for case in cases]
    started = time.process_time()
    texts = [extract(page, case.get("url")) for page, case in zip(pages, cases, strict=True)]
    seconds = time.process_time() - started
    return ExtractionRun(score(cases, texts), seconds)
