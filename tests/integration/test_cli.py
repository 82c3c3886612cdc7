"""The `monitor` command line as a user runs it: environment in, files and rows out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from httpserver import Route, serve
from monitor import cli
from monitor.store.db import Connection

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = FIXTURES / "golden"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("MONITOR_DATABASE_URL", database_url)
    monkeypatch.setenv("MONITOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MONITOR_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("MONITOR_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MONITOR_TIMEZONE", "Europe/Vienna")
    monkeypatch.setenv("MONITOR_PROGRESS", "false")
    monkeypatch.setenv("MONITOR_FETCH_READ_TIMEOUT", "1")
    monkeypatch.setenv("MONITOR_FETCH_ALLOW_NETWORKS", "127.0.0.0/8")  # the local test servers
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local Wire</title><link>https://local.example/</link>
<description>test</description>
<item><title>Insurgents shell besieged city</title><link>https://local.example/shelling</link>
<guid>https://local.example/shelling</guid><pubDate>Mon, 02 Nov 2026 06:00:00 GMT</pubDate>
<description>&lt;p&gt;Rebel forces shelled the city overnight as fighting between the army and
insurgents intensified; the ceasefire collapsed after three days of clashes.&lt;/p&gt;</description></item>
<item><title>Ransomware cripples hospital network</title><link>https://local.example/ransomware</link>
<guid>https://local.example/ransomware</guid><pubDate>Mon, 02 Nov 2026 07:00:00 GMT</pubDate>
<description>&lt;p&gt;A ransomware attack by a cyber criminal group encrypted the hospital's servers;
the hackers demanded a ransom in bitcoin.&lt;/p&gt;</description></item>
</channel></rss>"""


