"""Analysts' corrections: recorded with the Airflow user and time, applied at once, applied again
after every reprocessing, summed up as per-topic precision and exported as training data.

A correction's effect is written into the tables every reader already reads (see sql/0012): a
rejected topic's row leaves `article_topics`, an added topic gets a row of origin 'analyst', a
renamed entity's link points at the corrected entity, a rejected one's link goes, a merged or split
story changes `articles.story_id`. So the article page, search, the trends and every later digest
show the corrected view without reading the corrections. `save_processed` rewrites an article's
topics and entities from the rules and then calls `apply`, which folds the article's corrections in
the order they were made, so reprocessing never loses one. Story corrections are applied once: they
live in `articles.story_id`, which processing never rewrites and story assignment reads back.

Only articles marked irrelevant need a reader's help (they leave the digest entirely, not only its
topics): `drop_irrelevant` and `discount_irrelevant`, one call each in store/digests.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import psycopg2.errors

from monitor.errors import MonitorError
from monitor.models import CountryCount, StoredArticle, WindowCounts
from monitor.store.db import Connection
from monitor.store.stories import refresh_stories

# Story assignment's advisory lock (store/stories.py): a merge or split must not interleave with a
# run that is assigning the same window.
_STORY_LOCK = 7_311_043
# How long a story correction waits for a running assignment before saying so.
_STORY_LOCK_WAIT = "10s"
# An analyst's tag is certain: it ranks as a strong tag of the article (the digest must not drop it
# as a weak secondary one), at least this many times the topic's threshold.
_ANALYST_SCORE_FACTOR = 3.0
MAX_NAME = 200
MAX_NOTE = 1000
KINDS = (
    "topic_confirm",
    "topic_reject",
    "topic_add",
    "irrelevant",
    "relevant",
    "story_merge",
    "story_split",
    "entity_rename",
    "entity_reject",
)


class CorrectionError(MonitorError):
    """A correction that cannot apply (unknown article, topic, entity or story; nothing to change); the
    message names the input and the reason."""


@dataclass(frozen=True)
class Analyst:
    name: str
    role: str | None = None


@dataclass(frozen=True)
class Correction:
    id: int
    article_id: int
    kind: str
    topic_id: str | None
    entity_id: str | None
    entity_to: str | None
    story_from: int | None
    story_to: int | None
    value: Mapping[str, Any]
    note: str | None
    user_name: str
    user_role: str | None
    created_at: datetime
    article_title: str = ""

    @property
    def summary(self) -> str:
        """One line for people: what was corrected."""
        v = self.value
        label = v.get("label") or self.topic_id
        return {
            "topic_confirm": f"confirmed topic {label}",
            "topic_reject": f"rejected topic {label}",
            "topic_add": f"added topic {label}",
            "irrelevant": "marked the article irrelevant",
            "relevant": "marked the article relevant again",
            "story_merge": f"merged story {self.story_from} into story {self.story_to}",
            "story_split": f"split the article out of story {self.story_from} into story {self.story_to}"
            if self.story_from != self.story_to
            else f"split the rest of story {self.story_from} off into story {v.get('rest_story')}",
            "entity_rename": f"renamed {v.get('from_name', self.entity_id)} to "
            f"{v.get('name', self.entity_to)}",
            "entity_reject": f"rejected entity {v.get('from_name', self.entity_id)}",
        }.get(self.kind, self.kind)


_COLUMNS = """c.id, c.article_id, c.kind, c.topic_id, c.entity_id, c.entity_to, c.story_from, c.story_to,
              c.value, c.note, c.user_name, c.user_role, c.created_at, a.title"""


def for_article(conn: Connection, article_id: int) -> list[Correction]:
    """The article's corrections, newest first."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM corrections c JOIN articles a ON a.id = c.article_id
                 WHERE c.article_id = %s ORDER BY c.id DESC""",
            (article_id,),
        )
        return [Correction(*r) for r in cur.fetchall()]


def recent(conn: Connection, limit: int) -> list[Correction]:
    """The latest corrections of all articles, newest first."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM corrections c JOIN articles a ON a.id = c.article_id
                 ORDER BY c.created_at DESC, c.id DESC LIMIT %s""",
            (limit,),
        )
        return [Correction(*r) for r in cur.fetchall()]


# ---- recording -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Article:
    id: int
    title: str
    story_id: int | None
    taxonomy_version: str | None


def _lock_article(conn: Connection, article_id: int) -> _Article:
    """The processed article, its row locked until commit: a batch reprocessing it holds the same lock
    (claim_pending), so a correction lands either before that batch reads the corrections or after
    it committed, never in between."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, title, story_id, taxonomy_version, status FROM articles WHERE id = %s FOR UPDATE",
            (article_id,),
        )
        row = cur.fetchone()
    if row is None:
        raise CorrectionError(f"article {article_id}: no such article")
    if row[4] != "processed":
        raise CorrectionError(f"article {article_id}: not processed (status {row[4]}), nothing to correct")
    return _Article(row[0], row[1], row[2], row[3])


