"""A small FastAPI app: the digests the monitor built, and full-text search over articles.

Mounted into Airflow's api-server by `plugins/monitor_plugin.py` and shown in the UI as an external
view. Plugin apps are mounted *without* Airflow's login, so every route here depends on `user`:
inside Airflow that is Airflow's own `get_user` (the session cookie of the UI), so only someone logged
in to Airflow sees the data. Pages are Jinja2 with autoescaping; the digest HTML shown is the one the
monitor rendered and stored (article text escaped when it was rendered).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time, and the
# `Db` alias below is local to create_app, where string annotations could not be resolved.

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from monitor.store import digests as digest_store
from monitor.store.db import Connection, connect

_env = Environment(
    loader=PackageLoader("monitor.web", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

SEARCH_LIMIT = 50


def create_app(dsn: Callable[[], str], user: Callable[..., Any]) -> FastAPI:
    """`dsn` gives the monitor database's connection string per request (so a changed Airflow
    connection applies without a restart); `user` is the authentication dependency."""
    app = FastAPI(title="Security media monitor", dependencies=[Depends(user)], docs_url=None, redoc_url=None)

    def database() -> Iterator[Connection]:
        conn = connect(dsn())
        try:
            yield conn
        finally:
            conn.close()

    Db = Annotated[Connection, Depends(database)]  # a type alias, named like one

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("digests")

    @app.get("/digests", response_class=HTMLResponse)
    def digests(conn: Db) -> str:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT digest_date, timezone, article_count, subject, built_at, sent_at, sent_to
                     FROM digests ORDER BY digest_date DESC, timezone LIMIT 120"""
            )
            rows = cur.fetchall()
            cur.execute(
                """SELECT count(*) FILTER (WHERE status = 'processed'),
                          count(*) FILTER (WHERE status = 'new'),
                          count(*) FILTER (WHERE status = 'duplicate'),
                          count(*) FILTER (WHERE status = 'failed')
                     FROM articles"""
            )
            counts = cur.fetchone()
        return _env.get_template("digests.html.j2").render(rows=rows, counts=counts)

    @app.get("/digests/{day}", response_class=HTMLResponse)
    def digest_html(day: date, conn: Db) -> str:
        return _stored(conn, day, "html")

    @app.get("/digests/{day}/text", response_class=PlainTextResponse)
    def digest_text(day: date, conn: Db) -> str:
        return _stored(conn, day, "text")

    @app.get("/search", response_class=HTMLResponse)
    def search(conn: Db, q: Annotated[str, Query(max_length=200)] = "") -> str:
        results: list[tuple] = []
        if q.strip():
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
                    (query, SEARCH_LIMIT),
                )
                results = cur.fetchall()
        return _env.get_template("search.html.j2").render(q=q, results=results, limit=SEARCH_LIMIT)

    @app.get("/articles/{article_id}", response_class=HTMLResponse)
    def article(article_id: int, conn: Db) -> HTMLResponse:
        found = digest_store.article_page(conn, article_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no processed article {article_id}")
        record, body_html = found
        page = _env.get_template("article.html.j2").render(a=record, body_html=body_html, root="../")
        # Text from strangers is on this page: no script, frame or remote fetch may run, whatever the
        # sanitiser missed (inline styles only, for the page's own CSS).
        return HTMLResponse(page, headers={"Content-Security-Policy": _ARTICLE_CSP})

    return app


_ARTICLE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

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


def _stored(conn: Connection, day: date, column: str) -> str:
    with conn.cursor() as cur:
        # `column` is one of two literals chosen above, never user input.
        cur.execute(f"SELECT {column} FROM digests WHERE digest_date = %s ORDER BY timezone LIMIT 1", (day,))
        row = cur.fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail=f"no digest for {day.isoformat()}")
    return str(row[0])
