"""Security classifier on the labelled dev set, with its errors (dev tool; `monitor eval` gives
the full report). The measurement lives in `monitor.evaluation.security`.

    .venv/bin/python scripts/eval_classify.py [--data ../shared/data] [--errors fn|fp] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.analyze import Models
from monitor.evaluation import report, security
from monitor.settings import Settings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="evaluation data folder")
    parser.add_argument("--errors", choices=["fn", "fp"], help="print false negatives or false positives")
    parser.add_argument("--limit", type=int, default=30, help="how many errors to print")
    args = parser.parse_args(argv)
    if not (args.data / security.DEV_FILE).is_file():
        print(report.missing_message(args.data / security.DEV_FILE), file=sys.stderr)
        return 2
    models = Models.load(Settings.from_env())
    run = security.run(args.data, models=models)
    print("\n".join(report.security_section(run)))
    print(f"speed {run.scores.documents / run.seconds:,.0f} docs/s (CPU time, one core)")
    if args.errors:
        classifier = models.classifier
        want = args.errors == "fp"  # fp: judged false, predicted security
        shown = 0
        for row, fired in zip(run.rows, run.fired, strict=True):
            if row.get("security") is None or row["security"] == want or bool(fired) != want:
                continue
            print("-" * 100)
            print(row["id"], row.get("family"), row["text"][:400].replace("\n", " "))
            for hit in classifier.classify("", row["text"]):
                print(
                    f"  {hit.topic_id} {hit.score}: " + ", ".join(f"{e.term}×{e.count}" for e in hit.evidence)
                )
            shown += 1
            if shown >= args.limit:
                break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
