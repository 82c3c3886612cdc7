"""Throughput and memory of near-duplicate detection + story clustering on 100k articles.

    .venv/bin/python scripts/bench_dedupe.py [--n 100000] [--days 30] [--corpus FILE.jsonl]

Input: the 3,824 articles of ../shared/data/corpus/news_articles_2017.jsonl resampled (with
replacement, seed 1) to --n documents, each with small random edits (1-3 words replaced, and one
document in three truncated to 60-95 % of its words), with seen_at spread uniformly at random over
--days days and processed in seen_at order, as the pipeline would. Built in memory before timing.

Timed stages, one process (the numbers in docs/dedupe.md):
  signature  near.signature(text) per document (pure: can run in the processing workers)
  near       NearDuplicateIndex(window 7 days).add_signature
  stories    StoryIndex(window 72 h).add (no entity ids: extraction is its own stage)
Peak RSS is ru_maxrss of this process (it includes the ~0.5 GB of generated documents); the index
sizes printed every 10 % of the run show that the state is bounded by the windows, not by the stream.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.dedupe import near
from monitor.dedupe.near import NearDuplicateIndex
from monitor.dedupe.stories import StoryArticle, StoryIndex

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_CORPUS = DEFAULT_DATA / "corpus" / "news_articles_2017.jsonl"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def edited(text: str, rng: random.Random, vocab: list[str]) -> str:
    words = text.split()
    if not words:
        return text
    if rng.random() < 1 / 3:
        words = words[: max(1, int(len(words) * rng.uniform(0.6, 0.95)))]
    for _ in range(rng.randint(1, 3)):
        words[rng.randrange(len(words))] = rng.choice(vocab)
    return " ".join(words)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--days", type=float, default=30)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus} (the benchmark reads ../shared/data)", file=sys.stderr)
        return 2
    rng = random.Random(1)
    rows = [json.loads(line) for line in args.corpus.open(encoding="utf-8")]
    vocab = [w for r in rng.sample(rows, 200) for w in r["text"].split()]
    t0 = datetime(2017, 3, 1, tzinfo=UTC)
    span = args.days * 86400
    docs = []
    for i in range(args.n):
        r = rng.choice(rows)
        seen = t0 + timedelta(seconds=rng.uniform(0, span))
        source = r["url"].split("/")[2] if rng.random() < 0.5 else f"mirror-{rng.randrange(50)}"
        docs.append((seen, f"{i}", r["title"], edited(r["text"], rng, vocab), source))
    docs.sort(key=lambda d: (d[0], d[1]))
    near._char_classes()  # built once per process (0.3 s); not part of the per-document cost
    print(f"{len(docs)} documents over {args.days:g} days; generated, RSS {rss_mb():.0f} MB")

    nindex = NearDuplicateIndex(window=timedelta(days=7))
    sindex = StoryIndex(window=timedelta(hours=72))
    t_sig = t_near = t_story = 0.0
    dups = 0
    peak_near = peak_stories = 0
    for k, (seen, doc_id, title, text, source) in enumerate(docs, 1):
        a = time.perf_counter()
        sig = near.signature(text)
        b = time.perf_counter()
        dup = nindex.add_signature(doc_id, sig, seen)
        c = time.perf_counter()
        sindex.add(StoryArticle(doc_id, title, text, seen, (), source, dup))
        d = time.perf_counter()
        t_sig += b - a
        t_near += c - b
        t_story += d - c
        dups += dup is not None
        peak_near = max(peak_near, len(nindex))
        peak_stories = max(peak_stories, len(sindex))
        if k % (len(docs) // 10) == 0:
            print(
                f"  {k:>7} docs  day {(seen - t0).days:>2}  near index {len(nindex):>6} docs"
                f"  live stories {len(sindex):>5}  RSS {rss_mb():.0f} MB"
            )
    total = t_sig + t_near + t_story
    n = len(docs)
    print(f"signature  {t_sig:6.1f} s  {n / t_sig:8.0f} docs/s")
    print(f"near       {t_near:6.1f} s  {n / t_near:8.0f} docs/s")
    print(f"stories    {t_story:6.1f} s  {n / t_story:8.0f} docs/s")
    print(f"total      {total:6.1f} s  {n / total:8.0f} docs/s  (one core)")
    print(f"near-duplicates {dups} ({dups / n:.1%}); live stories at the end {len(sindex)}")
    print(f"peak near index {peak_near} docs, peak live stories {peak_stories}; peak RSS {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
