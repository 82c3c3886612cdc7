"""Evidence of the text, end to end: an inbox article is processed and stored, and its page and the
digest show the article's own words (not the taxonomy's terms), marked in the text; a row stored
before forms and positions existed still renders."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from monitor import pipeline
from monitor.analyze import Models
from monitor.settings import Settings
from monitor.store.db import Connection
from monitor.web.app import create_app

# Written for this test: variants of one taxonomy term ("hard drugs"), a multi-word variant of "ISIS",
# a title occurrence, and markup-like text that must stay text.
ARTICLE = {
    "title": "Heroin seized as Islamic State smugglers caught",
    "text": (
        "Border guards seized heroin and opium from a convoy run by smugglers linked to the Islamic "
        "State, officials said.\n\nThe drug trafficking network moved more heroin <b>each week</b> "
        "across the border, and police arrested its leaders."
    ),
}


@pytest.fixture
def client(database_url: str) -> TestClient:
    app = create_app(lambda: database_url, get_user)
    app.dependency_overrides[get_user] = lambda: "analyst"  # stands in for a valid Airflow session
    return TestClient(app)


def _article(settings: Settings, db: Connection, models: Models) -> int:
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "wire.jsonl").write_text(json.dumps(ARTICLE) + "\n", encoding="utf-8")
    pipeline.ingest_inbox(settings, db)
    pipeline.process_pending(settings, db, models)
    with db.cursor() as cur:
        cur.execute("SELECT id FROM articles WHERE status = 'processed'")
        ((article_id,),) = cur.fetchall()
    db.commit()
    return int(article_id)


def test_stored_evidence_has_the_words_and_their_positions(
    db: Connection, settings: Settings, models: Models
) -> None:
    article_id = _article(settings, db, models)
    with db.cursor() as cur:
        cur.execute(
            """SELECT t.evidence, a.clean_text, a.title
                 FROM article_topics t JOIN articles a ON a.id = t.article_id
                WHERE t.article_id = %s AND t.topic_id = 'organised_crime'""",
            (article_id,),
        )
        ((evidence, clean_text, title),) = cur.fetchall()
    drugs = next(e for e in evidence if e["term"] == "hard drugs")
    assert drugs["forms"] == [["heroin", 3], ["opium", 1]]
    for zone, start, end in drugs["spans"]:
        assert (title if zone == "title" else clean_text)[start:end].lower() in ("heroin", "opium")
    assert ["title", 0, 6] in drugs["spans"]


def test_article_page_marks_the_words_of_the_text(
    client: TestClient, db: Connection, settings: Settings, models: Models
) -> None:
    article_id = _article(settings, db, models)
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    html = page.text
    # The topic table: the words as written, the taxonomy term only where it is none of them.
    assert "heroin ×3, opium ×1" in html
    assert "(matched: hard drugs)" in html
    assert "Islamic State ×" in html and "(matched: ISIS)" in html
    assert "cocaine ×" not in html
    # The words are marked where they are, in the title and the text, the topic in the tooltip.
    assert re.search(r'<mark title="[^"]*Organised crime[^"]*">heroin</mark>', html)
    assert re.search(r'<h1><mark title="[^"]*Organised crime[^"]*">Heroin</mark>', html)
    assert re.search(r'<mark title="[^"]*Terrorism[^"]*">Islamic\s+State</mark>', html)
    # The untrusted text stays text: escaped between the marks, never inserted raw.
    assert "&lt;b&gt;each week&lt;/b&gt;" in html and "<b>each week</b>" not in html
    assert html.count("<p>") >= 2  # the paragraphs are kept


def test_digest_shows_the_words_of_the_text(db: Connection, settings: Settings, models: Models) -> None:
    _article(settings, db, models)
    built = pipeline.build_daily_digest(settings, db, models, datetime.now(UTC).date())
    # The digest keeps a story's most frequent words only; those are the article's own.
    assert "heroin ×3" in built.text and "Islamic State ×2" in built.text
    assert "cocaine ×" not in built.text and "ISIS ×" not in built.text


def test_an_old_row_without_forms_or_positions_renders(
    client: TestClient, db: Connection, settings: Settings, models: Models
) -> None:
    article_id = _article(settings, db, models)
    with db.cursor() as cur:
        # What rows stored before this change hold: term, count and weight only.
        cur.execute(
            """UPDATE article_topics SET evidence = (
                   SELECT jsonb_agg(jsonb_build_object('term', e->'term', 'count', e->'count',
                                                       'weight', e->'weight'))
                     FROM jsonb_array_elements(evidence) e)
                WHERE article_id = %s""",
            (article_id,),
        )
    db.commit()
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    assert "hard drugs ×3" not in page.text  # the term with its stored count (heroin ×3 + opium ×1)
    assert "hard drugs ×4" in page.text and "<mark" not in page.text
    assert "heroin" in page.text  # the text itself is shown, unmarked