def _insert(
    conn: Connection,
    article_id: int,
    kind: str,
    who: Analyst,
    *,
    note: str | None = None,
    topic_id: str | None = None,
    entity_id: str | None = None,
    entity_to: str | None = None,
    story_from: int | None = None,
    story_to: int | None = None,
    value: Mapping[str, Any] | None = None,
) -> int:
    if not who.name:
        raise CorrectionError("a correction needs the name of the user who made it")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise CorrectionError(f"note: longer than {MAX_NOTE} characters")
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO corrections (article_id, kind, topic_id, entity_id, entity_to, story_from,
                                        story_to, value, note, user_name, user_role)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (
                article_id,
                kind,
                topic_id,
                entity_id,
                entity_to,
                story_from,
                story_to,
                json.dumps(dict(value or {})),
                note,
                who.name,
                who.role,
            ),
        )
        row = cur.fetchone()
    assert row is not None  # INSERT … RETURNING gives the row
    return int(row[0])


def _topic_row(conn: Connection, article_id: int, topic_id: str) -> tuple[str, float, Any, str] | None:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT label, score, evidence, origin FROM article_topics
                WHERE article_id = %s AND topic_id = %s""",
            (article_id, topic_id),
        )
        row = cur.fetchone()
    return (row[0], float(row[1]), row[2], row[3]) if row else None


def confirm_topic(
    conn: Connection, article_id: int, topic_id: str, who: Analyst, note: str | None = None
) -> str:
    """The article's tag `topic_id` is right. The caller commits (as for every function here)."""
    _lock_article(conn, article_id)
    tag = _topic_row(conn, article_id, topic_id)
    if tag is None:
        raise CorrectionError(f"article {article_id}: has no topic {topic_id!r} to confirm")
    label, score, evidence, origin = tag
    value = {"label": label, "score": score, "evidence": evidence, "origin": origin}
    _insert(conn, article_id, "topic_confirm", who, note=note, topic_id=topic_id, value=value)
    apply(conn, [article_id])
    return f"Confirmed topic {label}."


def reject_topic(
    conn: Connection, article_id: int, topic_id: str, who: Analyst, note: str | None = None
) -> str:
    """The article's tag `topic_id` is wrong: it goes, and stays gone after reprocessing."""
    _lock_article(conn, article_id)
    tag = _topic_row(conn, article_id, topic_id)
    if tag is None:
        raise CorrectionError(f"article {article_id}: has no topic {topic_id!r} to reject")
    label, score, evidence, origin = tag
    value = {"label": label, "score": score, "evidence": evidence, "origin": origin}
    _insert(conn, article_id, "topic_reject", who, note=note, topic_id=topic_id, value=value)
    apply(conn, [article_id])
    return f"Rejected topic {label}."


