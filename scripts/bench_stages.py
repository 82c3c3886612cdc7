"""Per-stage throughput of what `monitor classify` runs per article, on one core.

    .venv/bin/python scripts/bench_stages.py [--warm 1500] [--measure 1500] [--repeat 3]
    .venv/bin/python scripts/bench_stages.py --snapshot out/stages.jsonl   # outputs, for diffs

Stages: language (`detect_language(title + "\\n" + text)`), classify (`Classifier.classify`),
entities (`EntityExtractor.extract`), and all three together as the CLI and the pipeline call them.

Honest figures: the per-word and per-phrase caches are warmed on docs [0, warm) and every stage is
measured on the *next* `measure` docs, which none of the caches has seen. The cache state after warming
is restored before each timed repeat, so repeats 2 and 3 do not profit from repeat 1. The best of
`repeat` runs is reported (the machine is shared; the minimum time is the least disturbed one).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "news_articles_2017.jsonl"


def _docs() -> list[tuple[str, str]]:
    out = []
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                out.append((d.get("title") or "", d.get("text") or ""))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=1500, help="docs used to warm the caches")
    parser.add_argument("--measure", type=int, default=1500, help="docs measured after them")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="no warming: empty caches before each run")
    parser.add_argument("--snapshot", help="write every doc's outputs as JSON lines to this file and stop")
    args = parser.parse_args()

    from monitor.analyze import Models
    from monitor.settings import Settings

    docs = _docs()
    t0 = time.process_time()
    models = Models.load(Settings.from_env())
    classifier, extractor, detect_language = models.classifier, models.extractor, models.languages
    models.preload()
    print(f"load: {time.process_time() - t0:.2f} s", file=sys.stderr)

    if args.snapshot:
        with open(args.snapshot, "w", encoding="utf-8") as out:
            for i, (title, text) in enumerate(docs):
                lang = detect_language(f"{title}\n{text}")
                topics = classifier.classify(title, text, lang)
                ents = extractor.extract(title, text)
                out.write(
                    json.dumps(
                        {
                            "i": i,
                            "language": lang,
                            "topics": [dataclasses.asdict(t) for t in topics],
                            "entities": [dataclasses.asdict(e) for e in ents],
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        print(f"wrote {len(docs)} lines to {args.snapshot}", file=sys.stderr)
        return 0

    warm = [] if args.cold else docs[: args.warm]
    measured = docs[args.warm : args.warm + args.measure]
    for title, text in warm:
        lang = detect_language(f"{title}\n{text}")
        classifier.classify(title, text, lang)
        extractor.extract(title, text)
    langs = [detect_language(f"{t}\n{x}") for t, x in measured]
    ent_state = extractor.cache_state()
    # Older classifiers had no cache_state (kept so the script can measure a baseline checkout).
    cls_state = classifier.cache_state() if hasattr(classifier, "cache_state") else None

    def language() -> None:
        for title, text in measured:
            detect_language(f"{title}\n{text}")

    def classify() -> None:
        for (title, text), lang in zip(measured, langs, strict=True):
            classifier.classify(title, text, lang)

    def entities() -> None:
        for title, text in measured:
            extractor.extract(title, text)

    def together() -> None:
        for title, text in measured:
            lang = detect_language(f"{title}\n{text}")
            classifier.classify(title, text, lang)
            extractor.extract(title, text)

    stages: dict[str, Callable[[], None]] = {
        "language": language,
        "classify": classify,
        "entities": entities,
        "together": together,
    }
    results = {}
    for name, fn in stages.items():
        best = float("inf")
        for _ in range(args.repeat):
            extractor.restore_cache_state(tuple(dict(c) for c in ent_state))  # type: ignore[arg-type]
            if cls_state is not None:
                classifier.restore_cache_state(cls_state)
            gc.collect()
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        results[name] = len(measured) / best
        print(f"{name:9s} {results[name]:8.0f} docs/s", flush=True)
    mode = "cold" if args.cold else f"warmed on {len(warm)}"
    print(json.dumps({"docs": len(measured), "mode": mode, **{k: round(v) for k, v in results.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
