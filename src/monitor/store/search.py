"""Full-text search over processed articles (the `search` column and its GIN index, migration 0001)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from monitor.store.db import Connection


class SearchHit(NamedTuple):
    """One article found (a tuple, so a template can unpack it)."""

    id: int
    title: str
    url: str | None
    first_seen: datetime
    topics: str  # its topic labels, highest score first, comma-separated ('' when it has none)
    rank: float


def search_articles(conn: Connection, q: str, limit: int) -> list[SearchHit]:
    """The best `limit` processed articles for what was typed in a search box, other forms of its
    words included (`word_forms_query`): by rank, then newest first, then id."""
    query = word_forms_query(conn, q)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT a.id, a.title, a.url, a.first_seen_at,
                      coalesce(string_agg(t.label, ', ' ORDER BY t.score DESC), ''),
                      ts_rank(a.search, query) AS rank
                 FROM articles a CROSS JOIN CAST(%s AS tsquery) query
                 LEFT JOIN article_topics t ON t.article_id = a.id
                WHERE a.status = 'processed' AND a.search @@ query
                GROUP BY a.id, query
                ORDER BY rank DESC, a.first_seen_at DESC, a.id DESC
                LIMIT %s""",
            (query, limit),
        )
        return [SearchHit(*row) for row in cur.fetchall()]


# A lexeme in the text form of a tsquery: 'word', with quotes inside doubled.
_LEXEME_RE = re.compile(r"'((?:[^']|'')*)'")
# Stems shorter than this stay exact words: "us", "un" or "eu" as prefixes would match half the language.
_MIN_PREFIX_STEM = 4


def word_forms_query(conn: Connection, q: str) -> str:
    """The search box text as a tsquery (text form) that also finds other forms of each word.

    The index uses the 'simple' configuration (no stemming: articles come in many languages, and a
    stemmed index would cost time on every article), so "terrorism" alone would miss "terrorist".
    Each word of the query becomes a prefix match of its English stem instead: "terrorism" ->
    'terror':*, "attacks" -> 'attack':* (also attacked, attackers). websearch_to_tsquery still parses
    what people type ("border -drill", "quoted phrases", or) and never raises on odd input; the
    result is cast to tsquery as it is (lexemes taken literally, not parsed into words again).
    """
    with conn.cursor() as cur:
        cur.execute("SELECT websearch_to_tsquery('simple', %s)::text", (q,))
        row = cur.fetchone()
        text = str(row[0]) if row else ""
        words = [m.group(1).replace("''", "'") for m in _LEXEME_RE.finditer(text)]
        if not words:
            return text
        cur.execute(
            "SELECT w, (ts_lexize('english_stem', w))[1] FROM unnest(%s::text[]) w",
            (sorted(set(words)),),
        )
        stems = {w: stem for w, stem in cur.fetchall()}

    def rewrite(match: re.Match[str]) -> str:
        word = match.group(1).replace("''", "'")
        stem = stems.get(word)
        if stem and len(stem) >= _MIN_PREFIX_STEM and word.isalpha():
            return "'" + stem.replace("'", "''") + "':*"
        return match.group(0)

    return _LEXEME_RE.sub(rewrite, text)