def add_topic(
    conn: Connection,
    article_id: int,
    topic_id: str,
    who: Analyst,
    *,
    label: str,
    threshold: float,
    note: str | None = None,
) -> str:
    """A topic of the taxonomy (`label`, `threshold` from it) that the rules missed."""
    _lock_article(conn, article_id)
    if _topic_row(conn, article_id, topic_id) is not None:
        raise CorrectionError(f"article {article_id}: already has topic {topic_id!r} (confirm it instead)")
    with conn.cursor() as cur:
        cur.execute("SELECT max(score) FROM article_topics WHERE article_id = %s", (article_id,))
        row = cur.fetchone()
    best = float(row[0]) if row and row[0] is not None else 0.0
    score = round(max(best, threshold * _ANALYST_SCORE_FACTOR), 2)
    value = {"label": label, "score": score}
    _insert(conn, article_id, "topic_add", who, note=note, topic_id=topic_id, value=value)
    apply(conn, [article_id])
    return f"Added topic {label}."


def mark_irrelevant(conn: Connection, article_id: int, who: Analyst, note: str | None = None) -> str:
    """Not security news: every topic goes, and the article leaves the digest."""
    _lock_article(conn, article_id)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT topic_id, label, score, evidence, origin FROM article_topics
                WHERE article_id = %s ORDER BY topic_id""",
            (article_id,),
        )
        tags = cur.fetchall()
    value = {
        "rule_topics": [t for t, _, _, _, o in tags if o == "rules"],
        "labels": {t: label for t, label, _, _, _ in tags},
        # The rules' tags as they were, for `mark_relevant` to put back.
        "tags": [
            {"topic_id": t, "label": label, "score": float(score), "evidence": evidence}
            for t, label, score, evidence, o in tags
            if o == "rules"
        ],
    }
    _insert(conn, article_id, "irrelevant", who, note=note, value=value)
    apply(conn, [article_id])
    return "Marked the article irrelevant."


def mark_relevant(conn: Connection, article_id: int, who: Analyst, note: str | None = None) -> str:
    """Undo `mark_irrelevant`: the rules' tags it removed are back (but those rejected one by one)."""
    article = _lock_article(conn, article_id)
    marked = topic_state(_rows_for(conn, [article_id]).get(article_id, [])).irrelevant
    if marked is None:
        raise CorrectionError(f"article {article_id}: is not marked irrelevant")
    _insert(conn, article_id, "relevant", who, note=note)
    with conn.cursor() as cur:
        for tag in marked.value.get("tags", []):
            # Relies on the article_topics PK: a tag the article has again (reprocessed) stays as it is.
            cur.execute(
                """INSERT INTO article_topics (article_id, topic_id, label, score, evidence, taxonomy_version)
                   VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (article_id, topic_id) DO NOTHING""",
                (
                    article_id,
                    tag["topic_id"],
                    tag["label"],
                    tag["score"],
                    json.dumps(tag["evidence"]),
                    article.taxonomy_version or "",
                ),
            )
    apply(conn, [article_id])
    return "Marked the article relevant again."


