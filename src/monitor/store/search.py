"""Full-text search over processed articles (the `search` column and its GIN index, migration 0001)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from monitor.store.db import Connection


class SearchHit(NamedTuple):
    """One article found."""

    id: int
    title: str
    url: str | None
    first_seen: datetime
    topics: str  # its topic labels, highest score first, comma-separated ('' when it has none)
    rank: float
    source: str
    language: str | None
    published: datetime | None
    snippet: str  # ts_headline of the text: matches between MARK_START and MARK_END (never HTML)


# ts_headline marks matches with these (Unicode private-use characters, removed from the text first):
# the page escapes the snippet and only then turns them into <mark>, so the text can never be markup.
MARK_START, MARK_END = "\ue000", "\ue001"
# Words around the matches, and fragments: two short passages read like a search engine's snippet.
_HEADLINE_OPTIONS = (
    f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=30, MinWords=12, MaxFragments=2, '
    'FragmentDelimiter=" … "'
)
# Without a query: the start of the text, cut at this many characters.
_LEAD_CHARS = 240


@dataclass(frozen=True)
class SearchFilters:
    """What the search page can narrow by, besides the words typed; None means any."""

    topic: str | None = None  # topic id
    country: str | None = None  # ISO code or name, any case
    organisation: str | None = None  # entity id or name, any case
    source_id: int | None = None
    language: str | None = None  # ISO 639-1
    since: datetime | None = None  # first seen at or after
    until: datetime | None = None  # first seen before

    def any(self) -> bool:
        return any(v is not None for v in vars(self).values())


# One fixed statement: each filter is `(param IS NULL OR condition)`; psycopg2 sends the values as
# literals, so the planner drops the unused conditions (no SQL is assembled from the input).
_MATCHES = """
SELECT a.id, a.first_seen_at,
       CASE WHEN %(q)s::tsquery IS NULL THEN 0 ELSE ts_rank(a.search, %(q)s::tsquery) END AS rank
  FROM articles a
 WHERE a.status = 'processed'
   AND (%(q)s::tsquery IS NULL OR a.search @@ %(q)s::tsquery)
   AND (%(topic)s::text IS NULL OR EXISTS (
        SELECT 1 FROM article_topics t WHERE t.article_id = a.id AND t.topic_id = %(topic)s))
   AND (%(country)s::text IS NULL OR EXISTS (
        SELECT 1 FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
         WHERE ae.article_id = a.id AND e.type = 'country'
           AND (lower(e.id) = lower(%(country)s) OR lower(e.name) = lower(%(country)s))))
   AND (%(org)s::text IS NULL OR EXISTS (
        SELECT 1 FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
         WHERE ae.article_id = a.id AND e.type = 'organisation'
           AND (lower(e.id) = lower(%(org)s) OR lower(e.name) = lower(%(org)s))))
   AND (%(source)s::bigint IS NULL OR a.source_id = %(source)s)
   AND (%(language)s::text IS NULL OR a.language = %(language)s)
   AND (%(since)s::timestamptz IS NULL OR a.first_seen_at >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR a.first_seen_at < %(until)s)
"""


class SearchPage(NamedTuple):
    hits: list[SearchHit]
    total: int  # matches counted, at most COUNT_CAP + 1
    more: bool  # a page follows this one


# Matches are counted up to this many ("more than 1,000"): an exact count of a broad query over
# millions of articles would cost more than the page.
COUNT_CAP = 1000


def search_page(
    conn: Connection, q: str, filters: SearchFilters, *, limit: int, offset: int = 0
) -> SearchPage:
    """Processed articles matching the words typed (other forms of them included: `word_forms_query`)
    and every filter given: by rank, then newest first, then id; with an empty `q`, newest first.
    Each hit has a snippet: the passages of its text around the matches (ts_headline over the same
    'simple' configuration as the stored vector), or the start of its text without a query."""
    query = word_forms_query(conn, q) if q.strip() else None
    args = {
        "q": query,
        "topic": filters.topic,
        "country": filters.country,
        "org": filters.organisation,
        "source": filters.source_id,
        "language": filters.language,
        "since": filters.since,
        "until": filters.until,
        "limit": limit + 1,
        "offset": offset,
        "cap": COUNT_CAP + 1,
        "lead": _LEAD_CHARS,
        "options": _HEADLINE_OPTIONS,
        "marks": MARK_START + MARK_END,
    }
    if query == "":  # words that make no query at all (only punctuation): nothing matches
        return SearchPage([], 0, False)
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM ({_MATCHES} LIMIT %(cap)s) m", args)
        row = cur.fetchone()
        total = int(row[0]) if row else 0
        # The page first, then the headline of its rows only: ts_headline parses the whole text.
        cur.execute(
            f"""WITH page AS ({_MATCHES} ORDER BY rank DESC, a.first_seen_at DESC, a.id DESC
                               LIMIT %(limit)s OFFSET %(offset)s)
                SELECT a.id, a.title, a.url, a.first_seen_at,
                       coalesce((SELECT string_agg(t.label, ', ' ORDER BY t.score DESC, t.topic_id)
                                   FROM article_topics t WHERE t.article_id = a.id), ''),
                       page.rank,
                       coalesce(a.source_name,
                                CASE WHEN s.kind = 'inbox' THEN 'Inbox: ' || a.origin_ref ELSE s.name END,
                                a.origin_ref),
                       a.language, a.published_at,
                       CASE WHEN %(q)s::tsquery IS NULL
                            THEN left(coalesce(a.clean_text, ''), %(lead)s)
                            ELSE ts_headline('simple', translate(coalesce(a.clean_text, ''), %(marks)s, ''),
                                             %(q)s::tsquery, %(options)s) END
                  FROM page JOIN articles a ON a.id = page.id LEFT JOIN sources s ON s.id = a.source_id
                 ORDER BY page.rank DESC, a.first_seen_at DESC, a.id DESC""",
            args,
        )
        rows = cur.fetchall()
    hits = [SearchHit(*row) for row in rows[:limit]]
    return SearchPage(hits, total, len(rows) > limit)


def search_articles(conn: Connection, q: str, limit: int) -> list[SearchHit]:
    """The best `limit` processed articles for what was typed in a search box (no filters)."""
    return search_page(conn, q, SearchFilters(), limit=limit).hits


# A lexeme in the text form of a tsquery: 'word', with quotes inside doubled.
_LEXEME_RE = re.compile(r"'((?:[^']|'')*)'")
# Stems shorter than this stay exact words: "us", "un" or "eu" as prefixes would match half the language.
_MIN_PREFIX_STEM = 4


def word_forms_query(conn: Connection, q: str) -> str:
    """The search box text as a tsquery (text form) that also finds other forms of each word.

    The index uses the 'simple' configuration (no stemming: articles come in many languages, and a
    stemmed index would cost time on every article), so "terrorism" alone would miss "terrorist".
    Each word of the query becomes a prefix match of its stem instead: "terrorism" -> 'terror':*,
    "attacks" -> 'attack':* (also attacked, attackers); a Russian word by the Russian stemmer
    ("террористов" -> 'террорист':*, also террористический). websearch_to_tsquery still parses
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
        # The stemmer of the word's script: PostgreSQL's Snowball Russian stemmer for Cyrillic
        # ("теракты" -> 'теракт':*, which finds теракт, теракта, терактов), English for the rest.
        cur.execute(
            """SELECT w, (ts_lexize(CASE WHEN w ~ '[а-яё]' THEN 'russian_stem' ELSE 'english_stem' END
                                    ::regdictionary, w))[1]
                 FROM unnest(%s::text[]) w""",
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
