"""`monitor …` commands. Parses arguments, builds Settings once, calls `pipeline`, prints results.

Exit codes: 0 when the command did its work (even if some inputs were rejected and recorded),
1 when nothing at all could be done, 2 for configuration, database or usage errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from monitor.errors import InputError, MonitorError
from monitor.settings import Settings

log = logging.getLogger("monitor")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-26") from None


def _db(settings: Settings) -> tuple[Settings, Any]:
    """The settings with their database URL resolved (the embedded server when none is set: started
    here, at the edge, never by the library) and a connection to that database."""
    from monitor.dev.embedded import with_database_url
    from monitor.store.db import connect, migrate

    settings = with_database_url(settings)
    assert settings.database_url is not None
    conn = connect(settings.database_url)
    # Every command that uses the database brings it up to date first: one less step for a new user,
    # and migrations are cheap no-ops once applied.
    migrate(conn, settings.migrations_dir)
    return settings, conn


def _models(settings: Settings) -> Any:
    from monitor.analyze import Models

    return Models.load(settings)


def _jsonl_in(path: str) -> Iterator[tuple[int, str]]:
    stream: TextIO
    if path == "-":
        stream = sys.stdin
        yield from enumerate(stream, 1)
        return
    with open(path, encoding="utf-8", errors="replace") as stream:
        yield from enumerate(stream, 1)


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


# ------------------------------------------------------------------------------------------ commands


def classify_line(item: tuple[int, str], models: Any) -> tuple[str | None, str | None]:
    """One input line of `monitor classify` → (output line, None) or (None, problem), through the
    same analysis chain as the pipeline (`monitor.analyze`). Pure."""
    from monitor.analyze import analysis_json, analyze, parse_classify_input

    lineno, line = item
    try:
        doc = parse_classify_input(line, default_id=lineno)
    except ValueError as exc:
        return None, f"line {lineno}: {exc}"
    found = analyze(doc.title, doc.raw, doc.raw_format, models, declared_language=doc.language)
    return _dump(analysis_json(doc.id, found)), None


def _classify_in_worker(item: tuple[int, str]) -> tuple[str | None, str | None]:
    from monitor.pipeline.workers import worker_models

    return classify_line(item, worker_models())


# Lines read ahead and handed to the workers at once: enough to keep every core busy, few enough
# that memory stays flat on a file of any size.
_CLASSIFY_CHUNK = 2000


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """JSON lines {id, title?, text | html} → {id, language, topics, entities}. Offline: no database.

    Output keeps the input order. With more than one core and a long input, lines are classified in
    forked worker processes (MONITOR_PROCESS_WORKERS), which inherit the models.
    """
    from itertools import islice

    from monitor.pipeline.workers import fork_pool, freeze_models

    models = _models(settings)
    if args.file != "-" and Path(args.file).suffix.lower() in _ARTICLE_FILES:
        return _classify_article_file(Path(args.file), settings, models)
    freeze_models(models)
    ok = bad = 0
    lines = ((n, line) for n, line in _jsonl_in(args.file) if line.strip())
    pool = None
    try:
        while chunk := list(islice(lines, _CLASSIFY_CHUNK)):
            if pool is None and settings.process_workers > 1 and len(chunk) >= 200:
                pool = fork_pool(settings.process_workers, models)
            if pool is not None:
                results = pool.map(_classify_in_worker, chunk, chunksize=50)
            else:
                results = (classify_line(item, models) for item in chunk)
            for output, problem in results:
                if output is None:
                    print(f"{args.file} {problem}", file=sys.stderr)
                    bad += 1
                else:
                    sys.stdout.write(output + "\n")
                    ok += 1
    finally:
        if pool is not None:
            pool.shutdown()
    return 0 if ok or not bad else 1


# A file as the inbox takes it (title line and paragraphs, Markdown, a saved web page) is one article:
# `monitor classify report.txt` shows what the pipeline would make of a file dropped in the inbox.
_ARTICLE_FILES = (".txt", ".md", ".html", ".htm")


def _classify_article_file(path: Path, settings: Settings, models: Any) -> int:
    from monitor.analyze import analysis_json, analyze
    from monitor.ingest.files import parse_inbox_file

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    parsed = parse_inbox_file(path.name, data, settings.inbox_max_bytes)
    for problem in parsed.problems:
        print(problem, file=sys.stderr)
    for item in parsed.items:
        found = analyze(item.title, item.raw, item.raw_format, models)
        sys.stdout.write(_dump(analysis_json(path.name, found)) + "\n")
    return 0


def cmd_cluster(args: argparse.Namespace, settings: Settings) -> int:
    """JSON lines {id, title, text, published} → {id, story_id, duplicate_of}. Offline: no database."""
    from monitor.dedupe.stories import cluster

    docs: list[dict[str, Any]] = []
    bad = 0
    for lineno, line in _jsonl_in(args.file):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict) or "id" not in doc or not isinstance(doc.get("text"), str):
                raise ValueError("not an object with 'id' and a string 'text'")
        except ValueError as exc:
            print(f"{args.file} line {lineno}: {exc}", file=sys.stderr)
            bad += 1
            continue
        docs.append(doc)
    for result in cluster(docs):
        sys.stdout.write(_dump(result) + "\n")
    return 0 if docs or not bad else 1


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.extract.html import extract_page
    from monitor.extract.language import LanguageDetector

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from None
    page = extract_page(data, url=path.resolve().as_uri(), language=LanguageDetector(settings.cache_dir))
    print(
        _dump(
            {
                "title": page.title,
                "text": page.text,
                "published": page.published.isoformat() if page.published else None,
                "language": page.language,
            }
        )
    )
    return 0


def cmd_parse_feed(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.ingest.feeds import parse_feed
    from monitor.ingest.fetch import fetch

    target = args.source
    if "://" in target:
        result = fetch(target, etag=None, last_modified=None, limits=settings.fetch)
        data, ctype, base = result.body or b"", result.content_type, result.final_url
    else:
        try:
            data = Path(target).read_bytes()
        except OSError as exc:
            raise InputError(target, exc.strerror or str(exc)) from None
        ctype, base = None, None
    parsed = parse_feed(data, target, content_type=ctype, base_url=base)
    if parsed.problem:
        print(f"{target}: warning: {parsed.problem}", file=sys.stderr)
    for item in parsed.items:
        print(
            _dump(
                {
                    "title": item.title,
                    "url": item.url,
                    "guid": item.guid,
                    "published": item.published.isoformat() if item.published else None,
                    "author": item.author,
                    "raw_format": item.raw_format,
                    "raw": item.raw,
                }
            )
        )
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.dev.embedded import stop_embedded_server, with_database_url
    from monitor.store.db import applied_migrations, connect, migrate

    if args.db_command == "stop":
        stopped = stop_embedded_server(settings.pgdata)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    url = with_database_url(settings).database_url
    assert url is not None
    if args.db_command == "url":
        print(url)
        return 0
    conn = connect(url)
    try:
        applied = migrate(conn, settings.migrations_dir)
        print(f"applied: {', '.join(applied) if applied else 'nothing (up to date)'}")
        print(f"schema: {', '.join(applied_migrations(conn))}")
    finally:
        conn.close()
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.store import sources

    settings, conn = _db(settings)
    try:
        if args.sources_command == "add":
            url = args.url
            if "://" not in url and Path(url).exists():
                url = Path(url).resolve().as_uri()  # a local path is a file:// feed
            # The feeds page checks with the same function.
            url, name, interval = sources.validate_feed(
                url, args.name, args.interval, default_interval=settings.feed_interval_minutes
            )
            s = sources.add_feed(conn, url, name, interval, full_text=args.full_text)
            print(f"feed {s.id}: {s.name} <{s.url}> every {s.interval_minutes} min")
            return 0
        if args.sources_command == "remove":
            key = args.feed
            if not key.isdigit() and "://" not in key and Path(key).exists():
                key = Path(key).resolve().as_uri()  # as `add` stored a local path
            removed = sources.remove_feed(conn, key)
            if removed is None:
                raise InputError(args.feed, "no feed with that id or URL (see monitor sources list)")
            s, kept = removed
            print(f"removed feed {s.id}: {s.name} <{s.url}>; its {kept} articles stay")
            return 0
        rows = sources.list_sources(conn)
        if not rows:
            print("no sources yet: monitor sources add URL")
            return 0
        print(
            f"{'id':>4} {'kind':<5} {'name':<40} {'interval':<15} {'last fetch':<30} next fetch, state, url"
        )
        for s in rows:
            state = f"errors={s.error_count} last_error={s.last_error!r}" if s.error_count else "ok"
            last = s.last_fetched_at.isoformat(timespec="seconds") if s.last_fetched_at else "never"
            print(
                f"{s.id:>4} {s.kind:<5} {s.name[:40]:<40} every {s.interval_minutes:>4} min  last {last}  "
                f"next {s.next_fetch_at.isoformat(timespec='seconds')}  {state}  {s.url}"
            )
        return 0
    finally:
        conn.close()


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from monitor import pipeline

    settings, conn = _db(settings)
    try:
        both = not args.feeds and not args.inbox
        did = failed = 0
        if args.feeds or both:
            f = pipeline.ingest_due_feeds(settings, conn)
            print(f"feeds: {_feeds_summary(f)}")
            _print_problems(f.problems)
            did += f.ok + f.not_modified
            failed += f.failed
        if args.inbox or both:
            i = pipeline.ingest_inbox(settings, conn)
            print(f"inbox: {_inbox_summary(i)}")
            _print_problems(i.problems)
            did += i.files - i.rejected
            failed += i.rejected
        return 1 if failed and not did else 0
    finally:
        conn.close()


def _print_problems(problems: Iterable[str]) -> None:
    for p in problems:
        print(f"  problem: {p}", file=sys.stderr)


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    from monitor import pipeline

    settings, conn = _db(settings)
    try:
        r = pipeline.process_pending(
            settings, conn, _models(settings), limit=args.limit, show_progress=settings.progress
        )
        print(f"processed {r.processed}, duplicates {r.duplicates}, failed {r.failed} in {r.batches} batches")
        return 1 if r.failed and not (r.processed or r.duplicates) else 0
    finally:
        conn.close()


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor import pipeline

    settings, conn = _db(settings)
    try:
        r = pipeline.run_once(
            settings, conn, _models(settings), digest_day=args.digest_date, show_progress=settings.progress
        )
        _print_run(r)
        nothing = (
            r.feeds.ok + r.feeds.not_modified == 0
            and r.feeds.failed
            and r.inbox.files == r.inbox.rejected
            and not r.process.processed
        )
        return 1 if nothing else 0
    finally:
        conn.close()


def _feeds_summary(f: Any) -> str:
    return (
        f"{f.feeds} due, {f.ok} ok, {f.not_modified} not modified, {f.failed} failed; "
        f"{f.new} new articles, {f.duplicate} duplicates"
    )


def _inbox_summary(i: Any) -> str:
    return f"{i.files} files, {i.new} new articles, {i.duplicate} duplicates, {i.rejected} rejected"


def _print_run(r: Any) -> None:
    f, i, p, d = r.feeds, r.inbox, r.process, r.digest
    print(f"feeds:   {_feeds_summary(f)}")
    print(f"inbox:   {_inbox_summary(i)}")
    print(f"process: {p.processed} processed, {p.duplicates} duplicates, {p.failed} failed")
    print(f"digest:  {d.day.isoformat()}: {d.articles} articles — {d.subject}")
    print(f"         {d.html_path}")
    print(f"         {d.text_path}")
    _print_problems([*f.problems, *i.problems])


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from monitor import pipeline
    from monitor.digest import mail

    settings, conn = _db(settings)
    try:
        # As a manual run of the digest DAG: without a date, the latest complete day with articles
        # (yesterday is empty on a fresh install or after a pause; an imported archive is older),
        # else today's preview when only today has articles.
        day = args.date or pipeline.latest_complete_day(settings, conn)
        models = _models(settings)
        d = pipeline.build_daily_digest(settings, conn, models, day)
        chosen = (
            ""
            if args.date
            else " (no --date: the latest complete day with articles, else today's preview, else yesterday)"
        )
        print(f"digest {day.isoformat()}{chosen}: {d.articles} articles — {d.subject}")
        print(f"  {d.html_path}\n  {d.text_path}")
        if not args.send:
            return 0
        smtp_url = settings.smtp_url
        if not smtp_url:
            raise MonitorError("--send needs MONITOR_SMTP_URL (smtp://host:port)")
        r = pipeline.send_daily_digest(
            settings,
            conn,
            models,
            day,
            transport=lambda msg: mail.send(msg, smtp_url),
            recipients=settings.digest_recipients,
            force=args.force,
        )
        again = r.reason.startswith("already sent") and not args.force
        print(f"  {r.reason}" + ("; --force sends again" if again else ""))
        return 0
    finally:
        conn.close()


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from monitor import pipeline
    from monitor.digest.build import digest_window

    start, _ = digest_window(args.since, settings.timezone)
    until = args.until or datetime.now(ZoneInfo(settings.timezone)).date()
    _, end = digest_window(until, settings.timezone)
    settings, conn = _db(settings)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    n = 0
    try:
        for line in pipeline.export_lines(conn, start, end):
            out.write(_dump(line) + "\n")
            n += 1
    finally:
        if out is not sys.stdout:
            out.close()
        conn.close()
    print(f"exported {n} articles", file=sys.stderr)
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from monitor import pipeline
    from monitor.digest import mail
    from monitor.store import watchlists

    settings, conn = _db(settings)
    try:
        if args.watch_command == "add":
            w = watchlists.add(
                conn,
                args.name,
                query=args.query or "",
                entity_ids=args.entity or [],
                recipients=args.to or [],
                interval_minutes=args.interval,
                created_by=os.environ.get("USER", ""),
            )
            what = " / ".join(
                p for p in (f"words {w.query!r}" if w.query else "", ", ".join(w.entity_ids)) if p
            )
            to = ", ".join(w.recipients) or "the alert recipients (MONITOR_ALERT_RECIPIENTS)"
            print(
                f"watch-list {w.id}: {w.name} ({what}), "
                f"at most one mail every {w.interval_minutes} min to {to}"
            )
            return 0
        if args.watch_command == "remove":
            if not watchlists.remove(conn, args.watchlist):
                raise InputError(
                    args.watchlist, "no watch-list with that name or id (see monitor watch list)"
                )
            print(f"removed watch-list {args.watchlist}")
            return 0
        if args.watch_command == "check":
            smtp_url = settings.smtp_url
            transport = (lambda msg: mail.send(msg, smtp_url)) if smtp_url else None
            r = pipeline.check_watchlists(
                settings, conn, transport=transport, recipients=settings.alert_recipients
            )
            print(
                f"{r.watchlists} watch-lists: {r.new_hits} new hits, "
                f"{r.mails} mails ({r.mailed_hits} articles)"
            )
            for name, n in sorted(r.waiting.items()):
                print(f"  {name}: {n} hits wait for the next mail (interval, or no recipients)")
            if transport is None:
                print("  no MONITOR_SMTP_URL: hits recorded, nothing mailed")
            return 0
        rows = watchlists.list_all(conn)
        if not rows:
            print('no watch-lists yet: monitor watch add NAME --query "words" and/or --entity ID')
            return 0
        print(f"{'id':>4} {'name':<24} {'every':>9} {'unmailed':>8}  words / entities")
        for w in rows:
            waiting = len(watchlists.unmailed(conn, w.id))
            what = " / ".join(p for p in (w.query, ", ".join(w.entity_ids)) if p)
            print(f"{w.id:>4} {w.name[:24]:<24} {w.interval_minutes:>5} min {waiting:>8}  {what}")
        return 0
    finally:
        conn.close()


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """Analysts' corrections as training data: one JSON line per corrected article (issue 13)."""
    from monitor.store import corrections

    settings, conn = _db(settings)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    n = 0
    try:
        for example in corrections.training_examples(conn):
            out.write(_dump(example) + "\n")
            n += 1
    finally:
        if out is not sys.stdout:
            out.close()
        conn.close()
    print(f"exported {n} corrected articles", file=sys.stderr)
    return 0