def _entity(conn: Connection, article_id: int, entity_id: str) -> tuple[str, str, str | None] | None:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT e.name, e.type, e.country
                 FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                WHERE ae.article_id = %s AND ae.entity_id = %s""",
            (article_id, entity_id),
        )
        row = cur.fetchone()
    return (row[0], row[1], row[2]) if row else None


def _analyst_entity_id(etype: str, name: str) -> str:
    """A stable id for an entity an analyst named: the same name gives the same entity."""
    slug = re.sub(r"[\W_]+", "-", name.casefold()).strip("-")
    if not slug:
        slug = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"analyst:{etype}:{slug}"


def rename_entity(
    conn: Connection, article_id: int, entity_id: str, new_name: str, who: Analyst, note: str | None = None
) -> str:
    """In this article, the entity is `new_name` (a cut name completed, an acronym resolved): its
    link moves to the entity of that type and name (an existing one when there is, e.g. "ENISA" for
    "EU Agency for Cybersecurity", else a new one of the analyst's), in this article only."""
    _lock_article(conn, article_id)
    new_name = " ".join(new_name.split())
    if not new_name:
        raise CorrectionError("name: empty; give the entity's correct name")
    if len(new_name) > MAX_NAME:
        raise CorrectionError(f"name: longer than {MAX_NAME} characters")
    found = _entity(conn, article_id, entity_id)
    if found is None:
        raise CorrectionError(f"article {article_id}: has no entity {entity_id!r}")
    old_name, etype, country = found
    if new_name == old_name:
        raise CorrectionError(f"entity {entity_id!r}: is already named {new_name!r}")
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id FROM entities WHERE type = %s AND lower(name) = lower(%s) AND id <> %s
                ORDER BY (id LIKE 'analyst:%%'), id LIMIT 1""",
            (etype, new_name, entity_id),
        )
        row = cur.fetchone()
    target = row[0] if row else _analyst_entity_id(etype, new_name)
    value = {"from_name": old_name, "name": new_name, "type": etype, "country": country}
    _insert(
        conn, article_id, "entity_rename", who, note=note, entity_id=entity_id, entity_to=target, value=value
    )
    apply(conn, [article_id])
    return f"Renamed {old_name} to {new_name}."


def reject_entity(
    conn: Connection, article_id: int, entity_id: str, who: Analyst, note: str | None = None
) -> str:
    """The entity is not in this article (a false person, a phrase taken for a name)."""
    _lock_article(conn, article_id)
    found = _entity(conn, article_id, entity_id)
    if found is None:
        raise CorrectionError(f"article {article_id}: has no entity {entity_id!r}")
    value = {"from_name": found[0], "type": found[1]}
    _insert(conn, article_id, "entity_reject", who, note=note, entity_id=entity_id, value=value)
    apply(conn, [article_id])
    return f"Rejected entity {found[0]}."


def _lock_stories(conn: Connection) -> None:
    with conn.cursor() as cur:
        cur.execute(f"SET LOCAL lock_timeout = '{_STORY_LOCK_WAIT}'")
        try:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_STORY_LOCK,))
        except psycopg2.errors.LockNotAvailable as exc:  # the transaction is aborted: the caller rolls back
            raise CorrectionError("stories are being assigned right now; try again in a minute") from exc
        cur.execute("SET LOCAL lock_timeout = 0")


def merge_story(
    conn: Connection, article_id: int, into_story: int, who: Analyst, note: str | None = None
) -> str:
    """The article's story and story `into_story` are one: every article of the first joins the second."""
    article = _lock_article(conn, article_id)
    _lock_stories(conn)
    source = article.story_id if article.story_id is not None else article.id
    if source == into_story:
        raise CorrectionError(f"article {article_id}: is already in story {into_story}")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM stories WHERE id = %s", (into_story,))
        if cur.fetchone() is None:
            raise CorrectionError(f"story {into_story}: no such story")
        cur.execute(
            """UPDATE articles SET story_id = %s WHERE story_id = %s OR id = %s""",
            (into_story, source, article_id),
        )
        moved = cur.rowcount
        cur.execute(
            """DELETE FROM stories s
                WHERE s.id = %s AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.story_id = s.id)""",
            (source,),
        )
    refresh_stories(conn, [into_story])
    _insert(
        conn,
        article_id,
        "story_merge",
        who,
        note=note,
        story_from=source,
        story_to=into_story,
        value={"articles_moved": moved},
    )
    return f"Merged story {source} ({moved} article{'' if moved == 1 else 's'}) into story {into_story}."


def split_story(conn: Connection, article_id: int, who: Analyst, note: str | None = None) -> str:
    """The article is about another event than the rest of its story: it becomes a story of its own
    (with its syndicated copies); a story's id stays the id of its first article."""
    article = _lock_article(conn, article_id)
    _lock_stories(conn)
    source = article.story_id
    with conn.cursor() as cur:
        cur.execute(
            """SELECT count(*) FROM articles
                WHERE story_id = %s AND id <> %s AND near_duplicate_of IS DISTINCT FROM %s""",
            (source, article_id, article_id),
        )
        row = cur.fetchone()
        others = int(row[0]) if row else 0
        if source is None or others == 0:
            raise CorrectionError(f"article {article_id}: is already a story of its own")
        # The article and its copies leave; the article is no copy of another any more.
        cur.execute(
            """UPDATE articles SET story_id = %s,
                      near_duplicate_of = CASE WHEN id = %s THEN NULL ELSE near_duplicate_of END
                WHERE id = %s OR near_duplicate_of = %s""",
            (article_id, article_id, article_id, article_id),
        )
        rest = source
        if source == article_id:
            # The article was the story's first: the rest take the id of their own first article.
            cur.execute(
                """SELECT id FROM articles
                    WHERE story_id = %s AND id <> %s AND near_duplicate_of IS DISTINCT FROM %s
                    ORDER BY first_seen_at, id LIMIT 1""",
                (source, article_id, article_id),
            )
            first = cur.fetchone()
            assert first is not None  # others > 0
            rest = int(first[0])
            cur.execute(
                """UPDATE articles SET story_id = %s
                    WHERE story_id = %s AND id <> %s AND near_duplicate_of IS DISTINCT FROM %s""",
                (rest, source, article_id, article_id),
            )
    refresh_stories(conn, [article_id, rest])
    _insert(
        conn,
        article_id,
        "story_split",
        who,
        note=note,
        story_from=source,
        story_to=article_id,
        value={"rest_story": rest},
    )
    return f"Split the article out of story {source}: it is story {article_id} now, the rest story {rest}."


# ---- applying ----------------------------------------------------------------------------------------


@dataclass
class TopicState:
    """An article's topics as its corrections, folded in order, leave them."""

    rejected: dict[str, Correction] = field(default_factory=dict)  # topic -> the rejection
    confirmed: dict[str, Correction] = field(default_factory=dict)
    added: dict[str, Correction] = field(default_factory=dict)
    irrelevant: Correction | None = None
    hide_rules: bool = False  # marked irrelevant: the rules' topics stay hidden until marked relevant


def topic_state(corrections: Sequence[Correction]) -> TopicState:
    s = TopicState()
    for c in sorted(corrections, key=lambda c: c.id):
        t = c.topic_id or ""
        if c.kind == "topic_confirm":
            s.confirmed[t] = c
            s.rejected.pop(t, None)
            s.irrelevant = None
        elif c.kind == "topic_reject":
            s.rejected[t] = c
            s.confirmed.pop(t, None)
            s.added.pop(t, None)
        elif c.kind == "topic_add":
            s.added[t] = c
            s.rejected.pop(t, None)
            s.irrelevant = None
        elif c.kind == "irrelevant":
            s.irrelevant = c
            s.hide_rules = True
            s.added.clear()
            s.confirmed.clear()
        elif c.kind == "relevant":
            s.irrelevant = None
            s.hide_rules = False
    return s


def _rows_for(conn: Connection, article_ids: Sequence[int]) -> dict[int, list[Correction]]:
    by_article: dict[int, list[Correction]] = defaultdict(list)
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM corrections c JOIN articles a ON a.id = c.article_id
                 WHERE c.article_id = ANY(%s) ORDER BY c.article_id, c.id""",
            (list(article_ids),),
        )
        for r in cur.fetchall():
            by_article[r[1]].append(Correction(*r))
    return by_article


def apply(conn: Connection, article_ids: Sequence[int]) -> None:
    """Apply every topic and entity correction of these articles to their stored tags (idempotent).

    Called after each correction, and by `save_processed` after it rewrote the tags from the rules:
    one query for a batch without corrections."""
    if not article_ids:
        return
    by_article = _rows_for(conn, article_ids)
    if not by_article:
        return
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, taxonomy_version FROM articles WHERE id = ANY(%s) AND status = 'processed'",
            (sorted(by_article),),
        )
        versions = dict(cur.fetchall())
        for article_id in sorted(versions):
            corrections = by_article[article_id]
            s = topic_state(corrections)
            if s.rejected:
                cur.execute(
                    "DELETE FROM article_topics WHERE article_id = %s AND topic_id = ANY(%s)",
                    (article_id, sorted(s.rejected)),
                )
            if s.hide_rules:
                cur.execute(
                    "DELETE FROM article_topics WHERE article_id = %s AND NOT topic_id = ANY(%s)",
                    (article_id, sorted(set(s.confirmed) | set(s.added))),
                )
            for topic_id, c in sorted(s.added.items()):
                evidence = [
                    {"term": f"added by {c.user_name}", "count": 1, "weight": float(c.value["score"])}
                ]
                # The rules' own tag wins when they found it too (after a reprocessing).
                cur.execute(
                    """INSERT INTO article_topics (article_id, topic_id, label, score, evidence,
                                                   taxonomy_version, origin)
                       VALUES (%s, %s, %s, %s, %s, %s, 'analyst')
                       ON CONFLICT (article_id, topic_id) DO NOTHING""",
                    (
                        article_id,
                        topic_id,
                        c.value.get("label", topic_id),
                        float(c.value["score"]),
                        json.dumps(evidence),
                        versions[article_id] or "analyst",
                    ),
                )
            for c in corrections:  # in the order they were made: a renamed entity can be renamed again
                if c.kind == "entity_reject":
                    cur.execute(
                        "DELETE FROM article_entities WHERE article_id = %s AND entity_id = %s",
                        (article_id, c.entity_id),
                    )
                elif c.kind == "entity_rename":
                    _move_entity(cur, article_id, c)


def _move_entity(cur: Any, article_id: int, c: Correction) -> None:
    v = c.value
    # The analyst's entity may be new; an existing one keeps its name (relies on the PK).
    cur.execute(
        "INSERT INTO entities (id, type, name, country) VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
        (c.entity_to, v["type"], v["name"], v.get("country")),
    )
    # The link moves; when the article already links the target, the two become one (relies on the
    # article_entities PK).
    cur.execute(
        """WITH old AS (DELETE FROM article_entities WHERE article_id = %(a)s AND entity_id = %(from)s
                        RETURNING count, mentions, title)
           INSERT INTO article_entities (article_id, entity_id, count, mentions, title)
           SELECT %(a)s, %(to)s, count, mentions, title FROM old
           ON CONFLICT (article_id, entity_id) DO UPDATE
              SET count = article_entities.count + EXCLUDED.count,
                  mentions = (SELECT coalesce(jsonb_agg(DISTINCT m), '[]'::jsonb)
                                FROM jsonb_array_elements(article_entities.mentions || EXCLUDED.mentions) m),
                  title = coalesce(article_entities.title, EXCLUDED.title)""",
        {"a": article_id, "from": c.entity_id, "to": c.entity_to},
    )


# ---- readers' hooks: articles marked irrelevant leave the digest ---------------------------------------

_IRRELEVANT = """SELECT DISTINCT ON (c.article_id) c.article_id, c.kind FROM corrections c
                  WHERE c.kind IN ('irrelevant', 'relevant', 'topic_add', 'topic_confirm') {where}
                  ORDER BY c.article_id, c.id DESC"""


def irrelevant_ids(conn: Connection, article_ids: Sequence[int]) -> set[int]:
    """Which of these articles are marked irrelevant now (their latest say on relevance)."""
    if not article_ids:
        return set()
    with conn.cursor() as cur:
        cur.execute(_IRRELEVANT.format(where="AND c.article_id = ANY(%s)"), (list(article_ids),))
        return {a for a, kind in cur.fetchall() if kind == "irrelevant"}


def drop_irrelevant(conn: Connection, articles: list[StoredArticle]) -> list[StoredArticle]:
    """The digest's selection without the articles analysts marked irrelevant."""
    gone = irrelevant_ids(conn, [a.id for a in articles])
    return [a for a in articles if a.id not in gone] if gone else articles


def discount_irrelevant(
    conn: Connection, start: datetime, end: datetime, counts: WindowCounts
) -> WindowCounts:
    """A window's counts without the articles marked irrelevant (they have no topics left, so they
    count only in the total, as untagged, and by country)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH latest AS ({_IRRELEVANT.format(where="")})
                SELECT a.id, e.id, e.name FROM latest l
                  JOIN articles a ON a.id = l.article_id
                  LEFT JOIN article_entities ae ON ae.article_id = a.id
                  LEFT JOIN entities e ON e.id = ae.entity_id AND e.type = 'country'
                 WHERE l.kind = 'irrelevant' AND a.status = 'processed' AND a.near_duplicate_of IS NULL
                   AND a.first_seen_at >= %s AND a.first_seen_at < %s""",
            (start, end),
        )
        rows = cur.fetchall()
    if not rows:
        return counts
    gone = {r[0] for r in rows}
    by_country: dict[str, int] = defaultdict(int)
    for _, country, _name in rows:
        if country is not None:
            by_country[country] += 1
    countries = [
        CountryCount(c.id, c.name, c.count - by_country.get(c.id, 0))
        for c in counts.by_country
        if c.count - by_country.get(c.id, 0) > 0
    ]
    countries.sort(key=lambda c: (-c.count, c.name, c.id))
    return replace(
        counts,
        total=counts.total - len(gone),
        untagged=max(0, counts.untagged - len(gone)),
        by_country=countries,
    )


