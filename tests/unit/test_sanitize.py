"""The allow-list sanitiser for feed HTML shown in the UI: hostile markup in, nothing active out."""

from __future__ import annotations

import pytest

from monitor.extract.sanitize import sanitize_html

HOSTILE = [
    ("<script>alert(1)</script>", "alert"),
    ('<img src="x" onerror="alert(1)">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:"),
    ('<iframe src="https://evil.example/"></iframe>', "evil.example"),
    ("<style>body{display:none}</style>", "display"),
    ('<p style="background:url(https://track.example/p.gif)">x</p>', "track.example"),
    ('<svg onload="alert(1)"><circle/></svg>', "onload"),
    ("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "onerror"),
    ('<form action="https://evil.example/"><input name="p"></form>', "evil.example"),
    ('<object data="x.swf"></object><embed src="x.swf">', "swf"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "evil.example"),
    ('<base href="https://evil.example/">', "evil.example"),
    ("<!--<script>alert(1)</script>-->", "alert"),
    ('<p onclick="steal()" class="x" id="y">text</p>', "steal"),
]


@pytest.mark.parametrize(("html", "must_not_contain"), HOSTILE)
def test_active_content_is_removed(html: str, must_not_contain: str) -> None:
    cleaned = sanitize_html(html)
    assert must_not_contain.lower() not in cleaned.lower()
    assert "<script" not in cleaned.lower() and " on" not in cleaned.lower()


def test_the_article_structure_and_safe_links_stay() -> None:
    html = (
        '<h2>Attack on checkpoint</h2><p class="lead">Militants <b>attacked</b> a checkpoint.<br>'
        'Details: <a href="https://news.example/a?id=1" target="_blank" onclick="t()">report</a>, '
        '<a href="mailto:desk@news.example">desk</a>.</p><ul><li>12 killed</li><li>3 arrested</li></ul>'
        '<blockquote>"We will respond," the minister said.</blockquote>'
        '<img src="https://cdn.news.example/photo.jpg" alt="the checkpoint">'
    )
    cleaned = sanitize_html(html)
    assert cleaned == (
        "<h2>Attack on checkpoint</h2><p>Militants <b>attacked</b> a checkpoint.<br>Details: "
        '<a href="https://news.example/a?id=1" rel="noopener noreferrer nofollow">report</a>, '
        '<a href="mailto:desk@news.example" rel="noopener noreferrer nofollow">desk</a>.</p>'
        "<ul><li>12 killed</li><li>3 arrested</li></ul>"
        '<blockquote>"We will respond," the minister said.</blockquote>'
    )  # images dropped: showing them would fetch from the source's servers


def test_text_of_unknown_tags_is_kept_and_escaped() -> None:
    assert sanitize_html("<custom-widget>Border &amp; customs</custom-widget> 1 < 2") == (
        "Border &amp; customs 1 &lt; 2"
    )
