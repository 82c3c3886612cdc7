"""`make bench`: throughput figures measured in one run, printed and written to out/bench.json.

Reads ../shared/data/corpus/news_articles_2017.jsonl when present (real news, 3,824 articles) and
resamples it to `--articles` (default 20,000; `make bench-load` uses 100,000) with a small edit per
copy so each copy is a distinct article; says so and falls back to the bundled samples otherwise.
Every figure is taken in the same run so they compare as ratios on a noisy machine:

- feedparser_per_s: feedparser alone on RSS documents of the same items (the floor of any feed pipeline);
- classify_per_s: `monitor classify` on a JSON-lines file (language, topics, entities), all cores, wall
  time including loading the models; classify_per_core_s: the same work in one process, CPU time;
- e2e_per_s: RSS bytes -> parse -> insert into PostgreSQL -> process (clean, classify, entities) -> commit,
  in feed documents of 1,000 items (written to files before the clock starts), ingest and processing
  side by side as the feed and processing DAGs run, processing on all cores;
- copy_rows_per_s: a plain COPY of the same rows into a bare table (what the database alone can take);
- digest_300k_s: building the daily digest over a day of 300,000 processed articles;
- story_runs: the processing DAG's second step (`assign_stories`) on the end-to-end database, in a
  process of its own: first over the whole backlog, then in a run as the next feed poll makes one
  (STORY_RUN_NEW new articles processed, then assigned with the backlog inside the story windows);
- dedupe_cluster_100k_s: near-duplicate detection + story clustering of 100,000 articles over 30 days
  (scripts/bench_dedupe.py, in its own process: signatures on all cores, the ordered index work in one);
- peak_rss_mb: the largest resident size of this process (and of the processing workers); the
  end-to-end input is generated lazily, and e2e_detail.rss_mb_each_tenth shows memory along the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from email.utils import format_datetime
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
import psycopg2

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "news_articles_2017.jsonl"
CHUNK = 1000  # items per feed document: a large real feed
DIGEST_ARTICLES = 300_000
STORY_RUN_NEW = 1000  # one feed document of new articles: what one processing run takes
COUNTRIES = ["UA", "SY", "AF", "ML", "CO", "MX", "KZ"]


def load_corpus() -> tuple[list[dict], str]:
    if CORPUS.exists():
        return [json.loads(line) for line in CORPUS.open(encoding="utf-8") if line.strip()], str(CORPUS)
    print(f"note: {CORPUS} is missing; measuring on the bundled samples instead", file=sys.stderr)
    from monitor.ingest.files import parse_inbox_file, parse_seed_text

    docs = []
    for entry in (resources.files("monitor") / "samples" / "inbox").iterdir():
        if entry.name.endswith(".txt"):
            item = parse_inbox_file(entry.name, entry.read_bytes(), 10_000_000).items[0]
            docs.append(
                {"id": entry.name, "title": item.title, "text": parse_seed_text(entry.name, item.raw).raw}
            )
    return docs, "bundled samples"


def resample(docs: list[dict], n: int) -> Iterator[dict]:
    """`n` distinct articles, made one at a time (memory stays flat whatever `n`): copies of the
    corpus, each with its own id, headline tag and sentence."""
    rng = random.Random(7)
    for i in range(n):
        d = docs[i % len(docs)]
        if i < len(docs):
            yield {"id": f"a{i}", "title": d.get("title") or "", "text": d.get("text") or ""}
            continue
        text = d.get("text") or ""
        cut = rng.randrange(len(text) // 2, len(text) + 1) if text else 0
        yield {
            "id": f"a{i}",
            "title": f"{d.get('title') or ''} ({i})",
            "text": f"{text[:cut]} Update {i}: officials gave further details.",
        }


def rss_now_mb() -> float:
    """Resident memory of this process now (ru_maxrss only gives the peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss(docs: list[dict]) -> bytes:
    now = format_datetime(datetime(2026, 11, 1, tzinfo=UTC))
    items = "".join(
        f"<item><title>{escape(d['title'])}</title><link>https://bench.example/{d['id']}</link>"
        f"<guid>bench-{d['id']}</guid><pubDate>{now}</pubDate><description>{escape(d['text'])}</description></item>"
        for d in docs
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench</title>'
        f"<link>https://bench.example/</link><description>bench</description>{items}</channel></rss>"
    ).encode()


def chunks(docs: Iterable[dict]) -> Iterator[list[dict]]:
    it = iter(docs)
    while part := list(islice(it, CHUNK)):
        yield part


def bench_feedparser(docs: list[dict]) -> float:
    sample = docs[: min(len(docs), 5 * CHUNK)]
    elapsed = 0.0
    for part in chunks(sample):
        doc = rss(part)
        start = time.perf_counter()
        parsed = feedparser.parse(doc)
        elapsed += time.perf_counter() - start
        assert len(parsed.entries) == len(part)
    return len(sample) / elapsed


def bench_classify_cli(docs: list[dict]) -> float:
    """`monitor classify` as a user runs it on a JSON-lines file: every core, wall time."""
    import subprocess
    import tempfile

    sample = docs[: min(len(docs), 6000)]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for d in sample:
            f.write(json.dumps({"id": d["id"], "title": d["title"], "text": d["text"]}) + "\n")
    exe = Path(sys.executable).with_name("monitor")
    start = time.perf_counter()
    result = subprocess.run([str(exe), "classify", f.name], capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    os.unlink(f.name)
    assert result.stdout.count(b"\n") == len(sample)
    return len(sample) / elapsed


def _models() -> Any:
    """The models as every CLI call and Airflow task loads them: from the cache directory."""
    from monitor.analyze import Models
    from monitor.settings import Settings

    return Models.load(Settings.from_env())


def bench_classify(docs: list[dict]) -> float:
    """The analysis chain (clean, language, classify, entities) in this process, per article."""
    from monitor.analyze import analyze

    models = _models()
    sample = docs[: min(len(docs), 3000)]
    start = time.process_time()  # CPU time of this process: other load on the machine does not count
    for d in sample:
        analyze(d["title"], d["text"], "text", models)
    return len(sample) / (time.process_time() - start)


class BenchDatabase:
    """A database of its own on the test server (embedded unless MONITOR_TEST_DATABASE_URL is set)."""

    def __enter__(self) -> str:
        from monitor.dev.embedded import embedded_server_uri
        from monitor.store.db import migrate, with_database

        self.server = os.environ.get("MONITOR_TEST_DATABASE_URL") or embedded_server_uri(
            REPO / ".monitor" / "test-pgdata"
        )
        self.name = f"monitor_bench_{secrets.token_hex(3)}"
        self.admin = psycopg2.connect(self.server)
        self.admin.autocommit = True
        with self.admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{self.name}"')
        self.url = with_database(self.server, self.name)
        conn = psycopg2.connect(self.url)
        migrate(conn, REPO / "sql")
        conn.close()
        return self.url

    def __exit__(self, *exc: object) -> None:
        with self.admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()


def write_feeds(docs: Iterable[dict], folder: Path) -> list[Path]:
    """The input of the end-to-end run, made before its clock starts: one RSS document of CHUNK items
    per file, as a feed poller would receive them (written one at a time: memory stays flat)."""
    paths = []
    for n, part in enumerate(chunks(docs)):
        path = folder / f"feed-{n:05d}.xml"
        path.write_bytes(rss(part))
        paths.append(path)
    return paths


def _postgres_cpu_s() -> float | None:
    """CPU seconds used so far by the embedded server: the postmaster, its exited children (backends,
    autovacuum) and its live ones. None when the tests' server is not the embedded one."""
    pidfile = REPO / ".monitor" / "test-pgdata" / "postmaster.pid"
    if os.environ.get("MONITOR_TEST_DATABASE_URL") or not pidfile.exists():
        return None

    def times(pid: int) -> tuple[list[int], int]:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return [int(x) for x in fields[11:15]], int(fields[1])  # utime stime cutime cstime, ppid

    postmaster = int(pidfile.read_text().split()[0])
    total = sum(times(postmaster)[0])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                (utime, stime, _, _), parent = times(int(entry))
            except (OSError, ValueError, IndexError):
                continue  # exited meanwhile
            if parent == postmaster:
                total += utime + stime
    return total / os.sysconf("SC_CLK_TCK")


_CPU_PARTS = ("ingest", "workers", "postgres")


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def bench_e2e(docs: Iterable[dict], total: int, later: list[dict]) -> tuple[float, float, dict]:
    """(e2e articles/s, COPY rows/s of the same rows, details).

    Ingest and processing run side by side, as the feed DAG and the asset-triggered processing DAG
    do: this thread parses each feed document and stores its items, while processing workers (kept
    for the whole run, as in a long processing task) claim and process whatever is stored.
    """
    import threading

    from monitor import pipeline
    from monitor.ingest.feeds import parse_feed
    from monitor.settings import Settings
    from monitor.store import articles, sources

    # The models come from the cache directory, as in every CLI call and Airflow task (the classify
    # benchmark before this one has filled it); without it the first batch would build the gazetteer.
    models = _models()
    with BenchDatabase() as url, tempfile.TemporaryDirectory() as tmp:
        feeds = write_feeds(docs, Path(tmp))
        conn = psycopg2.connect(url)
        settings = replace(Settings(), database_url=url, progress=False, batch_size=500)
        feed = sources.add_feed(conn, "https://bench.example/feed.xml", "Bench", 30)
        conn.commit()
        new = ingest_s = 0.0
        rss_curve: list[float] = []
        ingest_done = threading.Event()
        processed: list[pipeline.ProcessReport] = []
        failure: list[BaseException] = []
        workers = pipeline.ProcessingWorkers(settings, models)  # forked before the ingest thread starts

        def process() -> None:
            pconn = psycopg2.connect(url)
            try:
                while True:
                    last_call = ingest_done.is_set()
                    report = pipeline.process_pending(settings, pconn, models, workers=workers)
                    processed.append(report)
                    if report.processed + report.duplicates + report.failed == 0:
                        if last_call:
                            return
                        time.sleep(0.02)
            except BaseException as exc:
                failure.append(exc)
            finally:
                pconn.close()

        processor = threading.Thread(target=process)
        cpu_before = (_cpu_s(resource.RUSAGE_SELF), _cpu_s(resource.RUSAGE_CHILDREN), _postgres_cpu_s())
        start = time.perf_counter()
        processor.start()
        try:
            seen = 0
            for path in feeds:
                t = time.perf_counter()
                parsed = parse_feed(path.read_bytes(), "bench", content_type="application/rss+xml")
                counts = articles.insert_items(
                    conn, source_id=feed.id, origin="feed", items=[(i, i.url or "") for i in parsed.items]
                )
                conn.commit()
                ingest_s += time.perf_counter() - t
                new += counts.new
                before, seen = seen, seen + len(parsed.items)
                if seen * 10 // total > before * 10 // total:  # every tenth of the run
                    rss_curve.append(round(rss_now_mb(), 1))
        finally:
            ingest_done.set()
            processor.join()
            workers.close()
        elapsed = time.perf_counter() - start
        # The processing workers' peak, before the story runs' own process counts as a child too.
        workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        # Where the CPU went, per article: this process (parsing, storing), the processing workers
        # (counted once they have exited), and PostgreSQL.
        cpu_after = (_cpu_s(resource.RUSAGE_SELF), _cpu_s(resource.RUSAGE_CHILDREN), _postgres_cpu_s())
        cpu_ms = {
            name: round((after - before) * 1000 / total, 2)
            for name, before, after in zip(_CPU_PARTS, cpu_before, cpu_after, strict=True)
            if before is not None and after is not None
        }
        if failure:
            raise failure[0]
        with conn.cursor() as cur, tempfile.TemporaryFile() as rows:
            cur.execute("SELECT count(*) FROM articles WHERE status = 'new'")
            left = cur.fetchone()[0]
            # The same rows, streamed through a file: the baseline must not hold 100k texts in memory.
            cur.copy_expert("COPY (SELECT title, raw, raw_hash FROM articles) TO STDOUT", rows)
            n_rows = cur.rowcount
            cur.execute("CREATE TABLE copy_baseline (title text, raw text, raw_hash text)")
            conn.commit()
            rows.seek(0)
            t = time.perf_counter()
            cur.copy_expert("COPY copy_baseline FROM STDIN", rows)
            conn.commit()
            copy_per_s = n_rows / (time.perf_counter() - t)
        conn.close()
        later_feed = Path(tmp) / "later.xml"
        later_feed.write_bytes(rss(later))
        story_runs = bench_story_runs(url, later_feed)
    assert left == 0, f"{left} articles left unprocessed"
    detail = {
        "articles": total,
        "new": int(new),
        "processed": sum(r.processed for r in processed),
        "duplicates": sum(r.duplicates for r in processed),
        "failed": sum(r.failed for r in processed),
        "ingest_per_s": round(new / ingest_s, 1),
        "seconds": round(elapsed, 1),
        "cpu_ms_per_article": cpu_ms,
        "cores_busy": round(sum(cpu_ms.values()) * total / 1000 / elapsed, 2),
        "rss_mb_each_tenth": rss_curve,
        "workers_peak_rss_mb": round(workers_mb, 1),
        "story_runs": story_runs,
    }
    return total / elapsed, copy_per_s, detail


def bench_story_runs(url: str, later_feed: Path) -> dict:
    """`assign_stories` on the end-to-end database, in a process of its own (its memory is its own
    figure): over the whole backlog, then in the next run, after `later_feed` was stored and processed."""
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, "--story-runs", url, str(later_feed)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _story_runs(url: str, later_feed: Path) -> dict:
    from monitor import pipeline
    from monitor.ingest.feeds import parse_feed
    from monitor.settings import Settings
    from monitor.store import articles

    settings = replace(Settings(), database_url=url, progress=False, batch_size=500)
    models = _models()
    conn = psycopg2.connect(url)
    start = time.perf_counter()
    backlog = pipeline.assign_stories(settings, conn)
    backlog_s = time.perf_counter() - start
    backlog_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM sources ORDER BY id LIMIT 1")
        source_id = cur.fetchone()[0]
    parsed = parse_feed(later_feed.read_bytes(), "bench-later", content_type="application/rss+xml")
    items = [(i, i.url or "") for i in parsed.items]
    articles.insert_items(conn, source_id=source_id, origin="feed", items=items)
    conn.commit()
    start = time.perf_counter()
    processed = pipeline.process_pending(settings, conn, models)
    process_s = time.perf_counter() - start
    start = time.perf_counter()
    run = pipeline.assign_stories(settings, conn)
    run_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.close()
    return {
        "backlog_articles": backlog.assigned,
        "backlog_s": round(backlog_s, 1),
        "backlog_per_s": round(backlog.assigned / backlog_s, 1) if backlog_s else None,
        "backlog_peak_rss_mb": round(backlog_mb, 1),
        "run_new_articles": processed.processed + processed.duplicates,
        "run_process_s": round(process_s, 2),
        "run_stories_assigned": run.assigned,
        "run_stories_s": round(run_s, 2),
        "peak_rss_mb": round(peak_mb, 1),
    }


def bench_digest_300k() -> tuple[float, dict]:
    """A day of 300k processed articles made in SQL (topics, countries, text), then the digest."""
    from monitor import pipeline
    from monitor.settings import Settings

    models = _models()
    day = date(2026, 11, 20)
    with BenchDatabase() as url:
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            # Realistic shape: ~40 % of articles tagged (1–2 topics), ~70 % with a country.
            cur.execute(
                """INSERT INTO articles (origin, origin_ref, title, raw, raw_format, raw_hash, status,
                                         clean_text, language, content_hash, first_seen_at, processed_at)
                   SELECT 'feed', 'bench', 'Article ' || g, 'raw ' || g, 'text', md5('r' || g), 'processed',
                          repeat('Security forces reported an incident in the region. ', 20) || g, 'en',
                          md5('c' || g),
                          timestamptz '2026-11-20 00:00:00+00' + (g %% 86400) * interval '1 second', now()
                     FROM generate_series(1, %s) g""",
                (DIGEST_ARTICLES,),
            )
            topics = ["terrorism", "armed_conflict", "organised_crime", "cyber", "border_security"]
            cur.execute(
                """INSERT INTO article_topics (article_id, topic_id, label, score, evidence, taxonomy_version)
                   SELECT id, (%s::text[])[1 + id %% 5], initcap((%s::text[])[1 + id %% 5]),
                          1 + (id %% 97) / 10.0, '[{"term": "attack", "count": 2, "weight": 2.0}]', 'bench'
                     FROM articles WHERE id %% 5 < 2""",
                (topics, topics),
            )
            cur.execute(
                """INSERT INTO entities (id, type, name)
                   SELECT c, 'country', 'Country ' || c FROM unnest(%s::text[]) c""",
                (COUNTRIES,),
            )
            cur.execute(
                """INSERT INTO article_entities (article_id, entity_id, count, mentions)
                   SELECT id, (%s::text[])[1 + id %% 7], 1, '[]'
                     FROM articles WHERE id %% 10 < 7""",
                (COUNTRIES,),
            )
        conn.commit()
        # What autovacuum does shortly after a load: statistics, and the visibility map that lets the
        # digest read article ids from its index alone.
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.autocommit = False
        settings = replace(Settings(), timezone="UTC", out_dir=REPO / "out" / "bench-digest", progress=False)
        start = time.perf_counter()
        result = pipeline.build_daily_digest(settings, conn, models, day)
        first = time.perf_counter() - start
        start = time.perf_counter()  # again: the previous days' counts are now stored
        pipeline.build_daily_digest(settings, conn, models, day)
        again = time.perf_counter() - start
        conn.close()
    assert result.articles == DIGEST_ARTICLES, result.articles
    return first, {"articles": result.articles, "rebuild_s": round(again, 2), "subject": result.subject}


def bench_dedupe_100k() -> dict | None:
    """Near-duplicates + stories over 100k articles (scripts/bench_dedupe.py), in a process of its own
    so that its generated input does not count in this process's memory figures."""
    import subprocess

    if not CORPUS.exists():
        return None
    script = Path(__file__).with_name("bench_dedupe.py")
    done = subprocess.run(
        [sys.executable, str(script), "--n", "100000", "--json"], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=20_000, help="articles for the end-to-end run")
    parser.add_argument("--output", default=str(REPO / "out" / "bench.json"))
    parser.add_argument("--story-runs", nargs=2, metavar=("URL", "FEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.story_runs:  # the child of bench_story_runs
        print(json.dumps(_story_runs(args.story_runs[0], Path(args.story_runs[1]))))
        return 0
    corpus, source = load_corpus()
    # The per-stage figures use the first 6,000 articles; the end-to-end run streams all of them.
    docs = list(resample(corpus, min(args.articles, 6000)))
    print(f"corpus: {source} ({len(corpus)} articles) resampled to {args.articles}")
    results: dict = {"corpus": source, "articles": args.articles, "cpu_count": os.cpu_count()}
    results["feedparser_per_s"] = round(bench_feedparser(docs), 1)
    print(f"feedparser only:                 {results['feedparser_per_s']:>9.1f} articles/s")
    results["classify_per_core_s"] = round(bench_classify(docs), 1)
    print(f"classify, one core (CPU time):   {results['classify_per_core_s']:>9.1f} articles/s")
    results["classify_per_s"] = round(bench_classify_cli(docs), 1)
    print(f"monitor classify, all cores:     {results['classify_per_s']:>9.1f} articles/s (wall time)")
    del docs
    # The articles of the run after the end-to-end one: the next ones of the same resampled stream.
    later = list(islice(resample(corpus, args.articles + STORY_RUN_NEW), args.articles, None))
    e2e, copy_per_s, detail = bench_e2e(resample(corpus, args.articles), args.articles, later)
    results["e2e_per_s"] = round(e2e, 1)
    results["copy_rows_per_s"] = round(copy_per_s, 1)
    results["e2e_detail"] = detail
    print(f"ingest+process e2e:              {results['e2e_per_s']:>9.1f} articles/s  {detail}")
    print(f"plain COPY of the same rows:     {results['copy_rows_per_s']:>9.1f} rows/s")
    runs = detail["story_runs"]
    print(
        f"stories over the backlog:        {runs['backlog_per_s']:>9.1f} articles/s "
        f"({runs['backlog_articles']} in {runs['backlog_s']} s, peak RSS {runs['backlog_peak_rss_mb']} MB)"
    )
    print(
        f"next run, {runs['run_new_articles']} new articles: process {runs['run_process_s']} s, "
        f"stories {runs['run_stories_s']} s (peak RSS {runs['peak_rss_mb']} MB)"
    )
    seconds, digest = bench_digest_300k()
    results["digest_300k_detail"] = digest
    results["digest_300k_s"] = round(seconds, 2)
    print(f"digest over {DIGEST_ARTICLES:,} articles:     {seconds:>9.2f} s")
    dedupe = bench_dedupe_100k()
    if dedupe is not None:
        results["dedupe_cluster_100k_s"] = dedupe["dedupe_cluster_100k_s"]
        results["dedupe_cluster_detail"] = dedupe
        print(
            f"dedupe + stories, 100,000 articles: {dedupe['dedupe_cluster_100k_s']:>8.1f} s "
            f"({dedupe['docs_per_s']} docs/s; near index max {dedupe['near_index_max']} docs, "
            f"live stories max {dedupe['live_stories_max']}, peak RSS {dedupe['peak_rss_mb']} MB)"
        )
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["peak_rss_mb"] = round(self_mb, 1)
    results["peak_rss_workers_mb"] = detail["workers_peak_rss_mb"]
    results["e2e_vs_feedparser"] = round(results["e2e_per_s"] / results["feedparser_per_s"], 3)
    results["e2e_vs_copy"] = round(results["e2e_per_s"] / results["copy_rows_per_s"], 4)
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"ratios: e2e/feedparser {results['e2e_vs_feedparser']}, e2e/COPY {results['e2e_vs_copy']}; "
        f"peak RSS {results['peak_rss_mb']} MB (workers {results['peak_rss_workers_mb']} MB)"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
