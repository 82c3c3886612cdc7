"""Analysts' corrections on the article page, and the quality page that sums them up.

POST /articles/{id}/feedback records one correction (store/corrections.py) under the Airflow user and
role, applies it at once and answers 303 back to the article page, where the panel shows it. Only
the roles that may correct (`CORRECTING_ROLES`) get that far: a viewer gets 403, a request without an
Airflow session Airflow's 401 (the app's own dependency). Every state-changing request must come from
this site: its Origin (or, without one, its Referer) must name the host the request was sent to, so
another site cannot make a logged-in analyst's browser post a correction (403 otherwise).

GET /quality: per-topic precision of the rules' tags from the corrections, and the latest corrections.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

from monitor.classify.rules import default_taxonomy_text
from monitor.classify.taxonomy import Taxonomy, parse_taxonomy
from monitor.models import StoredArticle
from monitor.store import corrections as store
from monitor.store.db import Connection, connect
from monitor.web.auth import require_role, same_origin, user_name, user_roles

# Airflow's roles that may correct: everyone but a viewer (SimpleAuthManager: viewer < user < op <
# admin; FAB's default role names are the same words).
CORRECTING_ROLES = ("user", "op", "admin")
RECENT_LISTED = 50
ACTIONS = (
    "topic_confirm",
    "topic_reject",
    "topic_add",
    "irrelevant",
    "relevant",
    "entity_rename",
    "entity_reject",
    "story_merge",
    "story_split",
)


@lru_cache(maxsize=1)
def _taxonomy() -> Taxonomy:
    return parse_taxonomy(default_taxonomy_text(), source="monitor/classify/taxonomies/security.yaml")


@dataclass(frozen=True)
class Panel:
    """What the corrections panel of an article page shows."""

    irrelevant: store.Correction | None
    confirmed: dict[str, store.Correction]
    rejected: list[store.Correction]
    added: dict[str, store.Correction]
    addable: list[tuple[str, str]]  # taxonomy topics the article does not have: (id, label)
    history: list[store.Correction]  # newest first


def panel(conn: Connection, a: StoredArticle) -> Panel:
    history = store.for_article(conn, a.id)
    state = store.topic_state(history)
    have = {t.topic_id for t in a.topics}
    addable = [(t.id, t.label) for t in _taxonomy().topics if t.id not in have]
    return Panel(
        irrelevant=state.irrelevant,
        confirmed=state.confirmed,
        rejected=sorted(state.rejected.values(), key=lambda c: c.id),
        added=state.added,
        addable=sorted(addable, key=lambda t: t[1]),
        history=history,
    )


def create_router(
    database: Callable[[], Iterator[Connection]], dsn: Callable[[], str], env: Environment
) -> APIRouter:
    """The routes, on the app's connection dependency; `env` (the app's templates) gets the
    `feedback_panel(article)` function that `_feedback.html.j2` calls on the article page."""
    router = APIRouter()
    Db = Annotated[Connection, Depends(database)]  # a type alias, named like one
    Corrector = Annotated[Any, Depends(require_role(*CORRECTING_ROLES))]

    def feedback_panel(a: StoredArticle) -> Panel:
        # Its own short connection: the article route renders the page after its reads.
        conn = connect(dsn())
        try:
            return panel(conn, a)
        finally:
            conn.rollback()
            conn.close()

    env.globals["feedback_panel"] = feedback_panel

    @router.post("/articles/{article_id}/feedback", dependencies=[Depends(same_origin)])
    def feedback(
        article_id: int,
        conn: Db,
        user: Corrector,
        action: Annotated[str, Form(max_length=40)],
        topic_id: Annotated[str, Form(max_length=100)] = "",
        entity_id: Annotated[str, Form(max_length=300)] = "",
        name: Annotated[str, Form(max_length=400)] = "",
        story_id: Annotated[str, Form(max_length=30)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Any:
        roles = user_roles(user)
        who = store.Analyst(user_name(user), ",".join(sorted(roles)) or None)
        try:
            _record(conn, article_id, who, action, topic_id, entity_id, name, story_id, note)
        except store.CorrectionError as exc:
            conn.rollback()
            page = env.get_template("feedback_error.html.j2").render(
                error=str(exc), article_id=article_id, root="../../"
            )
            return HTMLResponse(page, status_code=400)
        conn.commit()
        # Back to the article page (…/articles/{id}), where the panel lists the correction first.
        return RedirectResponse(f"../{article_id}#feedback", status_code=303)

    @router.get("/quality", response_class=HTMLResponse)
    def quality(conn: Db) -> str:
        precision = store.topic_precision(conn)
        recent = store.recent(conn, RECENT_LISTED)
        return env.get_template("quality.html.j2").render(precision=precision, recent=recent, root="")

    return router


def _record(
    conn: Connection,
    article_id: int,
    who: store.Analyst,
    action: str,
    topic_id: str,
    entity_id: str,
    name: str,
    story_id: str,
    note: str,
) -> str:
    topics = {t.id: t for t in _taxonomy().topics}
    if action not in ACTIONS:
        raise store.CorrectionError(f"action: {action!r} is none of {', '.join(ACTIONS)}")
    if action.startswith("topic_"):
        if not topic_id:
            raise store.CorrectionError("topic_id: missing")
        if action == "topic_add":
            topic = topics.get(topic_id)
            if topic is None:
                raise store.CorrectionError(f"topic_id: {topic_id!r} is not a topic of the taxonomy")
            return store.add_topic(
                conn, article_id, topic_id, who, label=topic.label, threshold=topic.threshold, note=note
            )
        if action == "topic_confirm":
            return store.confirm_topic(conn, article_id, topic_id, who, note)
        return store.reject_topic(conn, article_id, topic_id, who, note)
    if action == "irrelevant":
        return store.mark_irrelevant(conn, article_id, who, note)
    if action == "relevant":
        return store.mark_relevant(conn, article_id, who, note)
    if action.startswith("entity_"):
        if not entity_id:
            raise store.CorrectionError("entity_id: missing")
        if action == "entity_rename":
            return store.rename_entity(conn, article_id, entity_id, name, who, note)
        return store.reject_entity(conn, article_id, entity_id, who, note)
    if action == "story_merge":
        try:
            target = int(story_id.strip().lstrip("#"))
        except ValueError:
            raise store.CorrectionError(f"story_id: {story_id!r} is not a story number") from None
        return store.merge_story(conn, article_id, target, who, note)
    return store.split_story(conn, article_id, who, note)
