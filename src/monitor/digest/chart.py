"""Charts for the digest e-mail, as PNG bytes.

Pure: numbers in, bytes out; no files, no network, no environment. The same input gives the same
bytes (the digest promise "rendering twice gives the same bytes" extends to the attachment), which
holds because the figure size, fonts and style are all fixed here and the PNG carries no metadata.

matplotlib is imported inside the functions: it costs about half a second and tens of MB, and DAG
files and the CLI import this package on every parse/start. Only the Agg backend is used (through
`FigureCanvasAgg` directly, never `pyplot`), so no display, GUI toolkit or global figure registry is
involved and figures are freed as soon as they go out of scope.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# E-mail layout: the HTML digest column is 680 px with 24 px padding, so 600 px fits every client
# without scaling; 100 dpi makes inches-to-pixels trivial (6.0 in = 600 px).
WIDTH_PX = 600
DPI = 100

# The digest's palette (templates/digest.html.j2): navy headings, grey text.
NAVY = "#1e3a5f"
TEXT = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
# Series colours for the multi-topic chart: navy first, then distinguishable, colour-blind-safe hues
# (Okabe-Ito order, slightly muted) so a stacked bar still reads when printed in grey.
SERIES_COLOURS = (
    "#1e3a5f",
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#d55e00",
    "#cc79a7",
    "#f0e442",
    "#0072b2",
    "#999999",
    "#6b4c9a",
    "#8c564b",
    "#17becf",
)

# Fixed rc settings: the caller's matplotlibrc or style must not change our bytes.
_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: same glyphs everywhere, covers Cyrillic
    "font.size": 10,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "xtick.color": MUTED,
    "ytick.color": TEXT,
    "axes.edgecolor": GRID,
    "svg.hashsalt": "monitor",  # unused for PNG; pinned so a future SVG variant is deterministic too
    "path.simplify": True,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's defaults plus our fixed settings, whatever the process configured before.

    rcParams are process-global, so this is not thread-safe; digest rendering runs once per task
    process, never concurrently.
    """
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # undone on exit by the outer rc_context
        with matplotlib.rc_context(rc=_RC):
            yield


def _figure(height_in: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    # constrained layout fits long tick labels and the legend inside the fixed 600 px width,
    # unlike bbox_inches="tight", which would change the pixel size from one input to the next.
    # Paddings in inches: ~12 px at the sides keeps labels off the e-mail's column edge.
    layout = ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.08)
    fig = Figure(figsize=(WIDTH_PX / DPI, height_in), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)  # attaches itself to the figure
    return fig


def _title(fig: Figure, title: str) -> None:
    # Left-aligned like the HTML headings; suptitle so it aligns with the figure, not the axes.
    fig.suptitle(title, x=0.02, ha="left", fontsize=12, fontweight="bold", color=NAVY)


def _clean_axes(ax: Axes, *, keep_left: bool) -> None:
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(keep_left and side == "left")
    ax.spines["left"].set_color(MUTED)
    ax.set_axisbelow(True)


def _message_png(title: str, message: str) -> bytes:
    """A small placeholder image, so the e-mail layout is the same on a day without articles."""
    with _style():
        fig = _figure(1.2)
        fig.text(0.5, 0.4, message, ha="center", va="center", fontsize=12, color=MUTED)
        _title(fig, title)
        return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" text chunk (it carries the matplotlib version; PNG gets no date by default):
    # the bytes then depend only on the input, the figure and the pinned matplotlib/Pillow.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def articles_per_day_png(
    days: Sequence[dt.date],
    articles: Sequence[int],
    topics: Mapping[str, Sequence[int]],
    title: str,
    *,
    x_label: str = "Day",
) -> bytes:
    """Bars of articles per day, with a line per topic in `topics` (articles with that topic), as PNG.

    Articles, not tags: an article with three topics is one article in its bar (stacked tag counts
    added up to more than the day's articles). The topic lines are drawn over the bars in the order
    given (the caller passes the few biggest topics); the legend holds every entry with its full label
    (one entry per row, below the plot, so none is cut). The window is what the caller gives: it
    starts at the first day with data, so day one is one bar, not one bar in a frame of empty days.
    No days or only zeros give a small image saying "No articles".
    """
    if len(articles) != len(days):
        raise ValueError(f"articles has {len(articles)} values for {len(days)} days")
    for label, values in topics.items():
        if len(values) != len(days):
            raise ValueError(f"topic {label!r} has {len(values)} values for {len(days)} days")
        if any(v < 0 for v in values):
            raise ValueError(f"topic {label!r}: counts must not be negative")
    if any(v < 0 for v in articles):
        raise ValueError("articles: counts must not be negative")
    if not days or not any(articles):
        return _message_png(title, "No articles")

    from matplotlib.ticker import MaxNLocator

    with _style():
        fig = _figure(3.4 + 0.22 * (1 + len(topics)))
        ax = fig.add_subplot()
        positions = list(range(len(days)))
        # Bars at most a third of the width apart on a short window, so one day is not one huge block.
        width = 0.6 if len(days) > 2 else 0.4
        ax.bar(positions, articles, width=width, color=NAVY, label="Articles (all topics)", zorder=2)
        for i, (label, values) in enumerate(topics.items()):
            colour = SERIES_COLOURS[1 + i % (len(SERIES_COLOURS) - 1)]
            ax.plot(
                positions,
                values,
                color=colour,
                marker="o",
                markersize=4,
                linewidth=1.6,
                label=f"{' '.join(label.split())} (articles)",
                zorder=3,
            )
        step = max(1, math.ceil(len(days) / 8))
        ax.set_xticks(positions[::step], [f"{d.day} {d:%b}" for d in days[::step]])
        ax.set_xlim(-0.6 if len(days) > 2 else -1.0, len(days) - (0.4 if len(days) > 2 else 0.0))
        ax.set_ylim(0, max(articles) * 1.12)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
        ax.set_ylabel("Articles per day", fontsize=9, color=TEXT)
        ax.set_xlabel(x_label, fontsize=9, color=TEXT)
        _clean_axes(ax, keep_left=False)
        ax.tick_params(axis="both", length=0, labelsize=9)
        ax.tick_params(axis="y", colors=MUTED)
        fig.legend(loc="outside lower center", ncols=1, frameon=False, fontsize=9, handlelength=1.6)
        _title(fig, title)
        return _png(fig)
