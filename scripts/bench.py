"""`make bench`: throughput figures measured in one run, printed and written to out/bench.json.

Reads ../shared/data/corpus/news_articles_2017.jsonl when present (real news, 3,824 articles); says so
and falls back to the bundled samples otherwise. Figures are taken in the same run so they can be
compared as ratios on a noisy machine:

- feedparser_per_s: feedparser alone on an RSS document holding the corpus items (the floor any feed
  pipeline pays);
- classify_per_s: what `monitor classify` does per article (language, topics, entities), one core;
- e2e_per_s: RSS bytes → parse → insert into PostgreSQL → process (clean, classify, entities) → commit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import psycopg2

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "news_articles_2017.jsonl"


def load_corpus(limit: int | None) -> tuple[list[dict], str]:
    if CORPUS.exists():
        docs = [json.loads(line) for line in CORPUS.open(encoding="utf-8") if line.strip()]
        source = str(CORPUS)
    else:
        print(f"note: {CORPUS} is missing; measuring on the bundled samples instead", file=sys.stderr)
        from monitor.ingest.files import parse_inbox_file

        docs = []
        for entry in (resources.files("monitor") / "samples" / "inbox").iterdir():
            if entry.name.endswith(".txt"):
                item = parse_inbox_file(entry.name, entry.read_bytes(), 10_000_000).items[0]
                docs.append({"id": entry.name, "title": item.title, "text": item.raw})
        docs = [
            dict(d, id=f"{d['id']}-{i}", text=f"{d['text']}\n\nCopy {i}.") for i in range(200) for d in docs
        ]
        source = "bundled samples × 200"
    return (docs[:limit] if limit else docs), source


def rss(docs: list[dict]) -> bytes:
    now = format_datetime(datetime(2026, 11, 1, tzinfo=UTC))
    items = "".join(
        f"<item><title>{escape(d.get('title') or '')}</title>"
        f"<link>https://bench.example/{escape(str(d['id']))}</link><guid>bench-{escape(str(d['id']))}</guid>"
        f"<pubDate>{now}</pubDate><description>{escape(d.get('text') or '')}</description></item>"
        for d in docs
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench</title>'
        f"<link>https://bench.example/</link><description>bench</description>{items}</channel></rss>"
    ).encode()


def bench_feedparser(doc: bytes, n: int) -> float:
    start = time.perf_counter()
    parsed = feedparser.parse(doc)
    elapsed = time.perf_counter() - start
    assert len(parsed.entries) == n, (len(parsed.entries), n)
    return n / elapsed


def bench_classify(docs: list[dict]) -> float:
    from monitor.classify.rules import load_default_classifier
    from monitor.entities.extract import load_default_extractor
    from monitor.extract.language import detect_language

    classifier, extractor = load_default_classifier(), load_default_extractor()
    start = time.perf_counter()
    for d in docs:
        title, text = d.get("title") or "", d.get("text") or ""
        language = detect_language(f"{title}\n{text}")
        classifier.classify(title, text, language)
        extractor.extract(title, text)
    return len(docs) / (time.perf_counter() - start)


def bench_e2e(doc: bytes, n: int) -> tuple[float, dict]:
    from monitor import pipeline
    from monitor.ingest.feeds import parse_feed
    from monitor.settings import Settings
    from monitor.store import articles, sources
    from monitor.store.db import embedded_server_uri, migrate, with_database

    server = os.environ.get("MONITOR_TEST_DATABASE_URL") or embedded_server_uri(
        REPO / ".monitor" / "test-pgdata"
    )
    name = f"monitor_bench_{secrets.token_hex(3)}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = psycopg2.connect(with_database(server, name))
        migrate(conn, REPO / "sql")
        settings = replace(Settings(), progress=False, batch_size=500)
        feed = sources.add_feed(conn, "https://bench.example/feed.xml", "Bench", 30)
        start = time.perf_counter()
        parsed = parse_feed(doc, "bench", content_type="application/rss+xml")
        counts = articles.insert_items(
            conn, source_id=feed.id, origin="feed", items=[(i, i.url or "") for i in parsed.items]
        )
        conn.commit()
        ingested = time.perf_counter()
        report = pipeline.process_pending(settings, conn)
        end = time.perf_counter()
        conn.close()
        detail = {
            "ingest_per_s": round(counts.new / (ingested - start), 1),
            "process_per_s": round(report.processed / (end - ingested), 1),
            "new": counts.new,
            "processed": report.processed,
            "duplicates": report.duplicates,
        }
        return n / (end - start), detail
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, help="use only the first N articles")
    parser.add_argument("--output", default=str(REPO / "out" / "bench.json"))
    args = parser.parse_args()
    docs, source = load_corpus(args.limit)
    doc = rss(docs)
    n = len(docs)
    print(f"corpus: {source}: {n} articles, RSS document {len(doc) / 1e6:.1f} MB")
    results: dict = {"corpus": source, "articles": n, "cpu_count": os.cpu_count()}
    results["feedparser_per_s"] = round(bench_feedparser(doc, n), 1)
    print(f"feedparser only:           {results['feedparser_per_s']:>8.1f} articles/s")
    results["classify_per_s"] = round(bench_classify(docs), 1)
    print(f"classify (lang+topics+ent): {results['classify_per_s']:>7.1f} articles/s")
    e2e, detail = bench_e2e(doc, n)
    results["e2e_per_s"] = round(e2e, 1)
    results["e2e_detail"] = detail
    print(f"ingest+process e2e:        {results['e2e_per_s']:>8.1f} articles/s  {detail}")
    results["classify_vs_feedparser"] = round(results["classify_per_s"] / results["feedparser_per_s"], 3)
    results["e2e_vs_feedparser"] = round(results["e2e_per_s"] / results["feedparser_per_s"], 3)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"ratios: classify/feedparser {results['classify_vs_feedparser']}, "
        f"e2e/feedparser {results['e2e_vs_feedparser']}; peak RSS {results['peak_rss_mb']} MB"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
