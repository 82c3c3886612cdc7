"""Measure near-duplicate detection (monitor.dedupe.near) on real news with built variants.

    .venv/bin/python scripts/eval_dedupe.py [--corpus FILE.jsonl] [--threshold 0.7] [--seed 1]

Originals: the articles of ../shared/data/corpus/news_articles_2017.jsonl with at least 50 words.
For every original one variant is built by each documented transformation, all with a rewritten
headline (the title is not part of the signature, so a new headline alone changes nothing):

  headline      the headline rewritten, text unchanged
  boilerplate+  an outlet's intro line prepended and a ~40-word footer appended
  boilerplate-  first and last sentence removed (the original carried the boilerplate)
  truncated     the first 60 % of the words, then "Read more"
  reordered     sentences grouped in blocks of 3 ("paragraphs") and the blocks shuffled
  words         5 words replaced by random words from other articles
  combined      truncated to 60 % + boilerplate+ + 5 words replaced

Stream: originals in published order, one every 10 minutes; each variant arrives 1-48 h after its
original; everything goes through one `NearDuplicateIndex` (7-day window) in seen_at order.
  recall     variants whose answer is their own original (or, when that original is itself a real
             copy of an earlier one, that earlier one: it is the first copy of the text)
  precision  correct answers / all non-None answers. An answer for an *original* is correct only when
             the two originals really share their text: exact shingle containment >= 0.5 (the corpus
             holds a few real republished copies and same-outlet updates; they are listed).
False duplicates between distinct originals, without the window or LSH: the estimated containment of
every pair of originals (all ~7 M pairs) against the threshold, counting pairs whose exact shingle
containment is < 0.5.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from monitor.dedupe import near

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_CORPUS = DEFAULT_DATA / "corpus" / "news_articles_2017.jsonl"
_SENTENCE = re.compile(r"(?<=[.!?\"])\s+(?=[A-Z\"])")
_INTROS = [
    "This article was originally published by our partners and is republished with permission.",
    "(Reuters) -",
    "Breaking news from our correspondents.",
]
_FOOTER = (
    "Copyright 2017 The Daily Courier. All rights reserved. This material may not be published, broadcast,"
    " rewritten or redistributed. Follow us on Twitter and Facebook for the latest updates and sign up"
    " for our free morning newsletter to get the news delivered to your inbox every day."
)
TRANSFORMS = ("headline", "boilerplate+", "boilerplate-", "truncated", "reordered", "words", "combined")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def change_words(text: str, rng: random.Random, vocab: list[str], n: int = 5) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), min(n, len(words))):
        words[i] = rng.choice(vocab)
    return " ".join(words)


def truncate(text: str, share: float = 0.6) -> str:
    words = text.split()
    return " ".join(words[: max(1, int(len(words) * share))]) + " ... Read more"


def variant(kind: str, text: str, rng: random.Random, vocab: list[str]) -> str:
    if kind == "headline":
        return text
    if kind == "boilerplate+":
        return f"{rng.choice(_INTROS)} {text} {_FOOTER}"
    if kind == "boilerplate-":
        sent = sentences(text)
        return " ".join(sent[1:-1]) if len(sent) > 3 else " ".join(text.split()[10:-10])
    if kind == "truncated":
        return truncate(text)
    if kind == "reordered":
        sent = sentences(text)
        blocks = [" ".join(sent[i : i + 3]) for i in range(0, len(sent), 3)]
        rng.shuffle(blocks)
        return " ".join(blocks)
    if kind == "words":
        return change_words(text, rng, vocab)
    if kind == "combined":
        return f"{rng.choice(_INTROS)} {change_words(truncate(text), rng, vocab)} {_FOOTER}"
    raise ValueError(kind)


def parse_date(value: str) -> datetime:
    from monitor.extract.dates import parse_optional

    return parse_optional(value) or datetime(2017, 1, 1, tzinfo=UTC)


def exact_containment(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / min(len(a), len(b))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--threshold", type=float, default=near.DEFAULT_THRESHOLD)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus} (the evaluation reads ../shared/data)", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    rows = [json.loads(line) for line in args.corpus.open(encoding="utf-8")]
    originals = [r for r in rows if len(r["text"].split()) >= 50]
    originals.sort(key=lambda r: (parse_date(r["published"]), int(r["id"])))
    vocab = [w for r in rng.sample(originals, 200) for w in r["text"].split()]
    print(f"{len(originals)} originals (>= 50 words) of {len(rows)} articles; threshold {args.threshold}")

    t0 = datetime(2017, 1, 1, tzinfo=UTC)
    stream: list[tuple[datetime, str, str, str | None, str]] = []  # seen_at, id, text, truth, kind
    for i, r in enumerate(originals):
        seen = t0 + timedelta(minutes=10 * i)
        stream.append((seen, r["id"], r["text"], None, "original"))
        for kind in TRANSFORMS:
            delay = timedelta(hours=rng.uniform(1, 48))
            text = variant(kind, r["text"], rng, vocab)
            stream.append((seen + delay, f"{r['id']}/{kind}", text, r["id"], kind))
    stream.sort(key=lambda s: (s[0], s[1]))

    index = near.NearDuplicateIndex(window=timedelta(days=7), threshold=args.threshold)
    shingles = {r["id"]: near.shingle_hashes(r["text"]) for r in originals}
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    flagged = correct = 0
    natural: list[tuple[str, str, float]] = []
    copy_of: dict[str, str] = {}  # originals that are real copies of an earlier original
    wrong: list[tuple[str, str, str]] = []
    start = time.perf_counter()
    for seen, doc_id, text, truth, kind in stream:
        answer = index.add(doc_id, text, seen)
        # a variant of an original that is itself a real copy may name that copy's original
        accepted = {truth, copy_of.get(truth, truth)} if truth is not None else set()
        if truth is not None:
            total[kind] += 1
            found[kind] += answer in accepted
        if answer is None:
            continue
        flagged += 1
        if truth is not None:
            ok = answer in accepted
        else:
            c = exact_containment(shingles[doc_id], shingles[answer])
            ok = c >= 0.5
            natural.append((doc_id, answer, c))
            if ok:
                copy_of[doc_id] = answer
        correct += ok
        if not ok:
            wrong.append((kind, doc_id, answer))
    elapsed = time.perf_counter() - start

    print(f"\nstream: {len(stream)} documents in {elapsed:.1f} s ({len(stream) / elapsed:.0f} docs/s)")
    print(f"{'transformation':<14} {'recall':>7}  n")
    for kind in TRANSFORMS:
        print(f"{kind:<14} {found[kind] / total[kind]:7.4f}  {total[kind]}")
    n_var = sum(total.values())
    print(f"{'all variants':<14} {sum(found.values()) / n_var:7.4f}  {n_var}")
    print(f"precision {correct / flagged:.4f} ({correct}/{flagged} answers correct)")
    titles = {r["id"]: r["title"] for r in rows}
    print(f"\noriginals answered as duplicates of an earlier original: {len(natural)}")
    for a, b, c in natural:
        print(f"  {a} -> {b}  exact containment {c:.2f}  {titles[a][:45]!r} / {titles[b][:45]!r}")
    for kind, a, b in wrong[:20]:
        print(f"  WRONG {kind}: {a} -> {b}")

    # all pairs of originals: estimated containment vs threshold, exact containment as the truth
    ids = [r["id"] for r in originals]
    sigs = [near.compute_signature(r["text"]) for r in originals]
    values = np.stack([s.values for s in sigs])
    sizes = np.array([s.size for s in sigs], dtype=np.float64)
    pairs = flagged_pairs = distinct_flagged = 0
    for i in range(len(ids) - 1):
        j = np.count_nonzero(values[i + 1 :] == values[i], axis=1) / near.NUM_PERM
        other = sizes[i + 1 :]
        cont = np.minimum(1.0, j * (sizes[i] + other) / ((1 + j) * np.minimum(sizes[i], other)))
        small = np.minimum(sizes[i], other) < near.MIN_CONTAINED_SHINGLES
        hit = np.where(small, j >= args.threshold, cont >= args.threshold) & (
            np.minimum(sizes[i], other) >= near.MIN_SHINGLES
        )
        pairs += len(j)
        for k in np.flatnonzero(hit):
            flagged_pairs += 1
            b = ids[i + 1 + k]
            if exact_containment(shingles[ids[i]], shingles[b]) < 0.5:
                distinct_flagged += 1
                print(f"  false pair {ids[i]} / {b}: {titles[ids[i]][:40]!r} / {titles[b][:40]!r}")
    print(
        f"\nall pairs of originals: {pairs} pairs, {flagged_pairs} flagged, of which {distinct_flagged}"
        f" distinct (exact containment < 0.5): false-duplicate rate {distinct_flagged / pairs:.2e} per pair"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
