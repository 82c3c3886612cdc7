"""The Watch-lists page: each analyst's saved words and entities, and the articles they caught.

GET /watchlists lists every watch-list with its latest hits (the alerts in the UI: new hits are
marked until they have been mailed). POST /watchlists adds or redefines one, POST
/watchlists/{id}/remove removes it; both need a role that may correct (not a viewer) and a request
from this site (same check as the corrections). Validation is the store's, as for `monitor watch add`.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

from monitor.errors import InputError
from monitor.store import watchlists as store
from monitor.store.db import Connection
from monitor.web.auth import get_user, holds, require_role, same_origin, user_name
from monitor.web.feedback import CORRECTING_ROLES

HITS_SHOWN = 20


def create_router(database: Callable[[], Iterator[Connection]], env: Environment) -> APIRouter:
    router = APIRouter()
    Db = Annotated[Connection, Depends(database)]  # a type alias, named like one
    Editor = Annotated[Any, Depends(require_role(*CORRECTING_ROLES))]

    def page(
        conn: Connection,
        error: str | None = None,
        form: dict[str, str] | None = None,
        can_edit: bool = True,
    ) -> str:
        watches = store.list_all(conn)
        counts = store.hit_counts(conn)
        hits = {w.id: store.recent_hits(conn, w.id, HITS_SHOWN) for w in watches}
        return env.get_template("watchlists.html.j2").render(
            watches=watches,
            counts=counts,
            hits=hits,
            error=error,
            form=form or {},
            root="",
            can_edit=can_edit,
            editors=CORRECTING_ROLES,
        )

    @router.get("/watchlists", response_class=HTMLResponse)
    def watchlists(conn: Db, who: Annotated[Any, Depends(get_user)]) -> str:
        return page(conn, can_edit=holds(who, CORRECTING_ROLES))

    @router.post("/watchlists", dependencies=[Depends(same_origin)])
    def add(
        conn: Db,
        user: Editor,
        name: Annotated[str, Form(max_length=200)],
        query: Annotated[str, Form(max_length=500)] = "",
        entities: Annotated[str, Form(max_length=2000)] = "",
        recipients: Annotated[str, Form(max_length=2000)] = "",
        interval: Annotated[str, Form(max_length=10)] = "60",
    ) -> Any:
        form = {
            "name": name,
            "query": query,
            "entities": entities,
            "recipients": recipients,
            "interval": interval,
        }
        try:
            minutes = int(interval.strip() or "60")
        except ValueError:
            return HTMLResponse(page(conn, f"interval: {interval!r} is not a number of minutes", form), 400)
        try:
            store.add(
                conn,
                name,
                query=query,
                entity_ids=_split(entities),
                recipients=_split(recipients),
                interval_minutes=minutes,
                created_by=user_name(user),
            )
        except InputError as exc:
            conn.rollback()
            return HTMLResponse(page(conn, str(exc), form), status_code=400)
        return RedirectResponse("watchlists", status_code=303)

    @router.post("/watchlists/{watch_id}/remove", dependencies=[Depends(same_origin)])
    def remove(watch_id: int, conn: Db, user: Editor) -> Any:
        store.remove(conn, str(watch_id))
        return RedirectResponse("../../watchlists", status_code=303)

    return router


def _split(value: str) -> list[str]:
    """'KZ, org:osce' or one per line → ['KZ', 'org:osce']"""
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
