"""Use case: ingest the files dropped into the inbox folder."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from monitor.errors import InputError
from monitor.ingest.files import parse_inbox_file
from monitor.models import ParsedFile
from monitor.settings import INBOX_CLAIMED, Settings
from monitor.store import articles as article_store
from monitor.store import rejects, sources
from monitor.store.db import Connection

log = logging.getLogger(__name__)


@dataclass
class InboxReport:
    files: int = 0
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)


def _move(path: Path, folder: Path) -> Path:
    """Move a handled file aside, never overwriting an earlier file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), target)
    return target


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox or claimed by the inbox trigger, oldest first.

    Hidden and partial files (editors, uploads in progress) wait until they get their final name.
    """
    files: list[Path] = []
    for folder in (inbox / INBOX_CLAIMED, inbox):
        if folder.is_dir():
            files.extend(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~")))
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def ingest_inbox(settings: Settings, conn: Connection, *, now: datetime | None = None) -> InboxReport:
    """Ingest every file in the inbox; move each to processed/ or rejected/ (with a reason file)."""
    inbox = settings.inbox_dir
    report = InboxReport()
    source_id = _inbox_source(conn, inbox)
    for path in inbox_files(inbox):
        report.files += 1
        try:
            parsed = _read_inbox_file(path, settings.inbox_max_bytes)
        except InputError as exc:
            rejects.record(conn, "inbox", path.name, exc.reason)
            conn.commit()
            target = _move(path, inbox / "rejected")
            target.with_name(target.name + ".reason.txt").write_text(f"{exc}\n", encoding="utf-8")
            report.rejected += 1
            report.problems.append(str(exc))
            log.warning("inbox file rejected", extra={"file": path.name, "reason": exc.reason})
            continue
        items = [
            (item, path.name if len(parsed.items) == 1 else f"{path.name}#{i + 1}")
            for i, item in enumerate(parsed.items)
        ]
        counts = article_store.insert_items(
            conn, source_id=source_id, origin="inbox", items=items, seen_at=now
        )
        for problem in parsed.problems:
            rejects.record(conn, "inbox", path.name, problem, severity="warning")
            report.problems.append(problem)
        # Commit before moving: a crash in between leaves the file in the inbox, and ingesting it again
        # only finds duplicates, so nothing is lost and nothing is doubled.
        conn.commit()
        _move(path, inbox / "processed")
        report.new += counts.new
        report.duplicate += counts.duplicate
    return report


def _inbox_source(conn: Connection, inbox: Path) -> int:
    source_id = sources.inbox_source(conn, inbox.resolve().as_uri())
    conn.commit()
    return source_id


def _read_inbox_file(path: Path, max_bytes: int) -> ParsedFile:
    size = path.stat().st_size
    # Checked before reading so a 50 MB upload costs nothing but this stat.
    if size > max_bytes:
        raise InputError(path.name, f"file too large: {size:,} bytes (limit {max_bytes:,})")
    return parse_inbox_file(path.name, path.read_bytes(), max_bytes)
