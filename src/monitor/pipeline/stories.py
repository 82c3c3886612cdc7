"""Use case: give every processed article its story and, for syndicated copies, its original."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg2

from monitor.dedupe.near import NearDuplicateIndex
from monitor.dedupe.stories import StoryArticle, StoryIndex
from monitor.settings import Settings
from monitor.store import stories as story_store
from monitor.store.db import Connection


@dataclass
class StoryReport:
    assigned: int = 0
    near_duplicates: int = 0
    new_stories: int = 0
    skipped: bool = False  # another process holds the story lock


def assign_stories(settings: Settings, conn: Connection, *, batch: int = 5000) -> StoryReport:
    """Give every processed article its story and, for syndicated copies, its original.

    Runs in one process at a time (an advisory lock, held for the whole call), in (first seen, id)
    order, because clustering is incremental. The indexes are warmed once per call with the articles
    already assigned within their windows, put back as they were stored (no search), and serve all of
    the call's batches; a story keeps the id it was stored with: the id of its first article.
    """
    report = StoryReport()
    if not story_store.try_lock(conn):
        conn.rollback()
        report.skipped = True
        return report
    try:
        indexes: tuple[NearDuplicateIndex, StoryIndex] | None = None
        while True:
            pending = story_store.unassigned(conn, batch)
            if not pending:
                conn.commit()
                return report
            if indexes is None:
                indexes = _warm_story_indexes(settings, conn, pending[0].seen_at)
            near, index = indexes
            assignments: list[tuple[int, int, int | None, bytes | None]] = []
            for row in pending:
                original = mask = None
                if row.signature:
                    original = near.add_signature(str(row.id), row.signature, row.seen_at)
                    mask = near.copy_mask(str(row.id))
                story_id = int(index.add(_story_article(row, original)))
                assignments.append((row.id, story_id, int(original) if original else None, mask))
                report.near_duplicates += original is not None
                report.new_stories += story_id == row.id
            story_store.save_assignments(conn, assignments)
            story_store.refresh_stories(conn, [a[1] for a in assignments])
            conn.commit()
            report.assigned += len(assignments)
    finally:
        try:
            conn.rollback()
            story_store.unlock(conn)
            conn.commit()
        except psycopg2.Error:  # the connection is gone, and its session lock with it
            pass


def _warm_story_indexes(
    settings: Settings, conn: Connection, first: datetime
) -> tuple[NearDuplicateIndex, StoryIndex]:
    """The indexes as the stored assignments left them, for articles seen from `first` on: every
    assigned article seen within each index's window before it (or after it: late arrivals join those)."""
    near = NearDuplicateIndex(window=settings.near_duplicate_window)
    for sig in story_store.signatures_since(conn, first - settings.near_duplicate_window):
        original = str(sig.near_duplicate_of) if sig.near_duplicate_of else None
        near.restore_signature(str(sig.id), sig.signature, sig.seen_at, original, sig.copy_mask)
    index = StoryIndex(window=settings.story_window)
    for row in story_store.assigned_since(conn, first - settings.story_window):
        dup = str(row.near_duplicate_of) if row.near_duplicate_of else None
        index.restore(_story_article(row, dup), str(row.story_id))
    return near, index


def _story_article(row: story_store.StoryRow, duplicate_of: str | None) -> StoryArticle:
    return StoryArticle(
        id=str(row.id),
        title=row.title,
        text=row.text,
        seen_at=row.seen_at,
        entities=row.entity_ids,
        source=row.source,
        duplicate_of=duplicate_of,
        language=row.language,
        topics=row.topic_ids,
    )