@pytest.mark.slow
def test_monitor_run_from_inbox_and_feed_to_digest(
    env: Path, db: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = env / "inbox"
    inbox.mkdir()
    (inbox / "workshop.txt").write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    (inbox / "notes.bin.txt").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    with serve({"/feed.xml": Route(body=FEED, headers={"Content-Type": "application/rss+xml"})}) as base:
        code, out, _ = run(
            ["sources", "add", base + "/feed.xml", "--name", "Local Wire", "--interval", "15"], capsys
        )
        assert code == 0 and "Local Wire" in out
        code, out, err = run(["run"], capsys)
    assert code == 0, err
    assert "1 ok, 0 not modified, 0 failed; 2 new articles" in out
    assert "inbox:   2 files, 1 new articles, 0 duplicates, 1 rejected" in out
    assert "process: 3 processed" in out
    today = datetime.now(ZoneInfo("Europe/Vienna")).date()
    text_path = env / "out" / f"digest-{today.isoformat()}.txt"
    html_path = env / "out" / f"digest-{today.isoformat()}.html"
    text = text_path.read_text(encoding="utf-8")
    html = html_path.read_text(encoding="utf-8")
    for title in (
        "Regional Counter-Terrorism Workshop Opens In Bishkek",
        "Insurgents shell besieged city",
        "Ransomware cripples hospital network",
    ):
        assert title in text
        assert title in html
    assert "Terrorism" in text and "Kyrgyzstan" in text
    # Counts at the top: three articles in the window.
    assert "3 articles" in text
    # The binary file was refused and recorded; the rest went on.
    code, out, _ = run(["rejects"], capsys)
    assert "notes.bin.txt" in out and "binary" in out.lower()

    # Same database, same date → the same bytes.
    code, _, _ = run(["digest", "--date", today.isoformat()], capsys)
    assert code == 0
    assert text_path.read_text(encoding="utf-8") == text
    assert html_path.read_text(encoding="utf-8") == html

    # Without --date: the latest complete day with articles, as a manual run of the digest DAG.
    # Today is not over, so with every article moved to four days ago that day is the digest's.
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET first_seen_at = first_seen_at - interval '4 days'")
    db.commit()
    code, out, _ = run(["digest"], capsys)
    archive = today - timedelta(days=4)
    assert code == 0
    assert f"digest {archive.isoformat()} (no --date: the latest complete day" in out
    assert "3 articles" in out
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET first_seen_at = first_seen_at + interval '4 days'")
    db.commit()

    # Export: processed articles with topics and entities as JSON lines.
    out_file = env / "export.jsonl"
    code, _, _ = run(
        ["export", "--since", today.isoformat(), "--until", today.isoformat(), "-o", str(out_file)], capsys
    )
    lines = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3
    shelling = next(x for x in lines if x["title"] == "Insurgents shell besieged city")
    assert "armed_conflict" in {t["id"] for t in shelling["topics"]}

    # Running again adds nothing.
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        before = cur.fetchone()
    code, out, _ = run(["run"], capsys)
    assert code == 0
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        assert cur.fetchone() == before


def test_run_exits_non_zero_only_when_nothing_could_be_done(
    env: Path, db: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = env / "inbox"
    inbox.mkdir()
    (inbox / "empty.txt").write_bytes(b"")
    code, out, err = run(["ingest", "--inbox"], capsys)
    assert code == 1
    assert "empty.txt" in err
    (inbox / "ok.txt").write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    (inbox / "empty2.txt").write_bytes(b"")
    code, out, err = run(["ingest", "--inbox"], capsys)
    assert code == 0
    assert "1 new articles" in out


def test_classify_is_offline_and_reports_bad_lines(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    workshop = (GOLDEN / "bishkek_workshop.txt").read_text(encoding="utf-8")
    title, text = workshop.split("\n", 1)
    lines = [
        json.dumps({"id": "w", "title": title, "text": text}),
        "not json",
        json.dumps(["a list"]),
        json.dumps({"id": 7, "text": "The striker shot wide as United attacked in the second half."}),
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    # No database settings at all: classify must not need one.
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code, out, err = run(["classify", "-"], capsys)
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == ["w", 7]
    assert {"terrorism", "international_security_cooperation"} <= {t["id"] for t in results[0]["topics"]}
    assert results[0]["language"] == "en"
    assert all(t["evidence"] for t in results[0]["topics"])
    assert results[1]["topics"] == []
    assert "line 2" in err and "line 3" in err


def test_classify_takes_an_inbox_file_as_one_article(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:
    """`monitor classify report.txt` reads the file as the inbox does (title line, paragraphs), not
    as JSON lines, and prints people with the titles found beside them."""
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    report = tmp_path / "bishkek_workshop.txt"
    report.write_bytes((GOLDEN / "bishkek_workshop.txt").read_bytes())
    code, out, err = run(["classify", str(report)], capsys)
    assert code == 0, err
    (result,) = [json.loads(line) for line in out.splitlines()]
    assert result["id"] == "bishkek_workshop.txt"
    assert {"terrorism", "international_security_cooperation"} <= {t["id"] for t in result["topics"]}
    people = [e for e in result["entities"] if e["type"] == "person"]
    assert people and any(e.get("title") for e in people)
    # An empty file is the inbox's clear error, naming the file.
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, err = run(["classify", str(empty)], capsys)
    assert code != 0 and out == "" and "empty.txt" in err and "empty file" in err


def test_parse_feed_and_extract_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED)
    code, out, _ = run(["parse-feed", str(feed)], capsys)
    assert code == 0
    assert [json.loads(x)["title"] for x in out.splitlines()] == [
        "Insurgents shell besieged city",
        "Ransomware cripples hospital network",
    ]
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<html><body>nope</body></html>")
    code, _, err = run(["parse-feed", str(bad)], capsys)
    assert code == 1 and "bad.xml" in err
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Attack on convoy</title><script>var x=1;</script></head>"
        "<body><nav>Home | News</nav>"
        "<article><h1>Attack on convoy</h1><p>"
        + "Militants attacked an army convoy near the border. " * 8
        + "</p></article><footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    code, out, _ = run(["extract", str(page)], capsys)
    doc = json.loads(out)
    assert code == 0 and "Militants attacked" in doc["text"] and "var x" not in doc["text"]


def test_the_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("monitor")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("classify", "extract", "parse-feed", "run", "export", "digest", "sources"):
        assert command in result.stdout


def test_classify_on_all_cores_keeps_the_input_order(tmp_path: Path) -> None:
    """A long input goes through the worker processes; the output must still follow the input."""
    texts = [
        "A suicide bomber attacked a police station; the terrorist group claimed the bombing.",
        "The striker scored twice as the home side won the cup final.",
        "Hackers deployed ransomware against the port authority in a cyber attack.",
    ]
    lines = [json.dumps({"id": i, "text": f"{texts[i % 3]} Report {i}."}) for i in range(450)]
    lines.insert(100, "not json")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    exe = Path(sys.executable).with_name("monitor")
    env = {**os.environ, "MONITOR_PROCESS_WORKERS": "2"}
    result = subprocess.run(
        [str(exe), "classify", str(source)], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["id"] for o in out] == list(range(450))
    assert "line 101" in result.stderr
    topics = [{t["id"] for t in o["topics"]} for o in out[:3]]
    assert "terrorism" in topics[0] and topics[1] == set() and "cyber" in topics[2]


def test_sources_list_remove_rejects_and_export_defaults(
    env: Path, db: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    """The small commands as a new user meets them: an empty rejects list says so, the sources list
    has a header, a feed can be removed by id or URL (its articles stay), an unknown one is a clear
    error, and `export` needs only `--since` (until today)."""
    from monitor.models import FeedItem
    from monitor.store import articles, sources

    assert run(["rejects"], capsys)[:2] == (0, "no rejects recorded\n")

    first = sources.add_feed(db, "https://one.example/feed.xml", "One", 30)
    sources.add_feed(db, "https://two.example/feed.xml", "Two", 30)
    articles.insert_items(
        db,
        source_id=first.id,
        origin="feed",
        items=[(FeedItem(title="Kept", raw="text"), "https://one.example/a")],
    )
    db.commit()
    code, out, _ = run(["sources", "list"], capsys)
    header, *lines = out.splitlines()
    assert code == 0 and header.split()[:3] == ["id", "kind", "name"] and len(lines) == 2

    code, out, _ = run(["sources", "remove", str(first.id)], capsys)
    assert (code, out) == (
        0,
        f"removed feed {first.id}: One <https://one.example/feed.xml>; its 1 articles stay\n",
    )
    code, out, _ = run(["sources", "remove", "https://two.example/feed.xml"], capsys)
    assert code == 0 and out.startswith("removed feed 2: Two")
    assert run(["sources", "list"], capsys)[1] == "no sources yet: monitor sources add URL\n"
    with db.cursor() as cur:
        cur.execute("SELECT title, source_id FROM articles")
        assert cur.fetchall() == [("Kept", None)]
    db.commit()

    code, _, err = run(["sources", "remove", "https://nowhere.example/feed.xml"], capsys)
    assert code != 0 and "https://nowhere.example/feed.xml" in err and "no feed with that id or URL" in err
    code, _, err = run(["sources", "remove", "99"], capsys)
    assert code != 0 and "99" in err

    # export without --until: from --since to today; the stored article is not processed, so none.
    code, _, err = run(["export", "--since", "2026-01-01"], capsys)
    assert code == 0 and "exported 0 articles" in err
