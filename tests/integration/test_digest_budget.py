"""The digest's size budget on the sample day, and the workbench page stored with it.

The sample day (the bundled samples, as `monitor demo` ingests them) through the real pipeline and
PostgreSQL: the text part fits one screen of summary plus a few lines per story, the HTML stays small,
each story is shown once, and the page variant (chart inlined, titles linking to the article pages,
navigation bar) is stored beside the mail.
"""

from __future__ import annotations

from importlib import resources

from monitor import pipeline
from monitor.analyze import Models
from monitor.pipeline.run import RunReport
from monitor.settings import Settings
from monitor.store import sources
from monitor.store.db import Connection
from monitor.store.digests import stored_digest

# One screen of summary (header, totals, by-topic and by-country tables: 45 lines) plus about a dozen
# lines per story (title, outlets, link, two lines of the lead's first sentences, topics with their
# three strongest terms, countries, organisations, people, blank), two per topic line of the index
# and per untagged article. Measured on the sample day: 220 lines for 12 stories, 10 topics and 3
# untagged articles (the layout without lede and names: 159; the old layout printed 702 lines).
SUMMARY_LINES = 45
LINES_PER_STORY = 13
# The old layout's HTML was 82 KB for these 15 articles; the story layout is about 20 KB.
SAMPLE_HTML_CHARS = 30_000


def _sample_day(settings: Settings, db: Connection, models: Models) -> RunReport:
    samples = resources.files("monitor") / "samples"
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    for entry in (samples / "inbox").iterdir():
        if entry.is_file():
            (settings.inbox_dir / entry.name).write_bytes(entry.read_bytes())
    feed = settings.home / "samples" / "feed.xml"
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_bytes((samples / "feed.xml").read_bytes())
    sources.add_feed(db, feed.resolve().as_uri(), "Sample Security Wire", settings.feed_interval_minutes)
    db.commit()
    return pipeline.run_once(settings, db, models)


def test_sample_day_digest_meets_its_budget_and_shows_each_story_once(
    db: Connection, settings: Settings, models: Models
) -> None:
    report = _sample_day(settings, db, models)
    digest, text, html = report.digest.digest, report.digest.text, report.digest.html
    assert digest.stories, "the sample day has stories"
    lines = text.splitlines()
    budget = (
        SUMMARY_LINES
        + LINES_PER_STORY * len(digest.stories)
        + 2 * len(digest.by_topic)
        + 2 * digest.other_count
    )
    assert len(lines) <= budget, f"{len(lines)} text lines, budget {budget}"
    assert len(html) <= SAMPLE_HTML_CHARS
    for story in digest.stories:
        heading = f"#{story.number}".ljust(4) + story.title[:30]
        assert sum(line.startswith(heading) for line in lines) == 1, story.title
    # Counts say what they count, and the header of a topic matches its list.
    assert "BY TOPIC (stories / articles;" in text
    for t in digest.by_topic:
        assert t.story_count == len(t.numbers) + len(t.listed) + t.more


def test_page_variant_is_stored_with_chart_links_and_navigation(
    db: Connection, settings: Settings, models: Models
) -> None:
    report = _sample_day(settings, db, models)
    page = stored_digest(db, report.digest.day, "page")
    assert page is not None
    assert 'src="data:image/png;base64,' in page and "cid:" not in page
    first = report.digest.digest.stories[0].lead.article_id
    assert f'href="../articles/{first}"' in page
    for label, href in [("Digests", "../digests"), ("Search", "../search"), ("Watch-lists", "../watchlists")]:
        assert f'<a href="{href}"' in page and label in page
    mail = stored_digest(db, report.digest.day, "html")
    assert mail is not None and "../articles/" not in mail and "data:image" not in mail


def test_chart_counts_articles_per_day_from_the_first_day_with_data(
    db: Connection, settings: Settings, models: Models
) -> None:
    from monitor.pipeline.digest import digest_chart_png
    from monitor.pipeline.trends import topic_labels
    from monitor.store.digests import daily_article_counts

    report = _sample_day(settings, db, models)
    day = report.digest.day
    start, end = report.digest.digest.window_start, report.digest.digest.window_end
    rows = daily_article_counts(db, start, end, settings.timezone)
    # One day of data: the total is the day's articles, not the sum of its tags.
    assert [(d, n) for d, topic, n in rows if topic is None] == [(day, report.digest.digest.total_articles)]
    assert sum(n for _, topic, n in rows if topic) > report.digest.digest.total_articles
    # Counted as the digest shows topics (weak secondaries left out), a topic's line is its
    # "By topic" article count.
    shown = daily_article_counts(
        db,
        start,
        end,
        settings.timezone,
        secondary_ratio=settings.digest_secondary_ratio,
        secondary_min_score=settings.digest_secondary_min_score,
    )
    digest_counts = {t.topic_id: t.article_count for t in report.digest.digest.by_topic}
    assert {topic: n for _, topic, n in shown if topic} == digest_counts
    assert sum(n for _, topic, n in shown if topic) < sum(n for _, topic, n in rows if topic)
    png = digest_chart_png(settings, db, topic_labels(models), day)
    assert png.startswith(b"\x89PNG") and png == digest_chart_png(settings, db, topic_labels(models), day)
