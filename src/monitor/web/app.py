"""The analyst's workbench: the digests the monitor built, search with filters, stories, trends, and
feed health for operators.

Mounted into Airflow's api-server by `plugins/monitor_plugin.py` and shown in the UI as an external
view. Plugin apps are mounted *without* Airflow's login, so every route here depends on `user`:
inside Airflow that is Airflow's own `get_user` (the session cookie of the UI), so only someone logged
in to Airflow sees the data. Pages are Jinja2 with autoescaping; the digest HTML shown is the one the
monitor rendered and stored (article text escaped when it was rendered). No SQL here: every read is
a function of `store/` (digests, search, workbench).

Reading needs a logged-in Airflow user of any role; changing feeds needs an operator (`op` or
`admin`, `auth.require_role`) and a request from this site (`same_origin`): POST only.
Every page carries a Content-Security-Policy: no script, no remote fetch, forms to this site only.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time, and the
# `Db` alias below is local to create_app, where string annotations could not be resolved.

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from monitor.classify.rules import load_classifier
from monitor.digest.build import digest_window, language_name, primary_language
from monitor.errors import InputError
from monitor.settings import Settings
from monitor.store import digests as digest_store
from monitor.store import search as search_store
from monitor.store import sources as source_store
from monitor.store import workbench as wb_store
from monitor.store.db import Connection, connect
from monitor.web import feedback, watch, workbench
from monitor.web.auth import get_user, holds, require_role, same_origin, user_name
from monitor.web.highlight import article_marks

_env = Environment(
    loader=PackageLoader("monitor.web", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["article_marks"] = article_marks  # the article page's marked title and text
_env.filters["language_name"] = language_name


@lru_cache(maxsize=1)
def covered_languages() -> frozenset[str]:
    """The languages the packaged taxonomy has terms for (read once: ~0.1 s)."""
    return load_classifier(learned=False).taxonomy.languages


def language_covered(code: str | None) -> bool:
    """An undetected language was read with the default language's terms: covered."""
    return code is None or primary_language(code) in covered_languages()


_env.globals["language_covered"] = language_covered
log = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 25
DIGESTS_LISTED = 120  # four months of daily digests
STORIES_LISTED = 100
STORY_DAYS = (1, 3, 7, 30)
TREND_DAYS = (7, 30, 90)
# Airflow's roles that may add, pause and remove feeds (SimpleAuthManager: viewer < user < op < admin).
FEED_EDITORS = ("op", "admin")


