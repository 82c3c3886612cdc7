"""A fingerprint of everything the monitor stores and mails, for refactorings that must change nothing.

Runs the whole pipeline at fixed clock times on a fresh database: the 2017 news corpus of
../shared/data (when present) split over three days, the project's inbox fixtures and samples, and
the sample feed (HTML descriptions). Then hashes what users see: `export_lines` of every processed
article (topics, evidence, entities, stories, text) and the rendered digests (HTML and text) of each
day. Prints one JSON object: counts and a sha256 per part. Run it before and after a change and
compare the hashes.

    python scripts/snapshot.py [--database-url postgresql://...] [--corpus-limit N]

Without --database-url a throw-away database is created on the embedded test server and dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import secrets
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "news_articles_2017.jsonl"
DAYS = [date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 14)]


def _call(func: Any, *args: Any, models: Any = None, **kwargs: Any) -> Any:
    """Call a use case whether or not it takes the models object (before and after the renovation)."""
    names = list(inspect.signature(func).parameters)
    if models is not None and "models" in names:
        at = names.index("models")
        args = (*args[:at], models, *args[at:])
    return func(*args, **kwargs)


def _server_uri(given: str | None) -> str:
    if given:
        return given
    from monitor.dev.embedded import embedded_server_uri

    return embedded_server_uri(REPO / ".monitor" / "test-pgdata")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", help="a server URI; a throw-away database is made on it")
    p.add_argument("--corpus-limit", type=int, default=None)
    p.add_argument("--dump", type=Path, help="also write the export lines and digests here")
    args = p.parse_args(argv)

    import psycopg2

    from monitor import pipeline
    from monitor.settings import Settings
    from monitor.store.db import connect, migrate, with_database

    server = _server_uri(args.database_url)
    name = f"snapshot_{secrets.token_hex(4)}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    work = Path(tempfile.mkdtemp(prefix="snapshot-"))
    url = with_database(server, name)
    settings = replace(
        Settings.from_env({}),
        database_url=url,
        home=work,
        inbox_dir=work / "inbox",
        out_dir=work / "out",
        progress=False,
        # One process: with parallel workers the first writer of an entity row names it ("U.S.
        # military" or "US military"), which varies from run to run.
        process_workers=1,
        cache_dir=REPO / ".monitor" / "cache",
    )
    models = None
    try:
        from monitor.analyze import Models  # after the renovation

        models = Models.load(settings)
    except ImportError:
        pass
    try:
        conn = connect(url)
        migrate(conn, settings.migrations_dir)
        docs: list[dict[str, Any]] = []
        if CORPUS.exists():
            with CORPUS.open(encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    docs.append(
                        {"title": d.get("title") or "", "text": d.get("text") or "", "url": d.get("url")}
                    )
            if args.corpus_limit:
                docs = docs[: args.corpus_limit]
        chunk = -(-len(docs) // len(DAYS)) if docs else 0
        samples = REPO / "src" / "monitor" / "samples"
        fixtures = REPO / "tests" / "fixtures" / "inbox"
        for i, day in enumerate(DAYS):
            now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
            settings.inbox_dir.mkdir(parents=True, exist_ok=True)
            if i == 0:
                for folder in (samples / "inbox", fixtures):
                    for f in sorted(folder.iterdir()):
                        if f.suffix in {".txt", ".jsonl", ".html"}:
                            (settings.inbox_dir / f"{folder.name}_{f.name}").write_bytes(f.read_bytes())
                from monitor.store import sources

                sources.add_feed(conn, (samples / "feed.xml").resolve().as_uri(), "Sample Security Wire", 30)
                conn.commit()
                _call(pipeline.ingest_due_feeds, settings, conn, now=now)
                with conn.cursor() as cur:  # feed items are stamped by the database clock
                    cur.execute("UPDATE articles SET first_seen_at = %s WHERE origin = 'feed'", (now,))
                    cur.execute("UPDATE article_sightings SET seen_at = %s", (now,))
                conn.commit()
            part = docs[i * chunk : (i + 1) * chunk]
            if part:
                path = settings.inbox_dir / f"corpus_{i}.jsonl"
                path.write_text("".join(json.dumps(d) + "\n" for d in part), encoding="utf-8")
            _call(pipeline.ingest_inbox, settings, conn, now=now)
            # Inbox files go through mtime order; every day's files are in before the next day's.
            for leftover in settings.inbox_dir.glob("*.*"):
                if leftover.is_file():
                    leftover.unlink()
        report = _call(pipeline.process_pending, settings, conn, models=models)
        _call(pipeline.assign_stories, settings, conn, models=models)
        parts: dict[str, Any] = {"processed": report.processed, "duplicates": report.duplicates}
        dump: dict[str, str] = {}
        lines = []
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for line in pipeline.export_lines(conn, start, start + timedelta(days=60)):
            lines.append(json.dumps(line, ensure_ascii=False, sort_keys=True, default=str))
        dump["export.jsonl"] = "\n".join(lines)
        parts["exported"] = len(lines)
        parts["export_sha256"] = hashlib.sha256(dump["export.jsonl"].encode()).hexdigest()
        for day in DAYS:
            result = _call(pipeline.build_daily_digest, settings, conn, day, models=models)
            dump[f"digest-{day}.html"] = result.html
            dump[f"digest-{day}.txt"] = result.text
            parts[f"digest_{day}_sha256"] = hashlib.sha256(
                (result.html + "\0" + result.text).encode()
            ).hexdigest()
        with conn.cursor() as cur:
            cur.execute("SELECT count(DISTINCT story_id), count(near_duplicate_of) FROM articles")
            parts["stories"], parts["near_copies"] = cur.fetchone()
        conn.close()
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            for fname, content in dump.items():
                (args.dump / fname).write_text(content, encoding="utf-8")
        print(json.dumps(parts, indent=1))
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
