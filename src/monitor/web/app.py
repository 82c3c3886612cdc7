"""A small FastAPI app: the digests the monitor built, and full-text search over articles.

Mounted into Airflow's api-server by `plugins/monitor_plugin.py` and shown in the UI as an external
view. Plugin apps are mounted *without* Airflow's login, so every route here depends on `user`:
inside Airflow that is Airflow's own `get_user` (the session cookie of the UI), so only someone logged
in to Airflow sees the data. Pages are Jinja2 with autoescaping; the digest HTML shown is the one the
monitor rendered and stored (article text escaped when it was rendered). No SQL here: every read is
a function of `store/` (digests, search).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time, and the
# `Db` alias below is local to create_app, where string annotations could not be resolved.

from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from monitor.store import digests as digest_store
from monitor.store import search as search_store
from monitor.store.db import Connection, connect
from monitor.web import feedback, watch
from monitor.web.highlight import article_marks

_env = Environment(
    loader=PackageLoader("monitor.web", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["article_marks"] = article_marks  # the article page's marked title and text

SEARCH_LIMIT = 50
DIGESTS_LISTED = 120  # four months of daily digests


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
        rows = digest_store.list_digests(conn, DIGESTS_LISTED)
        counts = digest_store.status_counts(conn)
        return _env.get_template("digests.html.j2").render(rows=rows, counts=counts)

    @app.get("/digests/{day}", response_class=HTMLResponse)
    def digest_html(day: date, conn: Db) -> str:
        return _stored(conn, day, "html")

    @app.get("/digests/{day}/text", response_class=PlainTextResponse)
    def digest_text(day: date, conn: Db) -> str:
        return _stored(conn, day, "text")

    @app.get("/search", response_class=HTMLResponse)
    def search(conn: Db, q: Annotated[str, Query(max_length=200)] = "") -> str:
        results = search_store.search_articles(conn, q, SEARCH_LIMIT) if q.strip() else []
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

    app.include_router(feedback.create_router(database, dsn, _env))  # analysts' corrections, /quality
    app.include_router(watch.create_router(database, _env))  # /watchlists
    return app


# Forms may post to this site only (the analysts' corrections).
_ARTICLE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"


def _stored(conn: Connection, day: date, fmt: Literal["html", "text"]) -> str:
    text = digest_store.stored_digest(conn, day, fmt)
    if text is None:
        raise HTTPException(status_code=404, detail=f"no digest for {day.isoformat()}")
    return text
