"""A fingerprint of the entity extractor's output on the 2017 news corpus, for refactorings of
`monitor.entities` that must change nothing.

Runs `mentions(title, text)` over every article, then `extract(title, text)` over every article,
with one new extractor, and prints one JSON object: counts, a sha256 of all mentions and of all
entities (and of both), the seconds (wall and CPU) spent inside the extractor per pass, and which
`monitor` package answered. Run it on the code before and after a change and compare the hashes:

    PYTHONPATH=src .venv/bin/python scripts/entities_fingerprint.py [--corpus FILE] [--cache-dir DIR]

The texts are read from ../shared/data and never written anywhere. Works with the extractor API
before and after `build_extractor` replaced `use_cache_dir` + `load_default_extractor`, so one copy
of this script measures both.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "news_articles_2017.jsonl"


def _extractor(cache_dir: Path) -> Any:
    """A new extractor with the packaged gazetteer, loaded from (or built into) `cache_dir`."""
    try:
        from monitor.entities.extract import build_extractor
    except ImportError:  # before the split: module-level cache dir and a shared extractor
        from monitor.entities.extract import load_default_extractor, use_cache_dir  # type: ignore[attr-defined]

        use_cache_dir(cache_dir)
        return load_default_extractor()
    return build_extractor(cache_dir)


def _articles(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(row.get("title") or "", row.get("text") or "") for row in rows]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=CORPUS, help="JSON lines with title and text")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "entities-fingerprint-cache",
        help="where the built gazetteer is kept between runs (its file name carries its own hash)",
    )
    args = p.parse_args(argv)
    if not args.corpus.is_file():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    args.cache_dir.mkdir(parents=True, exist_ok=True)

    import monitor

    articles = _articles(args.corpus)
    started = time.perf_counter()
    extractor = _extractor(args.cache_dir)
    load_seconds = time.perf_counter() - started

    # Only the calls are timed; hashing happens outside them, and nothing is kept in memory, so
    # that the figures compare the extractor and not this script.
    mention_hash, mention_count, mention_seconds, mention_cpu = hashlib.sha256(), 0, 0.0, 0.0
    for title, text in articles:
        t0, c0 = time.perf_counter(), time.process_time()
        mentions = extractor.mentions(title, text)
        mention_seconds += time.perf_counter() - t0
        mention_cpu += time.process_time() - c0
        mention_count += len(mentions)
        mention_hash.update(json.dumps([list(m) for m in mentions], ensure_ascii=False).encode())
        mention_hash.update(b"\n")

    entity_hash, entity_count, entity_seconds, entity_cpu = hashlib.sha256(), 0, 0.0, 0.0
    for title, text in articles:
        t0, c0 = time.perf_counter(), time.process_time()
        entities = extractor.extract(title, text)
        entity_seconds += time.perf_counter() - t0
        entity_cpu += time.process_time() - c0
        entity_count += len(entities)
        rows = [dataclasses.asdict(e) for e in entities]
        entity_hash.update(json.dumps(rows, ensure_ascii=False).encode())
        entity_hash.update(b"\n")

    both = hashlib.sha256((mention_hash.hexdigest() + entity_hash.hexdigest()).encode())
    print(
        json.dumps(
            {
                "monitor": str(Path(monitor.__file__).parent),
                "articles": len(articles),
                "mentions": mention_count,
                "entities": entity_count,
                "mentions_sha256": mention_hash.hexdigest(),
                "entities_sha256": entity_hash.hexdigest(),
                "sha256": both.hexdigest(),
                "seconds_load": round(load_seconds, 3),
                # The first pass meets every phrase for the first time; the second finds most plans cached.
                "seconds_mentions": round(mention_seconds, 3),
                "seconds_extract": round(entity_seconds, 3),
                # CPU time of the same calls: steadier than wall time on a shared machine.
                "cpu_seconds_mentions": round(mention_cpu, 3),
                "cpu_seconds_extract": round(entity_cpu, 3),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
