"""Measure entity extraction on re3d-style data and its speed on a news corpus.

    .venv/bin/python scripts/eval_entities.py [--re3d DIR] [--corpus FILE.jsonl] [--show-errors TYPE]

Quality (re3d: folders with documents.json and entities.json, character offsets into `text`):
  country/place mentions -> Location, organisation -> Organisation, person -> Person, demonym
  mentions (and region adjectives such as "Kurdish") -> Nationality.
  Matching is by overlap: a predicted span is correct when it overlaps a gold span of the same type;
  a gold span is found when a predicted span of that type overlaps it. Gold spans are de-duplicated
  (annotators repeat them). Three gold views are reported:
    named  gold spans that name something (contain a capitalised word that is not a pronoun or a
           determiner): what a gazetteer/name extractor is built for;
    named+GPE  as named, and a country name counts as right where gold calls it Location or
           Organisation (re3d types a country by its role: "Syria accuses Israel" is Organisation);
    all    every gold span, including "we", "the city", "he" (pronouns and nominals need coreference,
           which this module does not attempt).
Speed: documents per second of `extract(title, text)` over the corpus texts, one core.
Reads ../shared/data by default and says so clearly when it is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from monitor.entities.extract import EntityExtractor, Mention

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TYPES = ("Location", "Organisation", "Person", "Nationality")
# Words that do not make a gold span a *name* even when capitalised (sentence starts).
_NOT_NAMES = frozenset(
    [
        "i",
        "me",
        "my",
        "myself",
        "we",
        "us",
        "our",
        "ours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "here",
        "there",
        "who",
        "which",
    ]
)


def gold_type_of(m: Mention) -> str:
    if m.kind == "demonym":
        return "Nationality"
    return {"country": "Location", "place": "Location", "location": "Location"}.get(
        m.type, {"organisation": "Organisation", "person": "Person"}.get(m.type, "")
    )


def is_named(value: str) -> bool:
    return any(w[:1].isupper() and w.lower() not in _NOT_NAMES for w in value.split())


def load_re3d(root: Path) -> list[tuple[dict, list[dict]]]:
    docs: dict[str, dict] = {}
    ents: dict[str, list[dict]] = defaultdict(list)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for line in (folder / "documents.json").read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                docs[d["_id"]] = d
        for line in (folder / "entities.json").read_text(encoding="utf-8").splitlines():
            if line.strip():
                e = json.loads(line)
                ents[e["documentId"]].append(e)
    return [(docs[k], ents[k]) for k in sorted(docs)]


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def evaluate(ex: EntityExtractor, data: list[tuple[dict, list[dict]]], show: str | None) -> None:
    views = ("named", "named+GPE", "all")
    counts = {
        view: {t: {"pred": 0, "pred_ok": 0, "gold": 0, "gold_found": 0} for t in TYPES} for view in views
    }
    for doc, ents in data:
        preds = [
            (m.start, m.end, gold_type_of(m), m.surface, m.type == "country" and m.kind == "name")
            for m in ex.mentions(doc.get("title", ""), doc["text"])
            if m.source == "text"
        ]
        gold_all = {(e["begin"], e["end"], e["type"], e["value"]) for e in ents if e["type"] in TYPES}
        for view in views:
            gold = [g for g in gold_all if view == "all" or is_named(g[3])]
            # GPE rule: a country name is a geo-political entity; re3d marks it Location or
            # Organisation by its role in the sentence. Under this rule a country mention is right
            # when gold has either type there, and it also finds gold Organisation spans.
            gpe = view == "named+GPE"
            for t in TYPES:
                c = counts[view][t]
                p_t = [p for p in preds if p[2] == t]
                g_t = [g for g in gold if g[2] == t]
                g_ok = [g for g in gold if g[2] in ("Location", "Organisation")] if gpe else g_t
                ok = [p for p in p_t if any(_overlaps(p, g) for g in (g_ok if p[4] else g_t))]
                finders = p_t + [p for p in preds if p[4]] if gpe and t == "Organisation" else p_t
                found = [g for g in g_t if any(_overlaps(p, g) for p in finders)]
                c["pred"] += len(p_t)
                c["pred_ok"] += len(ok)
                c["gold"] += len(g_t)
                c["gold_found"] += len(found)
                if show == t and view == "named":
                    for p in sorted(set(p_t) - set(ok)):
                        print(f"  FP {t}: {p[3]!r}")
                    for g in sorted(set(g_t) - set(found)):
                        print(f"  FN {t}: {g[3]!r}")
    for view in views:
        print(f"re3d, overlap matching, gold view '{view}':")
        for t in TYPES:
            c = counts[view][t]
            p = c["pred_ok"] / c["pred"] if c["pred"] else 0.0
            r = c["gold_found"] / c["gold"] if c["gold"] else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            print(f"  {t:<13} P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (pred {c['pred']}, gold {c['gold']})")


def benchmark(ex: EntityExtractor, corpus: Path, limit: int) -> None:
    """Documents per second of extract(title, text), best of three runs (CPU time of this process).

    The extractor caches what it learnt about words and phrases, so three situations are measured:
    cold (empty caches), unseen (documents not seen before, caches filled by the other half of the
    corpus: the steady state of a worker) and warm (the same documents again)."""
    rows = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            rows.append((d.get("title") or "", d.get("text") or ""))
    half = len(rows) // 2
    train, test = rows[:half], rows[half:][:limit]
    chars = sum(len(t) + len(b) for t, b in test) / len(test)

    def run() -> float:
        best = float("inf")
        for _ in range(3):
            saved = ex.cache_state()
            t0 = time.process_time()
            for title, text in test:
                ex.extract(title, text)
            best = min(best, time.process_time() - t0)
            ex.restore_cache_state(saved)
        return len(test) / best

    ex.restore_cache_state(None)
    cold = run()
    for title, text in train:
        ex.extract(title, text)
    unseen = run()
    for title, text in test:
        ex.extract(title, text)
    warm = run()
    print(f"speed on {len(test)} docs of {chars:.0f} chars on average, docs/s (one core, best of 3):")
    print(f"  cold caches {cold:.0f}   unseen docs, warm caches {unseen:.0f}   same docs again {warm:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--re3d", type=Path, default=DEFAULT_DATA / "entities" / "re3d")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_DATA / "corpus" / "news_articles_2017.jsonl")
    ap.add_argument("--limit", type=int, default=1500, help="corpus documents for the speed test")
    ap.add_argument("--show-errors", choices=TYPES, help="print false positives/negatives of a type")
    args = ap.parse_args()
    t0 = time.perf_counter()
    ex = EntityExtractor()
    print(f"gazetteer built in {time.perf_counter() - t0:.1f} s")
    if args.re3d.is_dir():
        evaluate(ex, load_re3d(args.re3d), args.show_errors)
    else:
        print(f"re3d data not found at {args.re3d}: quality not measured", file=sys.stderr)
    if args.corpus.is_file():
        benchmark(ex, args.corpus, args.limit)
    else:
        print(f"corpus not found at {args.corpus}: speed not measured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