def cmd_rejects(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.store import rejects

    settings, conn = _db(settings)
    try:
        recent = rejects.recent(conn, args.limit)
        if not recent:
            print("no rejects recorded")
        for created, origin, ref, severity, reason in recent:
            print(f"{created.isoformat(timespec='seconds')} {severity:<8} {origin:<7} {ref}: {reason}")
        return 0
    finally:
        conn.close()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Bundled sample inbox + sample feed → database → digest, then say where everything is."""
    from monitor import pipeline
    from monitor.store import articles, digests, sources

    samples = resources.files("monitor") / "samples"
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    copied = 0
    for entry in (samples / "inbox").iterdir():
        if entry.is_file():
            (settings.inbox_dir / entry.name).write_bytes(entry.read_bytes())
            copied += 1
    feed_path = settings.home / "samples" / "feed.xml"
    feed_path.parent.mkdir(parents=True, exist_ok=True)
    feed_path.write_bytes((samples / "feed.xml").read_bytes())
    settings, conn = _db(settings)
    try:
        sources.add_feed(
            conn, feed_path.resolve().as_uri(), "Sample Security Wire", settings.feed_interval_minutes
        )
        # Make the sample feed due now even when a previous demo polled it a minute ago.
        sources.make_due(conn, feed_path.resolve().as_uri())
        conn.commit()
        print(f"demo: {copied} sample files copied to {settings.inbox_dir}, sample feed {feed_path}")
        r = pipeline.run_once(settings, conn, _models(settings), show_progress=settings.progress)
        _print_run(r)
        counts = ", ".join(f"{n} {s}" for s, n in digests.status_counts(conn)._asdict().items() if n)
        topics = ", ".join(f"{t} {n}" for t, n in articles.topic_counts(conn).items())
        print(f"database: articles {counts}")
        print(f"topics:   {topics or 'none'}")
        print(f"open {r.digest.html_path.resolve()} in a browser, or read {r.digest.text_path}")
        return 0
    finally:
        conn.close()


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Quality report on the evaluation data (docs/quality.md) and the floors gate (issue 4)."""
    from monitor.evaluation.report import run_command

    return run_command(
        Path(args.data),
        _models(settings),
        write=Path(args.write) if args.write else None,
        floors_path=Path(args.floors) if args.floors else None,
        raise_floors=args.raise_floors,
        lang_dir=Path(args.lang_dev),
    )


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Trains the learned layer on the security dev set (deterministic) and writes the model file."""
    from monitor.analyze import Models
    from monitor.classify import learned
    from monitor.classify.rules import load_classifier
    from monitor.evaluation.security import DEV_FILE, train_model

    data = Path(args.data)
    if not (data / DEV_FILE).is_file():
        raise InputError(str(data), f"no {DEV_FILE} in this folder")
    base = _models(settings)
    # The rules alone are the model's input: a model never learns from its own earlier decisions.
    rules_only = Models(load_classifier(learned=False), base.extractor, base.languages)
    model = train_model(data, rules_only)
    default = Path(__file__).parent / "classify" / Path(*learned.MODEL_RESOURCE)
    out = Path(args.output) if args.output else default
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(learned.model_json(model), encoding="utf-8")
    print(
        f"wrote {out}: {len(model.relevance.words)} word and {len(model.relevance.rules)} rule weights, "
        f"data SHA-256 {model.meta['data_sha256'][:12]}…, file SHA-256 {model.file_hash[:12]}…"
    )
    return 0


# ------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="monitor", description="Security media monitor")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "classify",
        help=(
            "JSON lines {id,title?,text|html}, or one .txt/.md/.html article as the inbox takes it → "
            "topics and entities (offline, as the pipeline)"
        ),
    )
    s.add_argument("file", nargs="?", default="-")
    s.set_defaults(func=cmd_classify)

    s = sub.add_parser("cluster", help="JSON lines {id,title,text,published} → story ids and duplicates")
    s.add_argument("file", nargs="?", default="-")
    s.set_defaults(func=cmd_cluster)

    s = sub.add_parser("extract", help="main text of a saved web page as JSON")
    s.add_argument("file")
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("parse-feed", help="the items of a feed (file or URL) as JSON lines")
    s.add_argument("source")
    s.set_defaults(func=cmd_parse_feed)

    s = sub.add_parser("db", help="database: migrate, url, stop (embedded server)")
    s.add_argument("db_command", choices=["migrate", "url", "stop"])
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("sources", help="feeds: add, list, remove")
    ss = s.add_subparsers(dest="sources_command", required=True)
    a = ss.add_parser("add", help="add (or update) a feed")
    a.add_argument("url", help="http(s):// or file:// URL, or a local path")
    a.add_argument("--name")
    a.add_argument(
        "--interval", type=int, help="minutes between polls (default MONITOR_FEED_INTERVAL_MINUTES)"
    )
    a.add_argument(
        "--full-text", action="store_true", help="the feed has summaries only (kept for later use)"
    )
    ss.add_parser("list", help="all sources with their fetch state")
    r = ss.add_parser("remove", help="remove a feed (its articles stay)")
    r.add_argument("feed", metavar="ID|URL", help="the feed's id (monitor sources list) or URL")
    s.set_defaults(func=cmd_sources)

    s = sub.add_parser("ingest", help="fetch due feeds and/or read the inbox")
    s.add_argument("--feeds", action="store_true")
    s.add_argument("--inbox", action="store_true")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("process", help="clean, classify and tag pending articles")
    s.add_argument("--limit", type=int)
    s.set_defaults(func=cmd_process)

    s = sub.add_parser("run", help="the whole pipeline once: feeds, inbox, process, digest")
    s.add_argument("--digest-date", type=_date, help="default: today in MONITOR_TIMEZONE")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("digest", help="build the digest of a date (HTML + text); --send mails it once")
    s.add_argument(
        "--date",
        type=_date,
        help=(
            "default: the latest complete day with articles, else today (a preview) when only "
            "today has any, else yesterday; days in MONITOR_TIMEZONE"
        ),
    )
    s.add_argument("--send", action="store_true")
    s.add_argument("--force", action="store_true", help="with --send: send even if already sent")
    s.set_defaults(func=cmd_digest)

    s = sub.add_parser("export", help="processed articles as JSON lines")
    s.add_argument("--since", type=_date, required=True)
    s.add_argument("--until", type=_date, help="inclusive; default: today in MONITOR_TIMEZONE")
    s.add_argument("--output", "-o")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("watch", help="watch-lists: saved searches / entities that raise alerts")
    ws = s.add_subparsers(dest="watch_command", required=True)
    a = ws.add_parser("add", help="add (or redefine) a watch-list")
    a.add_argument("name")
    a.add_argument("--query", "-q", help="search words, as in the UI's search box")
    a.add_argument(
        "--entity", "-e", action="append", help="an entity id (KZ, org:osce, person:…); repeatable"
    )
    a.add_argument("--to", action="append", help="a recipient; repeatable (default MONITOR_ALERT_RECIPIENTS)")
    a.add_argument("--interval", type=int, default=60, help="at most one mail per this many minutes (60)")
    ws.add_parser("list", help="the watch-lists and their unmailed hits")
    r = ws.add_parser("remove", help="remove a watch-list and its hits")
    r.add_argument("watchlist", help="name or id")
    ws.add_parser(
        "check", help="record new hits now and mail those due (the process DAG does it after each run)"
    )
    s.set_defaults(func=cmd_watch)

    s = sub.add_parser("feedback", help="analysts' corrections: export them as training data (JSON lines)")
    s.add_argument("feedback_command", choices=["export"])
    s.add_argument("--output", "-o")
    s.set_defaults(func=cmd_feedback)

    s = sub.add_parser("rejects", help="recent rejected inputs and warnings")
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_rejects)

    s = sub.add_parser("demo", help="ingest the bundled samples and write a digest")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("eval", help="quality report on the evaluation data; exit 1 below a floor")
    s.add_argument("--data", default="../shared/data", help="evaluation data folder (default ../shared/data)")
    s.add_argument("--write", metavar="FILE", help="also write the report there (e.g. docs/quality.md)")
    s.add_argument("--floors", metavar="FILE", help="floors JSON (metric -> minimum), e.g. eval/floors.json")
    s.add_argument(
        "--raise-floors", action="store_true", help="with --floors: raise floors to the current figures"
    )
    s.add_argument(
        "--lang-dev",
        default=".monitor/lang-dev",
        help="language dev files built by scripts/build_lang_dev.py (default .monitor/lang-dev)",
    )
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser(
        "train", help="train the learned relevance layer on the dev set (needs the train extra)"
    )
    s.add_argument("--data", default="../shared/data", help="evaluation data folder (default ../shared/data)")
    s.add_argument("--output", metavar="FILE", help="model file (default: the packaged one)")
    s.set_defaults(func=cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `monitor export … | head` is normal use
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
