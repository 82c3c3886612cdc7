"""Measure the security classifier on a labelled JSON-lines file (dev tool, not part of the package).

Usage:
    .venv/bin/python scripts/eval_classify.py [../shared/data/classify/security_dev.jsonl]
        [--taxonomy FILE] [--errors fn|fp] [--limit N]

Each line: {"id", "source", "text", "security": true|false|null, "family"}. An article counts as
security-relevant when at least one topic fires; `security: null` rows are not judged (but are
still timed). Prints precision, recall, F1, false-positive rate, recall per family, topic counts
and throughput of `Classifier.classify` on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from monitor.classify.rules import Classifier, load_default_classifier
from monitor.classify.taxonomy import load_taxonomy

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "classify" / "security_dev.jsonl"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--taxonomy", help="taxonomy YAML (default: the packaged one)")
    parser.add_argument("--errors", choices=["fn", "fp"], help="print false negatives or false positives")
    parser.add_argument("--limit", type=int, default=30, help="how many errors to print")
    args = parser.parse_args(argv)

    path = Path(args.data)
    if not path.exists():
        print(f"{path}: not found (the dev data lives outside the repository)", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    classifier = Classifier(load_taxonomy(args.taxonomy)) if args.taxonomy else load_default_classifier()

    start = time.perf_counter()
    results = [classifier.classify("", row["text"]) for row in rows]
    elapsed = time.perf_counter() - start

    tp = fp = fn = tn = 0
    family_total: Counter[str] = Counter()
    family_hit: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    errors: list[tuple[dict, list]] = []
    for row, hits in zip(rows, results, strict=True):
        for hit in hits:
            topics[hit.topic_id] += 1
        predicted = bool(hits)
        if row["security"] is None:
            continue
        if row["security"]:
            family = row.get("family") or "?"
            family_total[family] += 1
            if predicted:
                tp += 1
                family_hit[family] += 1
            else:
                fn += 1
                if args.errors == "fn":
                    errors.append((row, hits))
        elif predicted:
            fp += 1
            if args.errors == "fp":
                errors.append((row, hits))
        else:
            tn += 1

    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    print(f"classifier {classifier.version}  data {path.name}  documents {len(rows)}")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  FPR {fpr:.4f} ({fp}/{fp + tn})")
    for family in sorted(family_total):
        hit, total = family_hit[family], family_total[family]
        print(f"  recall[{family}] {hit / total:.4f} ({hit}/{total})")
    print("topics fired: " + ", ".join(f"{topic} {count}" for topic, count in topics.most_common()))
    print(f"speed {len(rows) / elapsed:,.0f} docs/s ({elapsed:.2f} s, one core)")
    for row, hits in errors[: args.limit]:
        print("-" * 100)
        print(row["id"], row.get("family"), row["text"][:400].replace("\n", " "))
        for hit in hits:
            print(f"  {hit.topic_id} {hit.score}: " + ", ".join(f"{e.term}×{e.count}" for e in hit.evidence))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
