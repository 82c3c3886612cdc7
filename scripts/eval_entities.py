"""Entity extraction on re3d, with its errors (dev tool; `monitor eval` gives the full report).
The measurement (span and canonical-name matching, speed) lives in `monitor.evaluation.entities`.

    .venv/bin/python scripts/eval_entities.py [--data ../shared/data] [--show-errors TYPE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.entities import build_extractor
from monitor.evaluation import entities, report
from monitor.settings import Settings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="evaluation data folder")
    ap.add_argument(
        "--show-errors", choices=entities.TYPES, help="wrong and missed spans of a type (named view)"
    )
    args = ap.parse_args(argv)
    if not (args.data / entities.RE3D_DIR).is_dir():
        print(report.missing_message(args.data / entities.RE3D_DIR), file=sys.stderr)
        return 2
    ex = build_extractor(Settings.from_env().cache_dir)
    run = entities.run(args.data, ex)
    print("\n".join(report.entities_section(run)))
    print(
        f"speed {run.speed_docs / run.speed_seconds:,.0f} docs/s on {run.speed_source} (CPU time, one core)"
    )
    if args.show_errors:
        for doc, ents in entities.load_re3d(args.data / entities.RE3D_DIR):
            wrong, missed = entities.span_errors(ents, entities.predictions(ex, doc), args.show_errors)
            for surface in wrong:
                print(f"  FP {args.show_errors}: {surface!r}")
            for surface in missed:
                print(f"  FN {args.show_errors}: {surface!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
