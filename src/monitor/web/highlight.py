"""The article page's text with the matched evidence words marked: pure, text and spans in, HTML out.

The text is untrusted (anyone's article), so the HTML is built only by escaping the segments between
offsets and putting our own `<mark>` tags around them: no piece of the text is ever inserted raw.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from monitor.extract.normalize import normalize_whitespace
from monitor.models import StoredArticle

# (start, end, label): a matched span of the text and the topic it is evidence for.
Mark = tuple[int, int, str]


def marked(text: str, marks: Iterable[Mark]) -> Markup:
    """`text` escaped, with each marked stretch in `<mark title="topics">`. Spans of several topics
    may overlap: each stretch lists every topic covering it. Spans outside the text are ignored (a
    stored row that does not fit its text must not break the page)."""
    valid = [(s, e, label) for s, e, label in marks if 0 <= s < e <= len(text)]
    cuts = sorted({0, len(text), *(s for s, _, _ in valid), *(e for _, e, _ in valid)})
    out: list[str] = []
    for start, end in itertools.pairwise(cuts):
        labels = sorted({label for s, e, label in valid if s <= start and end <= e})
        piece = escape(text[start:end])
        if labels:
            out.append(f'<mark title="{escape("; ".join(labels))}">{piece}</mark>')
        else:
            out.append(str(piece))
    return Markup("".join(out))


def paragraphs(text: str, marks: Sequence[Mark]) -> list[Markup]:
    """The clean text as HTML paragraphs (blank-line separated, as the page showed it before), each
    marked; a span crossing a paragraph break is cut there."""
    out: list[Markup] = []
    pos = 0
    for part in text.split("\n\n"):
        start, end = pos, pos + len(part)
        pos = end + 2
        if not part.strip():
            continue
        inside = [
            (max(s, start) - start, min(e, end) - start, label)
            for s, e, label in marks
            if s < end and start < e
        ]
        out.append(marked(part, inside))
    return out


def article_marks(article: StoredArticle) -> tuple[Markup, list[Markup]]:
    """The article's title and text paragraphs with every topic's evidence marked. Spans index the
    normalised title (what the classifier read) and the clean text; old rows have no spans and give
    the plain escaped text."""
    title_marks: list[Mark] = []
    text_marks: list[Mark] = []
    for topic in article.topics:
        for ev in topic.evidence:
            for zone, start, end in ev.spans:
                (title_marks if zone == "title" else text_marks).append((start, end, topic.label))
    return marked(normalize_whitespace(article.title), title_marks), paragraphs(article.text, text_marks)
