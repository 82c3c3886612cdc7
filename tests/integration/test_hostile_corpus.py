"""Bad input at scale, through the pipeline on a real PostgreSQL: nothing raises, every unusable input
leaves a `rejects` record with its reason, and what is usable goes on to be processed.

Two corpora: every file under ../shared/data/feeds (real feeds from two feed-parser test suites,
plus their JSON expectations, licences and deliberately broken files) as file:// feeds, and a
generated inbox of mutated, truncated, mis-encoded and binary files built from the project's own
fixtures with a fixed seed (the parser-level property tests in tests/unit/test_fuzz.py use
hypothesis; here each generated file costs a database round, so a seeded generator keeps the run
short and every failure reproducible).
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from dbrows import rows
from monitor import pipeline
from monitor.analyze import Models
from monitor.settings import Settings
from monitor.store import sources
from monitor.store.db import Connection

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHARED_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "feeds"


def _assert_everything_processed_or_rejected(db: Connection, settings: Settings, models: Models) -> int:
    """Process the backlog; every article ends processed/duplicate, or failed with a rejects record."""
    pipeline.process_pending(settings, db, models)
    statuses = dict(rows(db, "SELECT status, count(*) FROM articles GROUP BY status"))
    assert set(statuses) <= {"processed", "duplicate", "failed"}, statuses
    failed = [r[0] for r in rows(db, "SELECT id FROM articles WHERE status = 'failed'")]
    recorded = {r[0] for r in rows(db, "SELECT ref FROM rejects WHERE origin = 'process'")}
    assert {f"article {i}" for i in failed} <= recorded
    return sum(statuses.values())


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason=f"shared feed data not present at {SHARED_FEEDS}")
def test_every_shared_feed_file_through_ingest_and_processing(
    db: Connection, settings: Settings, models: Models
) -> None:
    files = sorted(p for p in SHARED_FEEDS.rglob("*") if p.is_file())
    assert len(files) > 50
    for path in files:
        sources.add_feed(db, path.as_uri(), path.name, 30)
    db.commit()

    report = pipeline.ingest_due_feeds(settings, db)

    assert report.feeds == len(files)
    assert report.ok + report.failed + report.not_modified == len(files)
    assert report.ok > 20 and report.failed > 5  # both kinds are really in there
    # Every feed is accounted for: its fetch is logged, and each unusable one has a rejects record
    # naming it with a reason; a feed that parsed with a problem has a warning record.
    outcomes = dict(
        rows(
            db,
            """SELECT s.url, f.outcome FROM sources s
                 JOIN fetch_log f ON f.source_id = s.id""",
        )
    )
    assert len(outcomes) == len(files)
    rejected = {
        ref: reason
        for ref, reason in rows(
            db, "SELECT ref, reason FROM rejects WHERE origin = 'feed' AND severity = 'rejected'"
        )
    }
    warned = {
        r[0] for r in rows(db, "SELECT ref FROM rejects WHERE origin = 'feed' AND severity = 'warning'")
    }
    for url, outcome in outcomes.items():
        if outcome == "error":
            assert url in rejected, url
            assert rejected[url].strip(), url
        elif outcome == "partial":
            assert url in warned, url
        else:
            assert outcome == "ok", (url, outcome)
    # The state of each failing feed says why, for `monitor sources list`.
    assert all(r[0] for r in rows(db, "SELECT last_error FROM sources WHERE error_count > 0"))

    total = _assert_everything_processed_or_rejected(db, settings, models)
    assert total == report.new > 100


# ---------------------------------------------------------------------------------- generated inbox


def _mutations(rng: random.Random, base: bytes) -> list[tuple[str, bytes]]:
    """Ways a file dropped into an inbox goes wrong, each applied to `base`."""
    text = base.decode("utf-8")
    flipped = bytearray(base)
    for _ in range(20):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    return [
        ("flipped", bytes(flipped)),
        ("truncated", base[: rng.randrange(1, len(base))]),
        ("cut_mid_char", "Заголовок\nТекст новости о терроризме.".encode()[:15]),
        ("cp1251", text.encode("utf-8").decode("utf-8").encode("cp1251", errors="replace")),
        ("latin1", ("Café bombing: " + text).encode("latin-1", errors="replace")),
        ("utf16", text.encode("utf-16")),
        ("nul_bytes", base.replace(b" ", b"\x00", 30)),
        ("only_whitespace", b" \n\t\r\n " * rng.randrange(1, 50)),
        ("random_binary", rng.randbytes(rng.randrange(1, 4000))),
        ("gzip", gzip.compress(base)),
        ("one_long_line", (b"word " * 200_000)[:1_000_000]),
        ("title_only", b"A headline and nothing else"),
        ("bom", b"\xef\xbb\xbf" + base),
    ]


def _html_mutations(rng: random.Random) -> list[tuple[str, bytes]]:
    page = b"<html><head><title>Attack</title></head><body><article><p>" + b"Militants attacked. " * 40
    return [
        ("unclosed", page),
        ("scripts_only", b"<html><script>alert(1)</script><style>p{}</style></html>"),
        ("nested", b"<div>" * 5000 + b"text" + b"</div>" * 10),
        ("bad_entities", b"<p>&#xFFFFFFF; &#0; &bogus; &#55296; news</p>" * 20),
        ("binary_as_html", rng.randbytes(3000)),
        ("empty_html", b""),
    ]


def _jsonl_mutations(rng: random.Random) -> list[tuple[str, bytes]]:
    good = json.dumps({"title": "Border guards seize weapons", "text": "Guards seized rifles at the border."})
    return [
        (
            "mixed",
            "\n".join(
                [good, "{not json", "[1,2]", '"a string"', "null", good.replace("seize", "find")]
            ).encode(),
        ),
        ("wrong_types", json.dumps({"title": 5, "text": ["a"]}).encode()),
        ("no_text", json.dumps({"title": "Only a title"}).encode()),
        ("all_bad", b"{\n}\n{{{{\n"),
        ("binary", rng.randbytes(2000)),
    ]


def test_generated_hostile_inbox_is_ingested_or_rejected_file_by_file(
    db: Connection,
    settings: Settings,
    models: Models,
) -> None:
    rng = random.Random(20261127)
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True)
    base = (FIXTURES / "golden" / "bishkek_workshop.txt").read_bytes()
    generated: list[str] = []
    for suffix, corpus in (
        (".txt", _mutations(rng, base)),
        (".md", _mutations(rng, base)),
        (".html", _html_mutations(rng) + _mutations(rng, base)[:6]),
        (".jsonl", _jsonl_mutations(rng)),
    ):
        for name, data in corpus:
            filename = f"{name}{suffix}"
            (inbox / filename).write_bytes(data)
            generated.append(filename)
    (inbox / "unknown.pdf").write_bytes(b"%PDF-1.4 not for us")
    generated.append("unknown.pdf")

    report = pipeline.ingest_inbox(settings, db)

    # Every file is accounted for: moved to processed/ or to rejected/ with its reason beside it.
    processed = {p.name for p in (inbox / "processed").iterdir()} if (inbox / "processed").exists() else set()
    rejected_dir = inbox / "rejected"
    rejected = {p.name for p in rejected_dir.iterdir() if not p.name.endswith(".reason.txt")}
    assert processed | rejected == set(generated), set(generated) ^ (processed | rejected)
    assert not processed & rejected
    assert not [p for p in inbox.iterdir() if p.is_file()]  # nothing left behind in the inbox
    assert report.files == len(generated)
    assert report.rejected == len(rejected) > 10
    assert len(processed) > 10
    recorded = dict(
        rows(db, "SELECT ref, reason FROM rejects WHERE origin = 'inbox' AND severity = 'rejected'")
    )
    for name in rejected:
        reason = (rejected_dir / f"{name}.reason.txt").read_text(encoding="utf-8").strip()
        assert reason, name
        assert recorded.get(name), name  # the same reason is in the database
    # Bad lines of a usable .jsonl file are warnings naming the file and the line.
    warnings = [
        r[0] for r in rows(db, "SELECT ref FROM rejects WHERE origin = 'inbox' AND severity = 'warning'")
    ]
    assert any(w.startswith("mixed.jsonl") for w in warnings), warnings

    total = _assert_everything_processed_or_rejected(db, settings, models)
    assert total == report.new > 10
