"""The article page's marking of evidence: escaping between offsets, overlaps, bad spans."""

from __future__ import annotations

from monitor.web.highlight import marked, paragraphs


def test_text_between_marks_is_escaped_and_marks_carry_the_topic() -> None:
    text = 'A <script>x</script> bomb & "ISIS"'
    start = text.index("bomb")
    html = marked(text, [(start, start + 4, 'Terror <"ism">')])
    assert str(html) == (
        "A &lt;script&gt;x&lt;/script&gt; "
        '<mark title="Terror &lt;&#34;ism&#34;&gt;">bomb</mark> &amp; &#34;ISIS&#34;'
    )


def test_overlapping_topics_share_a_mark_and_bad_spans_are_ignored() -> None:
    text = "car bomb attack"
    html = str(marked(text, [(0, 8, "Terrorism"), (4, 15, "Armed conflict"), (5, 99, "X"), (3, 3, "Y")]))
    assert html == (
        '<mark title="Terrorism">car </mark><mark title="Armed conflict; Terrorism">bomb</mark>'
        '<mark title="Armed conflict"> attack</mark>'
    )


def test_paragraphs_keep_offsets_and_cut_a_span_at_a_break() -> None:
    text = "First heroin.\n\nSecond opium\n\nThird"
    h, o = text.index("heroin"), text.index("opium")
    parts = [str(p) for p in paragraphs(text, [(h, h + 6, "Crime"), (o, len(text), "Crime")])]
    assert parts == [
        'First <mark title="Crime">heroin</mark>.',
        'Second <mark title="Crime">opium</mark>',
        '<mark title="Crime">Third</mark>',
    ]
