"""Plotly defaults shared by every chart: fonts, colours, margins, and the one way text
from the data (segment names, dimension values, attribute names) enters a figure.

Plotly reads a subset of HTML in every text it draws: labels, hover text, titles,
tick labels, legend entries, annotations. ``<a href>`` becomes a live link, ``<br>``
a line break. So no figure builder hands data to Plotly as it is: :func:`label` (short,
escaped) is what a chart shows, :func:`hover` (whole, escaped, in lines) what its hover shows,
and :func:`category_axis` names the categories of an axis by their labels.
"""

from __future__ import annotations

import math
import textwrap

import plotly.graph_objects as go
import plotly.io as pio

from app.views import formats as fmt

TIER_COLOURS = {
    "core_icp": "#1b7f4b",
    "healthy": "#2b6cb0",
    "watch": "#c77d05",
    "accidental_icp": "#c0392b",
    "insufficient_data": "#9aa1a9",
}
MOVEMENT_COLOURS = {
    "new": "#2b6cb0",
    "reactivation": "#6b9bd1",
    "expansion": "#1b7f4b",
    "contraction": "#e6a23c",
    "churn": "#c0392b",
}
LINE = "#1f2933"
MUTED = "#9aa1a9"
FONT = "Liberation Sans, Helvetica Neue, Arial, sans-serif"


def _house_template() -> go.layout.Template:
    """plotly_white with the house fonts, margins and legend."""
    house = go.layout.Template(pio.templates["plotly_white"])
    house.layout.update(
        margin={"l": 56, "r": 16, "t": 36, "b": 48},
        font={"family": FONT, "size": 13, "color": LINE},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    return house


# The house style is the default template, registered once: setting ``template=`` on each
# figure deep-copies and validates the whole template again (about 50 ms a figure, most
# of a scorecard callback), while the default one is attached without that work.
pio.templates["icp"] = _house_template()
pio.templates.default = "icp"


LABEL_CHARS = 40  # longer names are cut, with an ellipsis; the hover shows them whole
TITLE_CHARS = 80
HOVER_LINE_CHARS = 60
# Whole on hover up to this (the importer keeps values to 200 characters); Plotly drops a
# hover box taller than the plot, so a name of thousands is cut here too.
HOVER_CHARS = 480
# Plotly reads only these as markup; a quote needs no escaping (and "&quot;" it would show).
_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escaped(text: str) -> str:
    """``text`` with Plotly's markup characters escaped: shown as written, never as HTML."""
    return text.translate(_MARKUP)


def short(value: object, limit: int = LABEL_CHARS) -> str:
    """A value from the data on one line, at most ``limit`` characters (the rest an
    ellipsis); not yet escaped: what the reader sees, e.g. to size its label."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def label(value: object, limit: int = LABEL_CHARS) -> str:
    """A value from the data as a chart shows it: :func:`short`, escaped."""
    return escaped(short(value, limit))


def hover(value: object) -> str:
    """A value from the data whole (up to HOVER_CHARS), escaped, in lines of about
    HOVER_LINE_CHARS: a long name wraps in the hover box instead of running off the page."""
    lines = textwrap.wrap(short(value, HOVER_CHARS), HOVER_LINE_CHARS, break_long_words=True)
    return "<br>".join(escaped(line) for line in lines)


def categories(values: list[object]) -> list[str]:
    """Values from the data as the categories of an axis: each escaped whole, so two names
    with the same beginning stay two categories; show them with :func:`category_axis`."""
    return [escaped(str(v)) for v in values]


def category_axis(values: list[object]) -> dict:
    """Axis settings naming the :func:`categories` of ``values`` by their short labels (a
    tick label, like any text, must not carry the data's markup or its full length)."""
    return {
        "type": "category",
        "tickmode": "array",
        "tickvals": categories(values),
        "ticktext": [label(v) for v in values],
    }


def styled(fig: go.Figure, height: int = 380, legend: bool = True) -> go.Figure:
    """Size a figure in the house style (the default template) and return it."""
    fig.update_layout(height=height, showlegend=legend)
    return fig


def empty_figure(message: str, height: int = 300) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, font={"size": 14, "color": MUTED}, x=0.5, y=0.5,
        xref="paper", yref="paper",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return styled(fig, height=height, legend=False)


GRAPH_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


RATIO_AXIS_CAP = 2.0  # 200%: above it a few tiny cohorts would flatten every other line.


def ratio_axis(fig: go.Figure, values: list[float | None], title: str) -> go.Figure:
    """A percentage y axis from 0, capped at 200% when a few points lie above it."""
    finite = [v for v in values if v is not None and v == v]
    top = max(finite, default=1.0)
    capped = top > RATIO_AXIS_CAP
    upper = RATIO_AXIS_CAP if capped else max(top * 1.05, 1.05)
    fig.update_yaxes(
        title=title + (" (axis capped at 200%)" if capped else ""),
        tickformat=".0%",
        range=[0, upper],
    )
    return fig


NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
# Finer choices for an axis whose number of steps is fixed by another one.
FINE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_step(raw: float, steps: tuple[float, ...] = NICE_STEPS) -> float:
    """The smallest of ``steps`` times a power of ten that is at least ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in steps if m * power >= raw * (1 - 1e-12))


def nice_ticks(low: float, high: float, count: int = 7) -> list[float]:
    """Round tick values from at or below ``low`` to at or above ``high``, about ``count``."""
    high = max(high, low)
    step = nice_step((high - low) / max(count - 1, 1)) if high > low else nice_step(abs(high))
    first = math.floor(low / step + 1e-9)
    intervals = max(1, math.ceil(high / step - 1e-9) - first)
    return [(first + i) * step for i in range(intervals + 1)]


def money_axis(ticks: list[float], fit: bool = True) -> dict:
    """Axis settings showing ``ticks`` as money the way the rest of the page does ($20K,
    -$20K: Plotly's own prefix would print $−20k); ``fit`` sets the range to theirs."""
    axis: dict = {"tickvals": ticks, "ticktext": [fmt.money(t) for t in ticks]}
    if fit:
        axis["range"] = [ticks[0], ticks[-1]]
    return axis
