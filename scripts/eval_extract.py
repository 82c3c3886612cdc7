"""Measure main-text extraction quality on the shared evaluation pages (dev tool, not shipped).

Reads ../shared/data/extract/cases.json and pages/ at run time (never copied into the repo) and
reports the share of must-contain segments found and of must-not-contain segments avoided.

    .venv/bin/python scripts/eval_extract.py [DATA_DIR] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from monitor.extract.html import extract_page
from monitor.extract.normalize import normalize_whitespace

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "extract"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    cases_file = args.data_dir / "cases.json"
    if not cases_file.exists():
        print(f"no evaluation data at {cases_file}; nothing measured", file=sys.stderr)
        return 2
    cases = json.loads(cases_file.read_text(encoding="utf-8"))
    found = wanted = avoided = unwanted = 0
    started = time.perf_counter()
    for case in cases:
        data = (args.data_dir / "pages" / case["file"]).read_bytes()
        text = extract_page(data, url=case.get("url")).text
        # Segments are compared in the same whitespace form as our output (NBSP -> space etc.).
        for segment in map(normalize_whitespace, case.get("must_contain", [])):
            wanted += 1
            if segment in text:
                found += 1
            elif args.verbose:
                print(f"MISSING  {case['file']}: {segment!r}")
        for segment in map(normalize_whitespace, case.get("must_not_contain", [])):
            unwanted += 1
            if segment not in text:
                avoided += 1
            elif args.verbose:
                print(f"PRESENT  {case['file']}: {segment!r}")
    elapsed = time.perf_counter() - started
    print(f"pages: {len(cases)} in {elapsed:.1f} s")
    found_pct = 100 * found / max(wanted, 1)
    avoided_pct = 100 * avoided / max(unwanted, 1)
    print(f"must-contain found:       {found}/{wanted} = {found_pct:.1f}% (target >= 95%)")
    print(f"must-not-contain avoided: {avoided}/{unwanted} = {avoided_pct:.1f}% (target >= 90%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