def create_app(
    dsn: Callable[[], str], user: Callable[..., Any], settings: Callable[[], Settings] | None = None
) -> FastAPI:
    """`dsn` gives the monitor database's connection string per request (so a changed Airflow
    connection applies without a restart); `user` is the authentication dependency (Airflow's
    `get_user`; `auth.require_role` reads the same user for the pages that change data); `settings`
    the monitor's settings (time zone, spike thresholds, the feed DAG's schedule), from the
    environment unless given."""
    app = FastAPI(title="Security media monitor", dependencies=[Depends(user)], docs_url=None, redoc_url=None)
    get_settings = settings or _settings_from_env

    def database() -> Iterator[Connection]:
        conn = connect(dsn())
        try:
            yield conn
        finally:
            conn.close()

    Db = Annotated[Connection, Depends(database)]  # a type alias, named like one
    Editor = Annotated[Any, Depends(require_role(*FEED_EDITORS))]

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("digests")

    @app.get("/digests", response_class=HTMLResponse)
    def digests(conn: Db) -> HTMLResponse:
        rows = wb_store.list_digests(conn, DIGESTS_LISTED)  # with the count as mailed
        counts = digest_store.status_counts(conn)
        return _page("digests.html.j2", rows=rows, counts=counts)

    @app.get("/digests/{day}", response_class=HTMLResponse)
    def digest_html(day: date, conn: Db) -> HTMLResponse:
        # The page variant (navigation, chart as a data: URI, titles linked to the article pages)
        # where the digest step stored one; else the digest as mailed.
        page = _stored_page(conn, day)
        return HTMLResponse(page, headers={"Content-Security-Policy": _DIGEST_CSP})

    @app.get("/digests/{day}/text", response_class=PlainTextResponse)
    def digest_text(day: date, conn: Db) -> str:
        return _stored(conn, day, "text")

    @app.get("/search", response_class=HTMLResponse)
    def search(
        request: Request,
        conn: Db,
        q: Annotated[str, Query(max_length=200)] = "",
        topic: Annotated[str, Query(max_length=100)] = "",
        country: Annotated[str, Query(max_length=200)] = "",
        org: Annotated[str, Query(max_length=200)] = "",
        source: Annotated[str, Query(max_length=20)] = "",
        lang: Annotated[str, Query(max_length=10)] = "",
        since: Annotated[str, Query(alias="from", max_length=10)] = "",
        until: Annotated[str, Query(alias="to", max_length=10)] = "",
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> HTMLResponse:
        tz = get_settings().timezone
        errors: list[str] = []
        start = _day_param(since, "from", errors)
        end = _day_param(until, "to", errors)
        filters = search_store.SearchFilters(
            topic=topic.strip() or None,
            country=country.strip() or None,
            organisation=org.strip() or None,
            source_id=int(source) if source.strip().isdigit() else None,
            language=lang.strip().lower() or None,
            since=digest_window(start, tz)[0] if start else None,
            until=digest_window(end, tz)[1] if end else None,
        )
        if source.strip() and not source.strip().isdigit():
            errors.append(f"source {source!r}: pick a source from the list")
        result = None
        if not errors and (q.strip() or filters.any()):
            offset = (page - 1) * SEARCH_PAGE_SIZE
            result = search_store.search_page(conn, q, filters, limit=SEARCH_PAGE_SIZE, offset=offset)
        kept = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return _page(
            "search.html.j2",
            q=q,
            form={
                "topic": topic,
                "country": country,
                "org": org,
                "source": source,
                "lang": lang,
                "from": since,
                "to": until,
            },
            errors=errors,
            result=result,
            page=page,
            page_size=SEARCH_PAGE_SIZE,
            count_cap=search_store.COUNT_CAP,
            prev_link="search?" + urlencode({**kept, "page": page - 1}) if page > 1 else None,
            next_link="search?" + urlencode({**kept, "page": page + 1}) if result and result.more else None,
            snippet=workbench.snippet_markup,
            topics=workbench.topic_labels(),
            sources=wb_store.feed_sources(conn),
            countries=wb_store.frequent_entities(conn, "country"),
            organisations=wb_store.frequent_entities(conn, "organisation"),
            languages=wb_store.recent_languages(conn),
        )

    @app.get("/stories", response_class=HTMLResponse)
    def stories(conn: Db, days: Annotated[int, Query(ge=1, le=90)] = 7) -> HTMLResponse:
        since = datetime.now(UTC) - timedelta(days=days)
        rows = wb_store.recent_stories(conn, since, STORIES_LISTED)
        return _page("stories.html.j2", rows=rows, days=days, choices=STORY_DAYS, limit=STORIES_LISTED)

    @app.get("/stories/{story_id}", response_class=HTMLResponse)
    def story(story_id: int, conn: Db) -> HTMLResponse:
        found = wb_store.story_page(conn, story_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no story {story_id}")
        return _page("story.html.j2", root="../", s=found, listed=wb_store.STORY_ARTICLES_LISTED)

    @app.get("/trends", response_class=HTMLResponse)
    def trends(conn: Db, days: Annotated[int, Query()] = 7) -> HTMLResponse:
        if days not in TREND_DAYS:
            choices = ", ".join(map(str, TREND_DAYS))
            raise HTTPException(status_code=400, detail=f"days={days}: one of {choices}")
        conf = get_settings()
        now = datetime.now(UTC)
        today = now.astimezone(_zone(conf.timezone)).date()
        table = workbench.trends(conf, conn, days, today, now)
        return _page("trends.html.j2", t=table, days=days, choices=TREND_DAYS, settings=conf)

    def feeds_page(
        conn: Connection, request: Request, status_code: int = 200, can_edit: bool = True, **extra: Any
    ) -> HTMLResponse:
        conf = get_settings()
        now = datetime.now(UTC)
        rows = wb_store.feed_health(conn, now)
        ticks = {
            r.id: workbench.next_tick(conf.feed_schedule, conf.timezone, r.next_fetch_at, now)
            for r in rows
            if r.kind == "feed" and r.enabled
        }
        context: dict[str, Any] = {
            "rows": rows,
            "ticks": ticks,
            "settings": conf,
            "form": {},
            "error": None,
            "done": None,
            "can_edit": can_edit,
            "editors": FEED_EDITORS,
        }
        context["done"] = request.query_params.get("done")
        context.update(extra)
        return _page("feeds.html.j2", status_code=status_code, **context)

    @app.get("/feeds", response_class=HTMLResponse)
    def feeds(request: Request, conn: Db, who: Annotated[Any, Depends(get_user)]) -> HTMLResponse:
        return feeds_page(conn, request, can_edit=holds(who, FEED_EDITORS))

    @app.post("/feeds", response_model=None, dependencies=[Depends(same_origin)])
    def change_feeds(
        request: Request,
        conn: Db,
        editor: Editor,
        action: Annotated[str, Form()],
        feed: Annotated[str, Form()] = "",
        url: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        interval: Annotated[str, Form()] = "",
    ) -> HTMLResponse | RedirectResponse:
        who = user_name(editor)
        if action == "add":
            form = {"url": url, "name": name, "interval": interval}
            try:
                minutes = int(interval) if interval.strip() else None
            except ValueError:
                return feeds_page(
                    conn,
                    request,
                    400,
                    form=form,
                    error=f"{interval}: the interval is a whole number of minutes",
                )
            try:
                checked_url, checked_name, minutes = source_store.validate_feed(
                    url,
                    name,
                    minutes,
                    default_interval=get_settings().feed_interval_minutes,
                    schemes=source_store.WEB_FEED_SCHEMES,
                )
            except InputError as exc:
                return feeds_page(conn, request, 400, form=form, error=str(exc))
            added = source_store.add_feed(conn, checked_url, checked_name, minutes)
            log.info("feed added from the web: feed_id=%s url=%s by=%s", added.id, added.url, who)
            return _done(f"added feed {added.id}: {added.name}, every {added.interval_minutes} min")
        if not feed.isdigit():
            return feeds_page(conn, request, 400, error=f"feed {feed!r}: no such feed")
        if action in ("pause", "resume"):
            changed = wb_store.set_feed_enabled(conn, int(feed), action == "resume")
            if changed is None:
                return feeds_page(conn, request, 404, error=f"feed {feed}: no such feed")
            log.info("feed %sd from the web: feed_id=%s by=%s", action, feed, who)
            return _done(f"{action}d feed {feed}: {changed}")
        if action == "remove":
            removed = source_store.remove_feed(conn, feed)
            if removed is None:
                return feeds_page(conn, request, 404, error=f"feed {feed}: no such feed")
            gone, kept = removed
            log.info("feed removed from the web: feed_id=%s by=%s", gone.id, who)
            return _done(f"removed feed {gone.id}: {gone.name}; its {kept} articles stay")
        return feeds_page(conn, request, 400, error=f"action {action!r}: add, pause, resume or remove")

    @app.get("/articles/{article_id}", response_class=HTMLResponse)
    def article(article_id: int, conn: Db, who: Annotated[Any, Depends(get_user)]) -> HTMLResponse:
        found = digest_store.article_page(conn, article_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no processed article {article_id}")
        record, body_html = found
        page = _env.get_template("article.html.j2").render(
            a=record,
            body_html=body_html,
            root="../",
            can_correct=holds(who, feedback.CORRECTING_ROLES),
            correcting_roles=feedback.CORRECTING_ROLES,
        )
        # Text from strangers is on this page: no script, frame or remote fetch may run, whatever the
        # sanitiser missed (inline styles only, for the page's own CSS).
        return HTMLResponse(page, headers={"Content-Security-Policy": _ARTICLE_CSP})

    app.include_router(feedback.create_router(database, dsn, _env))  # analysts' corrections, /quality
    app.include_router(watch.create_router(database, _env))  # /watchlists
    return app


# Forms may post to this site only (the analysts' corrections).
_ARTICLE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"
# The workbench's own pages: its forms post to this site, nothing else loads; framed by Airflow only.
_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
# A stored digest: its chart may be inline (a data: URI), as the page variant embeds it.
_DIGEST_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'"
)


@lru_cache(maxsize=1)
def _settings_from_env() -> Settings:
    return Settings.from_env()


def _zone(name: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _page(template: str, *, root: str = "", status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(root=root, **context)
    return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": _PAGE_CSP})


def _done(message: str) -> RedirectResponse:
    """After a change, back to the feeds page (a reload does not post again), saying what was done.
    Relative, so it works under whatever prefix Airflow mounted the app at."""
    return RedirectResponse("feeds?" + urlencode({"done": message}), status_code=303)


def _day_param(value: str, name: str, errors: list[str]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{name}={value!r}: a date as YYYY-MM-DD")
        return None


def _stored_page(conn: Connection, day: date) -> str:
    """The stored page variant of the digest when there is one, else its mail HTML."""
    try:
        page = digest_store.stored_digest(conn, day, "page")  # type: ignore[arg-type]
    except (KeyError, ValueError):  # a store without the page variant yet: the mail HTML is the page
        page = None
    return page if isinstance(page, str) else _stored(conn, day, "html")


def _stored(conn: Connection, day: date, fmt: Literal["html", "text"]) -> str:
    text = digest_store.stored_digest(conn, day, fmt)
    if text is None:
        raise HTTPException(status_code=404, detail=f"no digest for {day.isoformat()}")
    return text
