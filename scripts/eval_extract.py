"""Main-text extraction on the shared evaluation pages, with every miss on -v (dev tool; `monitor
eval` gives the full report). The measurement lives in `monitor.evaluation.extraction`.

    .venv/bin/python scripts/eval_extract.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.evaluation import extraction, report

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="evaluation data folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    cases = args.data / extraction.EXTRACT_DIR / "cases.json"
    if not cases.is_file():
        print(report.missing_message(cases), file=sys.stderr)
        return 2
    run = extraction.run(args.data)
    print("\n".join(report.extraction_section(run)))
    print(f"speed {run.scores.pages / run.seconds:,.1f} pages/s (CPU time, one core)")
    if args.verbose:
        print("\n".join(run.scores.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
