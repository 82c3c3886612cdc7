"""A small FastAPI app: the digests the monitor built, and full-text search over articles.

Mounted into Airflow's api-server by `plugins/monitor_plugin.py` and shown in the UI as an external
view. Plugin apps are mounted *without* Airflow's login, so every route here depends on `user`:
inside Airflow that is Airflow's own `get_user` (the session cookie of the UI), so only someone logged
in to Airflow sees the data. Pages are Jinja2 with autoescaping; the digest HTML shown is the one the
monitor rendered and stored (article text escaped when it was rendered).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time, and the
# `Db` alias below is local to create_app, where string annotations could not be resolved.

from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

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
            with conn.cursor() as cur:
                # websearch_to_tsquery accepts what people type ("border -drill", quoted phrases) and
                # never raises on odd input; the GIN index on articles.search serves it.
                cur.execute(
                    """SELECT a.id, a.title, a.url, a.first_seen_at,
                              coalesce(string_agg(t.label, ', ' ORDER BY t.score DESC), ''),
                              ts_rank(a.search, query) AS rank
                         FROM articles a CROSS JOIN websearch_to_tsquery('simple', %s) query
                         LEFT JOIN article_topics t ON t.article_id = a.id
                        WHERE a.status = 'processed' AND a.search @@ query
                        GROUP BY a.id, query
                        ORDER BY rank DESC, a.first_seen_at DESC, a.id DESC
                        LIMIT %s""",
                    (q, SEARCH_LIMIT),
                )
                results = cur.fetchall()
        return _env.get_template("search.html.j2").render(q=q, results=results, limit=SEARCH_LIMIT)

    return app


def _stored(conn: Connection, day: date, column: str) -> str:
    with conn.cursor() as cur:
        # `column` is one of two literals chosen above, never user input.
        cur.execute(f"SELECT {column} FROM digests WHERE digest_date = %s ORDER BY timezone LIMIT 1", (day,))
        row = cur.fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail=f"no digest for {day.isoformat()}")
    return str(row[0])
