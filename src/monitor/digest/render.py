"""Render a `Digest` as e-mail HTML and as plain text, and make its subject line.

Pure formatting of what `build.py` decided: no ordering or filtering happens here, so the two formats
always carry the same content. Article text is untrusted (it comes from feeds and web pages):
the HTML template is autoescaped, and only http(s) URLs ever become links.
"""

from __future__ import annotations

import base64
import datetime as dt
import textwrap
from functools import lru_cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from monitor.digest.build import Digest, DigestStory, EntryTopic, Person, TopicIndex

# Plain-text mail readers assume ~80 columns; 78 leaves room for quoting ("> ") in replies.
TEXT_WIDTH = 78
# Topics named in the subject: enough to triage from the inbox list, short enough not to be cut.
SUBJECT_TOPICS = 3


# The workbench's pages, relative to /security-monitor/digests/{day} (the page variant's bar).
PAGE_NAV = (
    ("Digests", "../digests"),
    ("Search", "../search"),
    ("Stories", "../stories"),
    ("Trends", "../trends"),
    ("Feeds", "../feeds"),
    ("Quality", "../quality"),
    ("Watch-lists", "../watchlists"),
)


def render_html(
    digest: Digest,
    chart_cid: str | None = None,
    *,
    chart_png: bytes | None = None,
    article_href: str | None = None,
    nav: bool = False,
) -> str:
    """The HTML digest: the mail by default, the workbench page with the keyword options.

    With `chart_cid`, an `<img src="cid:…">` above the summary tables: the caller attaches the image
    under that Content-ID (mail.build_digest_message) and passes a cid only when the digest has topics
    to chart. With `chart_png` instead, the image is inlined as a data: URL (the page variant; its
    CSP must allow `img-src data:`). `article_href` (e.g. "../articles/{id}") makes each article
    title link to the article's page instead of its outlet URL; `nav` adds the workbench's
    navigation bar. None of them set gives exactly the layout without a chart.
    """
    if chart_cid and chart_png:
        raise ValueError("render_html: give chart_cid (mail) or chart_png (page), not both")
    chart_src = None
    if chart_cid:
        chart_src = f"cid:{chart_cid}"
    elif chart_png:
        chart_src = "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii")
    template = _environment().get_template("digest.html.j2")
    return template.render(
        d=digest,
        width=TEXT_WIDTH,
        chart_src=chart_src,
        article_href=article_href,
        nav=PAGE_NAV if nav else (),
    )


def render_text(digest: Digest) -> str:
    text = _environment().get_template("digest.txt.j2").render(d=digest, width=TEXT_WIDTH)
    # Sections end with a blank separator line; the message itself ends with exactly one newline.
    return text.rstrip("\n") + "\n"


def digest_subject(digest: Digest) -> str:
    """'Security digest 2026-11-26: 42 articles, terrorism 12, armed conflict 9'"""
    head = f"Security digest {digest.date.isoformat()}"
    if digest.empty:
        return f"{head}: no articles"
    noun = "article" if digest.total_articles == 1 else "articles"
    parts = [f"{digest.total_articles} {noun}"]
    # Most frequent topics first; the stable sort keeps taxonomy order among equal counts.
    top = sorted(digest.by_topic, key=lambda t: -t.article_count)[:SUBJECT_TOPICS]
    parts += [f"{_lower_label(t.label)} {t.article_count}" for t in top]
    return f"{head}: {', '.join(parts)}"


def _lower_label(label: str) -> str:
    """'Armed conflict' -> 'armed conflict', but 'CBRN threats' stays: only a capitalised word is lowered."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("monitor.digest", "templates"),
        # Autoescape by the template's real extension: the .j2 suffix would defeat select_autoescape.
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap
    env.filters["http_url"] = _http_url
    env.filters["local"] = _local
    env.filters["hours"] = _hours
    env.filters["score"] = _score
    env.filters["person"] = _person
    env.filters["story_meta"] = _story_meta
    env.filters["topic"] = _topic
    env.filters["countries"] = _countries
    env.filters["uncovered"] = _uncovered
    env.filters["topic_counts"] = _topic_counts
    env.filters["story_ref"] = lambda n: f"#{n}"
    env.filters["ljust"] = lambda s, n: str(s).ljust(n)
    env.filters["rjust"] = lambda s, n: str(s).rjust(n)
    return env


def _wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """textwrap.fill that never breaks a word or URL (a broken URL is a dead link).

    "term ×5" is glued with a placeholder while wrapping so a count never starts a line on its own.
    """
    glued = text.replace(" ×", _GLUE + "×")
    filled = textwrap.fill(
        glued,
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return filled.replace(_GLUE, " ")


# Not whitespace for textwrap, one column wide like the space it stands for; never in real text.
_GLUE = "\x00"


def _http_url(url: str | None) -> str | None:
    """The URL if it is safe to link (http/https), else None: no javascript: or data: hrefs."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def _local(moment: dt.datetime) -> str:
    """'2026-03-29 00:00 CET (UTC+01:00)': the abbreviation alone is ambiguous, the offset is not."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def _hours(digest: Digest) -> int:
    # Through UTC: datetimes sharing one tzinfo subtract as wall-clock times (always 24 h).
    span = digest.window_end.astimezone(dt.UTC) - digest.window_start.astimezone(dt.UTC)
    return round(span.total_seconds() / 3600)


def _person(person: Person) -> str:
    return f"{person.name} ({person.title})" if person.title else person.name


def _score(value: float) -> str:
    return f"{value:.2f}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _story_meta(story: DigestStory) -> str:
    """'New story, 3 articles from 2 sources: BBC, Reuters' / 'Single article: Reuters'"""
    outlets = ", ".join(story.outlets)
    if story.state is None:
        return f"Single article: {outlets}, {story.lead.time}"
    size = _plural(story.size, "article", "articles")
    sources = _plural(story.source_count, "source", "sources")
    return f"{story.state.capitalize()} story, {size} from {sources}: {outlets}"


def _topic(topic: EntryTopic) -> str:
    """'Terrorism 30.76 (anti-terror* ×4, ISIS ×1)'"""
    evidence = f" ({topic.evidence_text})" if topic.evidence else ""
    return f"{topic.label} {topic.score:.2f}{evidence}"


def _topic_counts(topic: TopicIndex) -> str:
    stories = _plural(topic.story_count, "story", "stories")
    if topic.partial:
        stories = f"at least {stories}"
    return f"{stories}, {_plural(topic.article_count, 'article', 'articles')}"


def _uncovered(digest: Digest) -> str:
    """'Kazakh 3, Uzbek 1'"""
    return ", ".join(f"{name} {n}" for name, n in digest.uncovered)


def _countries(story: DigestStory) -> str:
    """'Tajikistan, Afghanistan, Kazakhstan (+3 more)'"""
    more = f" (+{story.more_countries} more)" if story.more_countries else ""
    return ", ".join(story.countries) + more
