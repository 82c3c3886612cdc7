"""Use case: processed articles as JSON-ready dicts (`monitor export`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from monitor.analyze import entities_json, topics_json
from monitor.store import digests as digest_store
from monitor.store.db import Connection


def export_lines(conn: Connection, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Processed articles first seen in [start, end), streamed, in the shapes of `analyze`."""
    for r in digest_store.iter_articles(conn, start, end):
        yield {
            "id": r.id,
            "title": r.title,
            "source": r.source,
            "url": r.url,
            "first_seen": r.first_seen.isoformat(),
            "published": r.published.isoformat() if r.published else None,
            "language": r.language,
            "taxonomy_version": r.taxonomy_version,
            "topics": topics_json(r.topics),
            "entities": entities_json(r.entities, counts=True),
            "story_id": r.story_id,
            "duplicates": r.duplicates,
            "text": r.text,
        }
