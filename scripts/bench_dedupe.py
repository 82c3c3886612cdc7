"""Throughput and memory of near-duplicate detection + story clustering on 100k articles.

    .venv/bin/python scripts/bench_dedupe.py [--n 100000] [--days 30] [--workers N] [--corpus FILE.jsonl]

From another script: `measure(n=100_000, days=30) -> dict` (what `make bench` reports).

Input: the 3,824 articles of ../shared/data/corpus/news_articles_2017.jsonl resampled (with
replacement, seed 1) to --n documents, each with small random edits (1-3 words replaced, and one
document in three truncated to 60-95 % of its words), with seen_at spread uniformly at random over
--days days and processed in seen_at order, as the pipeline would. Built in memory before timing.

Timed, as the pipeline runs it (the numbers in docs/dedupe.md):
  signature  near.signature(text) per document, in --workers forked processes (default: one per
             core but one; 0 = in this process), as the pipeline computes them (process_item)
  near       NearDuplicateIndex(window 7 days).add_signature, in this process, in seen_at order
  stories    StoryIndex(window 72 h).add (no entity ids: extraction is its own stage), same process
The total is the wall time of the whole, from the first signature to the last story, with the
workers and this process overlapping; the per-stage seconds are the time spent in each stage (for
signatures: CPU seconds summed over the workers, and the time this process waited for them).
Peak RSS is ru_maxrss of this process (it includes the ~0.45 GB of generated documents) and of the
largest worker; the index sizes printed every 10 % of the run show that the state is bounded by the
windows, not by the stream.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.dedupe import near
from monitor.dedupe.near import NearDuplicateIndex
from monitor.dedupe.stories import StoryArticle, StoryIndex

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_CORPUS = DEFAULT_DATA / "corpus" / "news_articles_2017.jsonl"
CHUNK = 500  # documents per worker task: large enough to amortise the round trip, small enough to overlap

Doc = tuple[datetime, str, str, str, str]  # seen_at, id, title, text, source
_DOCS: list[Doc] = []  # the documents, inherited by the forked signature workers (never pickled)


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def edited(text: str, rng: random.Random, vocab: list[str]) -> str:
    words = text.split()
    if not words:
        return text
    if rng.random() < 1 / 3:
        words = words[: max(1, int(len(words) * rng.uniform(0.6, 0.95)))]
    for _ in range(rng.randint(1, 3)):
        words[rng.randrange(len(words))] = rng.choice(vocab)
    return " ".join(words)


def make_docs(n: int, days: float, corpus: Path = DEFAULT_CORPUS) -> list[Doc]:
    """The benchmark stream, in (seen_at, id) order; the same for the same arguments."""
    rng = random.Random(1)
    rows = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    vocab = [w for r in rng.sample(rows, 200) for w in r["text"].split()]
    t0 = datetime(2017, 3, 1, tzinfo=UTC)
    span = days * 86400
    docs = []
    for i in range(n):
        r = rng.choice(rows)
        seen = t0 + timedelta(seconds=rng.uniform(0, span))
        source = r["url"].split("/")[2] if rng.random() < 0.5 else f"mirror-{rng.randrange(50)}"
        docs.append((seen, f"{i}", r["title"], edited(r["text"], rng, vocab), source))
    docs.sort(key=lambda d: (d[0], d[1]))
    return docs


def _sign_chunk(start: int) -> tuple[list[bytes], float]:
    """Worker: signatures of _DOCS[start:start + CHUNK] and the CPU seconds they took."""
    t = time.process_time()
    sigs = [near.signature(d[3]) for d in _DOCS[start : start + CHUNK]]
    return sigs, time.process_time() - t


def _signatures(workers: int) -> Iterator[tuple[list[bytes], float]]:
    starts = range(0, len(_DOCS), CHUNK)
    if workers <= 0:
        yield from map(_sign_chunk, starts)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_sign_chunk, starts)


def measure(
    n: int = 100_000,
    days: float = 30,
    *,
    workers: int | None = None,
    corpus: Path = DEFAULT_CORPUS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Deduplicate and cluster `n` generated documents over `days` days; timings, sizes and memory.

    Keys: dedupe_cluster_100k_s (total wall seconds for the n documents, whatever n is),
    docs_per_s, signature_cpu_s, signature_wait_s, near_s, stories_s, near_index_max,
    live_stories_max, near_duplicates, peak_rss_mb, worker_peak_rss_mb, n, days, workers, load_avg.
    """
    global _DOCS
    # one core stays with this process (near-duplicates and stories are sequential), the others sign
    workers = max(1, (os.cpu_count() or 1) - 1) if workers is None else workers
    _DOCS = make_docs(n, days, corpus)
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()  # the input is not garbage: keep it out of the collector's passes (as processing does)
    near._char_classes()  # built once per process (0.3 s), before the fork: not a per-document cost
    if progress:
        progress(f"{n} documents over {days:g} days; generated, RSS {rss_mb():.0f} MB")
    t0 = _DOCS[0][0] if _DOCS else datetime(2017, 3, 1, tzinfo=UTC)
    nindex = NearDuplicateIndex(window=timedelta(days=7))
    sindex = StoryIndex(window=timedelta(hours=72))
    t_sig_cpu = t_wait = t_near = t_story = 0.0
    dups = peak_near = peak_stories = 0
    step = max(1, n // 10)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    chunks = _signatures(workers)
    for base in range(0, n, CHUNK):
        a = time.perf_counter()
        sigs, cpu = next(chunks)
        t_wait += time.perf_counter() - a
        t_sig_cpu += cpu
        # a chunk through the index, then through the stories: each stage keeps its own data in the
        # caches (the same answers as interleaving them per document: stories never feed back)
        b = time.perf_counter()
        answers = []
        for d, sig in zip(_DOCS[base : base + CHUNK], sigs, strict=True):
            answers.append(nindex.add_signature(d[1], sig, d[0]))
            peak_near = max(peak_near, len(nindex))
        c = time.perf_counter()
        for k, dup in enumerate(answers, base):
            seen, doc_id, title, text, source = _DOCS[k]
            sindex.add(StoryArticle(doc_id, title, text, seen, (), source, dup))
            peak_stories = max(peak_stories, len(sindex))
            if progress and (k + 1) % step == 0:
                progress(
                    f"  {k + 1:>7} docs  day {(seen - t0).days:>2}  near index {len(nindex):>6} docs"
                    f"  live stories {len(sindex):>5}  RSS {rss_mb():.0f} MB"
                )
        t_near += c - b
        t_story += time.perf_counter() - c
        dups += sum(dup is not None for dup in answers)
    chunks.close()  # ends the pool
    total = time.perf_counter() - start
    _DOCS = []
    if not frozen_before:  # a caller's own frozen objects stay frozen
        gc.unfreeze()
    return {
        "dedupe_cluster_100k_s": round(total, 2),
        "docs_per_s": round(n / total),
        "signature_cpu_s": round(t_sig_cpu, 2),
        "signature_wait_s": round(t_wait, 2),
        "near_s": round(t_near, 2),
        "stories_s": round(t_story, 2),
        "near_index_max": peak_near,
        "live_stories_max": peak_stories,
        "live_stories_end": len(sindex),
        "near_duplicates": dups,
        "peak_rss_mb": round(rss_mb()),
        "worker_peak_rss_mb": round(rss_mb(resource.RUSAGE_CHILDREN)),
        "n": n,
        "days": days,
        "workers": workers,
        "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument(
        "--workers", type=int, default=None, help="signature processes (default: cores - 1; 0: none)"
    )
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus} (the benchmark reads ../shared/data)", file=sys.stderr)
        return 2
    r = measure(args.n, args.days, workers=args.workers, corpus=args.corpus, progress=print)
    if args.json:
        print(json.dumps(r))
        return 0
    n, sig = r["n"], r["signature_cpu_s"]
    print(f"signature  {sig:6.1f} s CPU in {r['workers']} workers; waited {r['signature_wait_s']:.1f} s")
    print(f"near       {r['near_s']:6.1f} s  {n / r['near_s']:8.0f} docs/s")
    print(f"stories    {r['stories_s']:6.1f} s  {n / r['stories_s']:8.0f} docs/s")
    total, rate = r["dedupe_cluster_100k_s"], r["docs_per_s"]
    print(f"total      {total:6.1f} s  {rate:8.0f} docs/s  (wall; load average {r['load_avg']})")
    dups = r["near_duplicates"]
    print(f"near-duplicates {dups} ({dups / n:.1%}); live stories at the end {r['live_stories_end']}")
    print(
        f"peak near index {r['near_index_max']} docs, peak live stories {r['live_stories_max']};"
        f" peak RSS {r['peak_rss_mb']} MB (workers {r['worker_peak_rss_mb']} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
