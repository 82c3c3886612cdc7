"""Analysts' corrections over a real database: stored with the Airflow user and time, shown at once on
the article page, applied to every later digest, kept when articles are reprocessed, exported as
training data, summed up on the quality page; refused to viewers, anonymous and cross-site requests.

The articles are written here. The rules tag them as the pipeline does: the checkpoint bombing gets
Terrorism and a wrong National security ("defence minist*"), the video game review a wrong Terrorism,
and the funerals join the checkpoint bombing's story.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from monitor import cli, pipeline
from monitor.analyze import Models
from monitor.models import FeedItem
from monitor.settings import Settings
from monitor.store import articles
from monitor.store import corrections as store
from monitor.store.db import Connection
from monitor.web.app import create_app

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)

DOCS = [
    (
        "checkpoint.txt",
        "Suicide bomber kills five at police checkpoint in Kandahar",
        "A suicide bomber blew himself up at a police checkpoint in Kandahar on Tuesday, killing five "
        "officers and wounding eleven, Afghanistan's interior ministry said. Islamic State claimed the "
        "attack in a statement. Interior Minister Ahmad Karimi said counter-terrorism units had arrested "
        "two suspected militants who helped plan the bombing.",
        "Frontier Post",
    ),
    (
        "heroin.txt",
        "Customs officers seize 300 kg of heroin on the Tajik-Afghan border",
        "Tajik customs officers seized 300 kilograms of heroin hidden in a lorry at the Panj crossing on "
        "the border with Afghanistan, the Drug Control Agency said on Wednesday. Investigators believe a "
        "drug trafficking network based in Kunduz organised the smuggling route towards Russia.",
        "Dushanbe Herald",
    ),
    (
        "ransomware.txt",
        "Ransomware attack halts container terminal in Klaipeda",
        "A ransomware attack shut down the computer systems of the container terminal in Klaipeda on "
        "Thursday, Lithuania's National Cyber Security Centre said. Hackers encrypted the servers that "
        "schedule cranes and demanded a ransom in bitcoin; the port said no data had been stolen.",
        "Baltic Times",
    ),
    (
        "game.txt",
        "Shadow Protocol review: a squad hunts a bomb maker",
        "The video game Shadow Protocol lets players lead a counter-terrorism squad that hunts a bomb "
        "maker through a fictional port city. Critics praised its graphics and its soundtrack, and the "
        "studio said a sequel is planned for next year.",
        "Games Weekly",
    ),
    (
        "funerals.txt",
        "Funerals for police officers killed in Kandahar checkpoint bombing",
        "Hundreds of mourners attended the funerals on Wednesday of the five police officers killed in "
        "the suicide bombing at a checkpoint in Kandahar. Islamic State claimed the bombing. Interior "
        "Minister Ahmad Karimi promised to strengthen security at checkpoints across the province.",
        "Kabul Daily",
    ),
]


ALICE = SimpleAuthManagerUser(username="alice", role="user")
SAME_SITE = {"Origin": "http://testserver"}  # the host TestClient sends its requests to


@pytest.fixture
def corpus(db: Connection, settings: Settings, models: Models) -> dict[str, int]:
    """DOCS stored, processed and put in stories as the pipeline does; their ids by file name."""
    for ref, title, text, source in DOCS:
        item = FeedItem(title=title, raw=text, source_name=source)
        articles.insert_items(db, source_id=None, origin="inbox", items=[(item, ref)], seen_at=T0)
    db.commit()
    assert pipeline.process_pending(settings, db, models).processed == len(DOCS)
    pipeline.assign_stories(settings, db)
    with db.cursor() as cur:
        cur.execute("SELECT origin_ref, id FROM articles")
        ids = {ref.removesuffix(".txt"): i for ref, i in cur.fetchall()}
    db.commit()
    assert topics(db, ids["checkpoint"]) == {"terrorism", "national_security"}
    assert topics(db, ids["game"]) == {"terrorism"}
    assert story(db, ids["funerals"]) == ids["checkpoint"]
    return ids


@pytest.fixture
def app(database_url: str):  # type: ignore[no-untyped-def]
    app = create_app(lambda: database_url, get_user)
    app.dependency_overrides[get_user] = lambda: ALICE  # stands in for Alice's Airflow session
    return app


@pytest.fixture
def client(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app)


def topics(db: Connection, article_id: int) -> set[str]:
    with db.cursor() as cur:
        cur.execute("SELECT topic_id FROM article_topics WHERE article_id = %s", (article_id,))
        found = {r[0] for r in cur.fetchall()}
    db.commit()
    return found


def entities(db: Connection, article_id: int) -> dict[str, str]:
    with db.cursor() as cur:
        cur.execute(
            """SELECT e.id, e.name FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                WHERE ae.article_id = %s""",
            (article_id,),
        )
        found = dict(cur.fetchall())
    db.commit()
    return found


def story(db: Connection, article_id: int) -> int | None:
    with db.cursor() as cur:
        cur.execute("SELECT story_id FROM articles WHERE id = %s", (article_id,))
        row = cur.fetchone()
    db.commit()
    return row[0] if row else None


def correct(client: TestClient, article_id: int, **form: str) -> str:
    """Post a correction as the article page's form does; the article page it leads back to."""
    answer = client.post(
        f"/articles/{article_id}/feedback", data=form, headers=SAME_SITE, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"../{article_id}#feedback"
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200
    return page.text


def digest_text(settings: Settings, db: Connection, models: Models) -> str:
    return pipeline.build_daily_digest(settings, db, models, T0.date()).text


def section(text: str, heading: str) -> str:
    """The digest text from a topic's heading line to the next heading (a line of capitals)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading.upper()))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.fullmatch(r"[A-Z][A-Z ,-]+ \(\d+\)", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start:end])


def test_each_correction_is_stored_with_the_user_and_time_and_shown_at_once(
    client: TestClient, db: Connection, corpus: dict[str, int]
) -> None:
    checkpoint, game, funerals = corpus["checkpoint"], corpus["game"], corpus["funerals"]
    before = datetime.now(UTC)

    page = correct(client, checkpoint, action="topic_reject", topic_id="national_security")
    assert "<s>National security</s></td><td>rejected by alice</td>" in page
    assert "National security 2.5" not in page  # no longer among the article's topics
    assert "Latest: alice rejected topic National security" in page
    assert topics(db, checkpoint) == {"terrorism"}

    page = correct(client, checkpoint, action="topic_confirm", topic_id="terrorism", note="IS claimed it")
    assert "<td>Terrorism</td>\n<td>confirmed by alice</td>" in page
    assert "alice (user): confirmed topic Terrorism, “IS claimed it”" in page

    page = correct(client, checkpoint, action="topic_add", topic_id="violent_extremism")
    assert "<td>Violent extremism and radicalisation</td>\n<td>added by alice</td>" in page
    assert "added by alice ×1" in page  # its evidence in the topics table names the analyst
    assert topics(db, checkpoint) == {"terrorism", "violent_extremism"}

    page = correct(client, game, action="irrelevant")
    assert "Marked irrelevant</strong> by alice" in page and "No security topic." in page
    assert topics(db, game) == set()
    page = correct(client, game, action="relevant")
    assert "Marked irrelevant" not in page and topics(db, game) == {"terrorism"}
    correct(client, game, action="irrelevant")

    page = correct(
        client,
        checkpoint,
        action="entity_rename",
        entity_id="org:isis",
        name="Islamic State Khorasan Province",
    )
    renamed = "analyst:organisation:islamic-state-khorasan-province"
    assert f'title="organisation {renamed}">Islamic State Khorasan Province</span>' in page
    assert 'title="organisation org:isis"' not in page
    assert entities(db, checkpoint)[renamed] == "Islamic State Khorasan Province"
    assert "org:isis" in entities(db, funerals)  # in this article only

    kandahar = next(e for e, name in entities(db, funerals).items() if name == "Kandahar")
    page = correct(client, funerals, action="entity_reject", entity_id=kandahar)
    assert f'title="place {kandahar}"' not in page and "rejected entity Kandahar" in page

    page = correct(client, funerals, action="story_split")
    assert f"split the article out of story {checkpoint} into story {funerals}" in page
    assert story(db, funerals) == funerals and story(db, checkpoint) == checkpoint
    page = correct(client, funerals, action="story_merge", story_id=str(checkpoint))
    assert f"merged story {funerals} into story {checkpoint}" in page
    assert "story of 2 articles from 2 sources" in page
    with db.cursor() as cur:
        cur.execute("SELECT id, article_count FROM stories ORDER BY id")
        assert dict(cur.fetchall())[checkpoint] == 2
        cur.execute("SELECT 1 FROM stories WHERE id = %s", (funerals,))
        assert cur.fetchone() is None
        cur.execute("SELECT kind, user_name, user_role, created_at FROM corrections ORDER BY id")
        rows = cur.fetchall()
    db.commit()
    assert [r[0] for r in rows] == [
        "topic_reject",
        "topic_confirm",
        "topic_add",
        "irrelevant",
        "relevant",
        "irrelevant",
        "entity_rename",
        "entity_reject",
        "story_split",
        "story_merge",
    ]
    assert {(r[1], r[2]) for r in rows} == {("alice", "user")}
    assert all(before - timedelta(seconds=5) <= r[3] <= datetime.now(UTC) for r in rows)

    # The redirect leads back to the article page, where the result shows.
    followed = client.post(
        f"/articles/{checkpoint}/feedback",
        data={"action": "topic_reject", "topic_id": "violent_extremism"},
        headers=SAME_SITE,
    )
    assert followed.status_code == 200 and str(followed.url).endswith(f"/articles/{checkpoint}#feedback")
    assert "Latest: alice rejected topic Violent extremism and radicalisation" in followed.text
    # A correction that cannot apply says why, and nothing is recorded.
    for form, reason in (
        ({"action": "topic_reject", "topic_id": "cyber"}, "has no topic 'cyber' to reject"),
        ({"action": "topic_add", "topic_id": "piracy"}, "'piracy' is not a topic of the taxonomy"),
        ({"action": "story_merge", "story_id": "99999"}, "story 99999: no such story"),
        ({"action": "story_merge", "story_id": "x"}, "'x' is not a story number"),
        ({"action": "entity_rename", "entity_id": "org:isis", "name": " "}, "name: empty"),
        ({"action": "launch"}, "action: 'launch' is none of"),
    ):
        answer = client.post(f"/articles/{checkpoint}/feedback", data=form, headers=SAME_SITE)
        assert answer.status_code == 400 and reason in html.unescape(answer.text), (form, answer.text)
    assert (
        client.post("/articles/999999/feedback", data={"action": "irrelevant"}, headers=SAME_SITE).status_code
        == 400
    )
    assert len(store.recent(db, 100)) == 11


def test_a_correction_changes_the_next_digest(
    client: TestClient, db: Connection, settings: Settings, models: Models, corpus: dict[str, int]
) -> None:
    first = digest_text(settings, db, models)
    assert "5 articles in this window" in first
    assert "Suicide bomber kills five" in section(first, "NATIONAL SECURITY")
    assert "Shadow Protocol review" in section(first, "TERRORISM")
    assert "Violent extremism" not in first

    correct(client, corpus["checkpoint"], action="topic_reject", topic_id="national_security")
    correct(client, corpus["checkpoint"], action="topic_add", topic_id="violent_extremism")
    correct(client, corpus["game"], action="irrelevant")
    correct(client, corpus["checkpoint"], action="entity_rename", entity_id="org:isis", name="ISKP")

    text = digest_text(settings, db, models)
    assert "Organisations: ISKP" in section(text, "TERRORISM")
    assert "National security" not in text and "NATIONAL SECURITY" not in text
    assert "Suicide bomber kills five" in section(text, "VIOLENT EXTREMISM AND RADICALISATION")
    assert "Shadow Protocol" not in text  # irrelevant: not in a topic, not among the other articles
    assert "4 articles in this window" in text
    assert "Suicide bomber kills five" in section(text, "TERRORISM")


def test_a_storys_first_article_split_out_leaves_the_rest_a_story_of_their_own(
    client: TestClient, db: Connection, corpus: dict[str, int]
) -> None:
    checkpoint, funerals = corpus["checkpoint"], corpus["funerals"]
    page = correct(client, checkpoint, action="story_split")
    assert f"split the rest of story {checkpoint} off into story {funerals}" in page
    # A story's id is the id of its first article: the funerals are a story of their own now.
    assert (story(db, checkpoint), story(db, funerals)) == (checkpoint, funerals)
    with db.cursor() as cur:
        cur.execute("SELECT id, article_count FROM stories WHERE id IN (%s, %s)", (checkpoint, funerals))
        assert dict(cur.fetchall()) == {checkpoint: 1, funerals: 1}
    db.commit()
    answer = client.post(f"/articles/{funerals}/feedback", data={"action": "story_split"}, headers=SAME_SITE)
    assert answer.status_code == 400 and "is already a story of its own" in answer.text


def test_corrections_survive_reprocessing(
    client: TestClient, db: Connection, settings: Settings, models: Models, corpus: dict[str, int]
) -> None:
    checkpoint, game, funerals, heroin = (corpus[k] for k in ("checkpoint", "game", "funerals", "heroin"))
    correct(client, checkpoint, action="topic_reject", topic_id="national_security")
    correct(client, checkpoint, action="topic_add", topic_id="violent_extremism")
    correct(client, game, action="irrelevant")
    correct(client, checkpoint, action="entity_rename", entity_id="org:isis", name="ISKP")
    kandahar = next(e for e, name in entities(db, funerals).items() if name == "Kandahar")
    correct(client, funerals, action="entity_reject", entity_id=kandahar)
    correct(client, heroin, action="story_merge", story_id=str(checkpoint))

    def state() -> tuple:
        ids = sorted(corpus.values())
        return tuple((i, sorted(topics(db, i)), sorted(entities(db, i).items()), story(db, i)) for i in ids)

    corrected, corrected_digest = state(), digest_text(settings, db, models)
    assert story(db, heroin) == checkpoint

    # Reprocessing: every article back to `new`, then the real processing path and story assignment.
    with db.cursor() as cur:
        cur.execute("UPDATE articles SET status = 'new'")
    db.commit()
    assert pipeline.process_pending(settings, db, models).processed == len(DOCS)
    pipeline.assign_stories(settings, db)

    assert state() == corrected
    assert topics(db, checkpoint) == {"terrorism", "violent_extremism"}
    assert topics(db, game) == set()
    assert "ISKP" in entities(db, checkpoint).values() and "org:isis" not in entities(db, checkpoint)
    assert kandahar not in entities(db, funerals)
    assert digest_text(settings, db, models) == corrected_digest
    page = client.get(f"/articles/{checkpoint}").text
    assert "<s>National security</s></td><td>rejected by alice</td>" in page
    assert "ISKP</span>" in page


def test_feedback_export_is_training_data(
    client: TestClient,
    db: Connection,
    corpus: dict[str, int],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkpoint, game, funerals = corpus["checkpoint"], corpus["game"], corpus["funerals"]
    correct(client, checkpoint, action="topic_reject", topic_id="national_security")
    correct(client, checkpoint, action="topic_confirm", topic_id="terrorism")
    correct(client, checkpoint, action="topic_add", topic_id="violent_extremism")
    correct(client, game, action="irrelevant")
    correct(client, funerals, action="story_split")

    monkeypatch.setenv("MONITOR_DATABASE_URL", database_url)
    out = tmp_path / "feedback.jsonl"
    assert cli.main(["feedback", "export", "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == sorted([checkpoint, game, funerals])
    by_id = {x["id"]: x for x in lines}
    with db.cursor() as cur:
        cur.execute("SELECT clean_text FROM articles WHERE id = %s", (checkpoint,))
        (text,) = cur.fetchone()
    db.commit()

    bomb = by_id[checkpoint]
    assert bomb["title"] == "Suicide bomber kills five at police checkpoint in Kandahar"
    assert bomb["text"] == text and bomb["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert bomb["relevant"] is True
    assert bomb["topics"] == ["terrorism", "violent_extremism"]
    assert bomb["rule_topics"] == ["national_security", "terrorism"]
    assert bomb["from_analysts"]["relevant"] is True
    assert bomb["from_analysts"]["topics"] == {
        "national_security": "rejected",
        "terrorism": "confirmed",
        "violent_extremism": "added",
    }
    assert bomb["analysts"] == ["alice"] and bomb["language"] == "en"

    review = by_id[game]
    assert (review["relevant"], review["topics"], review["rule_topics"]) == (False, [], ["terrorism"])
    assert review["from_analysts"]["relevant"] is False
    assert review["from_analysts"]["topics"] == {"terrorism": "rejected"}

    split = by_id[funerals]
    assert split["topics"] == ["terrorism"] and split["from_analysts"]["topics"] == {}
    assert split["from_analysts"]["relevant"] is None  # relevance as the rules said
    assert split["from_analysts"]["stories"] == [{"kind": "split", "from": checkpoint, "to": funerals}]


def table_rows(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table is not None, html
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows
    ][1:]


def test_the_quality_page_shows_precision_per_topic(client: TestClient, app, corpus: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    assert "No corrections yet" in client.get("/quality").text
    correct(client, corpus["checkpoint"], action="topic_confirm", topic_id="terrorism")
    correct(client, corpus["funerals"], action="topic_confirm", topic_id="terrorism")
    correct(client, corpus["checkpoint"], action="topic_reject", topic_id="national_security")
    correct(client, corpus["checkpoint"], action="topic_add", topic_id="violent_extremism")
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="omar", role="op")
    correct(client, corpus["game"], action="irrelevant")  # rejects its Terrorism tag

    page = client.get("/quality").text
    # Precision = confirmed / (confirmed + rejected); 95 % Wilson intervals worked out by hand:
    # 2 of 3: (0.667 + 1.921/3) / (1 + 3.842/3) ± 1.96 √(0.667·0.333/3 + 3.842/36) / 2.281 = 0.21–0.94;
    # 0 of 1: 0.397 ± 0.397 = 0–0.79.
    assert table_rows(page, "precision") == [
        ["National security", "0", "1", "0 %", "0–79 %", "0"],
        ["Terrorism", "2", "1", "67 %", "21–94 %", "0"],
        ["Violent extremism and radicalisation", "0", "0", "–", "–", "1"],
    ]
    recent = table_rows(page, "recent")
    assert [(r[1], r[3]) for r in recent] == [
        ("omar (op)", "marked the article irrelevant"),
        ("alice (user)", "added topic Violent extremism and radicalisation"),
        ("alice (user)", "rejected topic National security"),
        ("alice (user)", "confirmed topic Terrorism"),
        ("alice (user)", "confirmed topic Terrorism"),
    ]
    assert recent[0][2] == "Shadow Protocol review: a squad hunts a bomb maker"
    assert f'href="articles/{corpus["game"]}"' in page


def test_only_logged_in_users_who_may_correct_can_and_only_from_this_site(
    app, client: TestClient, db: Connection, corpus: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    checkpoint = corpus["checkpoint"]
    reject = {"action": "topic_reject", "topic_id": "national_security"}
    # A viewer reads but cannot correct; a user without a role neither.
    for user in (
        SimpleAuthManagerUser(username="vera", role="viewer"),
        SimpleAuthManagerUser(username="nobody", role=None),
    ):
        app.dependency_overrides[get_user] = lambda user=user: user
        answer = client.post(f"/articles/{checkpoint}/feedback", data=reject, headers=SAME_SITE)
        assert answer.status_code == 403
        assert "it needs the role user or op or admin" in answer.json()["detail"]
        assert client.get(f"/articles/{checkpoint}").status_code == 200
        assert client.get("/quality").status_code == 200
    assert store.for_article(db, checkpoint) == [] and "national_security" in topics(db, checkpoint)

    # From another site, or from nowhere a browser would say: refused, whoever is logged in.
    app.dependency_overrides[get_user] = lambda: ALICE
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://testserver.evil.example"},
        {},
    ):
        answer = client.post(f"/articles/{checkpoint}/feedback", data=reject, headers=headers)
        assert answer.status_code == 403, headers
        assert answer.json()["detail"].startswith("refused:")
    assert store.for_article(db, checkpoint) == []
    # A browser that sends no Origin but a Referer of this site is let through.
    answer = client.post(
        f"/articles/{checkpoint}/feedback",
        data=reject,
        headers={"Referer": f"http://testserver/articles/{checkpoint}"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    # Op and admin may correct too.
    for role in ("op", "admin"):
        app.dependency_overrides[get_user] = lambda role=role: SimpleAuthManagerUser(username=role, role=role)
        page = correct(client, checkpoint, action="topic_confirm", topic_id="terrorism")
        assert f"confirmed by {role}" in page


def test_anonymous_requests_get_nothing(database_url: str, corpus: dict[str, int]) -> None:
    from airflow.api_fastapi.app import create_auth_manager

    create_auth_manager()  # what the api-server does at start; it checks tokens
    client = TestClient(create_app(lambda: database_url, get_user))
    checkpoint = corpus["checkpoint"]
    answer = client.post(
        f"/articles/{checkpoint}/feedback",
        data={"action": "topic_reject", "topic_id": "terrorism"},
        headers=SAME_SITE,
    )
    assert answer.status_code == 401
    assert client.get("/quality").status_code == 401
    client.cookies.set("_token", "not-a-jwt")
    assert client.get("/quality").status_code == 403
    assert (
        client.post(
            f"/articles/{checkpoint}/feedback", data={"action": "irrelevant"}, headers=SAME_SITE
        ).status_code
        == 403
    )