# ---- quality: per-topic precision of the rules' tags ----------------------------------------------------


@dataclass(frozen=True)
class TopicPrecision:
    topic_id: str
    label: str
    confirmed: int  # the rules' tags analysts confirmed (their latest word on the tag)
    rejected: int  # … rejected (one by one, or by marking the article irrelevant)
    added: int  # tags the rules missed and analysts added

    @property
    def judged(self) -> int:
        return self.confirmed + self.rejected

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.judged if self.judged else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """95 % Wilson score interval of the precision: honest for the handful of judgements a topic
        gets (the normal approximation gives intervals beyond 0 and 1 there)."""
        return wilson(self.confirmed, self.judged)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    if n == 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def topic_precision(conn: Connection) -> list[TopicPrecision]:
    """Per topic, from every correction: how many of the rules' tags analysts confirmed and rejected
    (each article's latest word on a tag counts once) and how many tags the rules missed."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM corrections c JOIN articles a ON a.id = c.article_id
                 WHERE c.kind IN ('topic_confirm', 'topic_reject', 'topic_add', 'irrelevant')
                 ORDER BY c.id"""
        )
        corrections = [Correction(*r) for r in cur.fetchall()]
    judged: dict[tuple[int, str], bool] = {}
    added: dict[tuple[int, str], bool] = {}
    labels: dict[str, str] = {}
    for c in corrections:
        if c.kind == "irrelevant":
            labels.update(c.value.get("labels", {}))
            for t in c.value.get("rule_topics", []):
                judged[(c.article_id, t)] = False
            for key in [k for k in added if k[0] == c.article_id]:
                del added[key]
            continue
        t = c.topic_id or ""
        labels[t] = c.value.get("label", t)
        if c.kind == "topic_add":
            added[(c.article_id, t)] = True
        elif c.value.get("origin") == "rules":
            judged[(c.article_id, t)] = c.kind == "topic_confirm"
        elif c.kind == "topic_reject":
            added.pop((c.article_id, t), None)  # an analyst's own tag taken back
    confirmed: dict[str, int] = defaultdict(int)
    rejected: dict[str, int] = defaultdict(int)
    missed: dict[str, int] = defaultdict(int)
    for (_, t), ok in judged.items():
        (confirmed if ok else rejected)[t] += 1
    for _, t in added:
        missed[t] += 1
    topics = sorted(set(confirmed) | set(rejected) | set(missed), key=lambda t: (labels.get(t, t), t))
    return [TopicPrecision(t, labels.get(t, t), confirmed[t], rejected[t], missed[t]) for t in topics]


# ---- export: training data for a learned relevance and topic model ----------------------------------------


def training_examples(conn: Connection) -> Iterator[dict[str, Any]]:
    """One example per article an analyst corrected, in article order: its text, the labels after
    the corrections (relevant or not, the topic set) and which of them came from analysts."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT a.id, a.title, coalesce(a.clean_text, ''), a.language, a.first_seen_at,
                      a.taxonomy_version, a.status, a.story_id,
                      ARRAY(SELECT t.topic_id FROM article_topics t
                             WHERE t.article_id = a.id ORDER BY t.topic_id),
                      ARRAY(SELECT t.topic_id FROM article_topics t
                             WHERE t.article_id = a.id AND t.origin = 'rules' ORDER BY t.topic_id)
                 FROM articles a WHERE EXISTS (SELECT 1 FROM corrections c WHERE c.article_id = a.id)
                ORDER BY a.id"""
        )
        rows = cur.fetchall()
    for start in range(0, len(rows), 500):
        part = rows[start : start + 500]
        by_article = _rows_for(conn, [r[0] for r in part])
        for r in part:
            yield _example(r, by_article.get(r[0], []))


def _example(row: tuple, corrections: list[Correction]) -> dict[str, Any]:
    article_id, title, text, language, first_seen, version, status, story_id, topics, rule_now = row
    s = topic_state(corrections)
    rules = set(rule_now) | {t for t, c in s.rejected.items() if c.value.get("origin") == "rules"}
    if s.irrelevant is not None:
        rules |= set(s.irrelevant.value.get("rule_topics", []))
    analyst_topics: dict[str, str] = {}
    for t in s.confirmed:
        analyst_topics[t] = "confirmed"
    for t in s.added:
        analyst_topics[t] = "added"
    for t in s.rejected:
        analyst_topics[t] = "rejected"
    if s.irrelevant is not None:
        for t in s.irrelevant.value.get("rule_topics", []):
            analyst_topics.setdefault(t, "rejected")
    final = sorted(topics) if status == "processed" else []
    if s.irrelevant is not None:
        analyst_relevant: bool | None = False
    elif s.confirmed or s.added or any(c.kind == "relevant" for c in corrections):
        analyst_relevant = True
    else:
        analyst_relevant = None
    entities: dict[str, Any] = {
        "rejected": [c.entity_id for c in corrections if c.kind == "entity_reject"],
        "renamed": [
            {"from": c.entity_id, "to": c.entity_to, "name": c.value.get("name")}
            for c in corrections
            if c.kind == "entity_rename"
        ],
    }
    return {
        "id": article_id,
        "title": title,
        "text": text,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "language": language,
        "first_seen": first_seen.isoformat(),
        "taxonomy_version": version,
        "relevant": analyst_relevant if analyst_relevant is not None else bool(final),
        "topics": final,
        "rule_topics": sorted(rules),
        "from_analysts": {
            "relevant": analyst_relevant,
            "topics": dict(sorted(analyst_topics.items())),
            "entities": entities,
            "stories": [
                {"kind": c.kind.removeprefix("story_"), "from": c.story_from, "to": c.story_to}
                for c in corrections
                if c.kind.startswith("story_")
            ],
        },
        "story_id": story_id,
        "analysts": sorted({c.user_name for c in corrections}),
        "corrected_at": max(c.created_at for c in corrections).isoformat() if corrections else None,
    }
