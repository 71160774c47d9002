"""The scorecard's parts, drawn once for the page and the board pack: the company's KPI
values, the segment table's rows and the ICP map, memoized per data version and view.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from app.components import charts, labels
from app.components.benchmarks import band
from app.components.widgets import TIER_LABELS
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.context import Context
from app.views.history import tier_changes
from app.views.params import ViewParams
from app.views.scorecard import company_numbers, scorecard

KPIS = ("arr", "nrr", "grr", "logo_retention", "clv", "quick_ratio")
KPI_FORMAT = {
    "arr": fmt.money,
    "nrr": fmt.pct,
    "grr": fmt.pct,
    "logo_retention": fmt.pct,
    "clv": fmt.money,
    "quick_ratio": fmt.multiple,
}

# (field, kind, group): primary columns first and dominant, secondary quieter.
COLUMNS = (
    ("nrr", "pct", "primary"),
    ("clv", "money", "primary"),
    ("logo_retention", "pct", "primary"),
    ("grr", "pct", "primary"),
    ("win_rate", "pct", "secondary"),
    ("avg_deal_size", "money", "secondary"),
    ("days_to_close", "days", "secondary"),
    ("accounts", "count", "other"),
    ("tam", "money", "other"),
)
BANDED = ("nrr", "grr")
ARROWS = {"up": "↑", "down": "↓"}


def nrr_arrow(now: float | None, then: float | None) -> str:
    """↑ or ↓ when NRR moved since then as the table shows it (to the percent), → when not."""
    if now is None or then is None or fmt.pct(now) == fmt.pct(then):
        return "→"
    return "↑" if now > then else "↓"


def change_cells(change: dict[str, Any] | None) -> dict[str, Any]:
    """The NRR and tier cells' text with the change since the previous month recorded (an
    arrow) and their tooltips (the value then); empty where nothing was recorded."""
    if not change or change["previous_as_of"] is None:
        return {"since": None, "nrr_tip": None, "tier_tip": None}
    since = change["previous_as_of"]
    return {
        "since": since,
        "nrr_arrow": nrr_arrow(change["nrr"], change["previous_nrr"]),
        "nrr_tip": f"{since}: NRR {fmt.pct(change['previous_nrr'])} "
        f"({fmt.points(change['nrr_change'])} since)",
        "tier_arrow": ARROWS.get(change["tier_change"] or "", ""),
        "tier_tip": f"{since}: {fmt.tier(change['previous_tier'])}",
    }


def table_rows(ctx: Context, p: ViewParams) -> list[dict[str, Any]]:
    """The segment table's rows: numbers for sorting, text as shown, benchmark bands, and
    the change since the previous month recorded (``tier_changes``)."""
    board = scorecard(ctx, p).frame
    dim = p.by[0]
    changes = {str(r[dim]): r for r in tier_changes(ctx, p).rows()}
    rows = []
    for r in board.iter_rows(named=True):
        rated = r["tier"] != "insufficient_data"
        row: dict[str, Any] = {
            "segment": str(r[dim]),
            "tier": r["tier"],
            "tier_fmt": TIER_LABELS.get(r["tier"], r["tier"]),
            "clv_multiple": r.get("clv_multiple"),
        }
        for field, kind, _group in COLUMNS:
            row[field] = r.get(field)
            row[f"{field}_fmt"] = fmt.by_kind(kind, r.get(field))
        if r.get("prospects") == 0:
            row["tam_fmt"] = "no prospects"
        closed = (r.get("won") or 0) + (r.get("lost") or 0)
        # A win rate from too few deals is shown with its count, greyed (METRICS.md).
        row["win_rate_few"] = 0 < closed < ctx.settings.min_deals
        if row["win_rate_few"]:
            row["win_rate_fmt"] = f"{fmt.pct(r.get('win_rate'))} ({fmt.plural(closed, 'deal')})"
        if r.get("clv") is not None and r.get("clv_multiple") is not None:
            row["clv_fmt"] = f"{fmt.money(r['clv'])} ({fmt.multiple(r['clv_multiple'])})"
        for field in BANDED:
            row[f"{field}_band"] = band(field, r.get(field), ctx.settings) if rated else None
        row.update(change_cells(changes.get(row["segment"])))
        row["nrr_cell"] = " ".join(filter(None, (row["nrr_fmt"], row.get("nrr_arrow"))))
        row["tier_cell"] = " ".join(filter(None, (row["tier_fmt"], row.get("tier_arrow"))))
        rows.append(row)
    return rows


def since_text(rows: list[dict[str, Any]]) -> str:
    """What the table's arrows compare with, in a sentence."""
    since = next((r["since"] for r in rows if r.get("since")), None)
    if since is None:
        return (
            "No earlier month is recorded for these segments yet: after the next monthly "
            "import, arrows show each NRR's and tier's change since this month."
        )
    return (
        f"Arrows: the change since {since}, the previous month recorded (↑ up, ↓ down, → "
        "the same to the percent); hover an NRR or a tier for its value then."
    )


MAX_BUBBLE = 55  # pixels across the bubble of the largest TAM
MAP_HEIGHT = 450
MAX_LABELS = 8  # bubbles named on the map; the others on hover
PLOT_AREA = (900, 330)  # px of the full-width plot at 1280 px, for placing labels
LABEL_SIZE = 10


def extreme_segments(rows: list[dict[str, Any]], limit: int) -> set[str]:
    """The ``limit`` segments farthest from the middle of the map (NRR and CLV each
    measured in its own spread): the ones worth naming on the chart."""
    if len(rows) <= limit:
        return {r["segment"] for r in rows}

    def spread(values: list[float]) -> tuple[float, float]:
        middle = sorted(values)[len(values) // 2]
        return middle, (max(values) - min(values)) or 1.0

    nrr_mid, nrr_spread = spread([r["nrr"] for r in rows])
    clv_mid, clv_spread = spread([r["clv"] for r in rows])
    ranked = sorted(
        rows,
        key=lambda r: -(abs(r["nrr"] - nrr_mid) / nrr_spread + abs(r["clv"] - clv_mid) / clv_spread),
    )
    return {r["segment"] for r in ranked[:limit]}


def icp_map(rows: list[dict[str, Any]], ctx: Context, p: ViewParams) -> go.Figure:
    """NRR against CLV, bubble size TAM, colour tier; a click drills or opens the segment."""
    plotted = [r for r in rows if r["nrr"] is not None and r["clv"] is not None]
    if not plotted:
        return charts.empty_figure(
            "No segment has both NRR and CLV for this view.", height=MAP_HEIGHT
        )
    settings = ctx.settings
    fig = go.Figure()
    largest = max((r["tam"] or 0) for r in plotted) or 1
    # Segments without a TAM (no won deal or no prospect) still get a visible bubble.
    smallest = largest * 0.03
    xs = [r["clv"] for r in plotted]
    ys = [r["nrr"] for r in plotted] + [settings.core_nrr, settings.watch_nrr]
    # Padding so the labels of the outermost bubbles stay inside the plot.
    x_range = (0.0, max(xs) * 1.18)
    y_range = (min(ys) - 0.08, max(ys) + 0.08)
    # The most extreme bubbles are named on the map, every bubble on hover; each label
    # goes where it overlaps no other label or bubble (the full-width plot area).
    named = extreme_segments(plotted, MAX_LABELS)
    bubbles = [
        labels.Bubble(r["clv"], r["nrr"], labels.bubble_size(r["tam"], largest, MAX_BUBBLE),
                      charts.short(r["segment"]) if r["segment"] in named else "")
        for r in plotted
    ]
    positions = labels.label_positions(
        bubbles, x_range, y_range, plot_size=PLOT_AREA, font_size=LABEL_SIZE
    )
    label_at = {r["segment"]: p for r, p in zip(plotted, positions, strict=True)}
    for tier, label in TIER_LABELS.items():
        part = [r for r in plotted if r["tier"] == tier]
        if not part:
            continue
        fig.add_trace(
            go.Scatter(
                x=[r["clv"] for r in part],
                y=[r["nrr"] for r in part],
                mode="markers+text",
                # Labels of bubbles near an edge may run past it rather than vanish.
                cliponaxis=False,
                name=label,
                text=[charts.label(r["segment"]) if r["segment"] in named else "" for r in part],
                textposition=[label_at[r["segment"]] for r in part],
                textfont={"size": LABEL_SIZE},
                # [0]: the segment as it is, for a click; [1]: as the hover shows it.
                customdata=[[r["segment"], charts.hover(r["segment"]), r["tam_fmt"], r["clv_fmt"],
                             r["nrr_fmt"]] for r in part],
                hovertemplate="<b>%{customdata[1]}</b><br>NRR %{customdata[4]}<br>"
                "CLV %{customdata[3]}<br>TAM %{customdata[2]}<extra></extra>",
                marker={
                    "size": [max(r["tam"] or 0, smallest) for r in part],
                    "sizemode": "area",
                    "sizeref": 2.0 * largest / MAX_BUBBLE**2,
                    "sizemin": labels.MIN_BUBBLE,
                    "color": charts.TIER_COLOURS[tier],
                    "opacity": 0.75,
                    "line": {"width": 1, "color": "white"},
                },
            )
        )
    for y, text in ((settings.core_nrr, "Core ICP"), (settings.healthy_nrr, "Healthy")):
        fig.add_hline(
            y=y, line={"dash": "dot", "color": charts.MUTED, "width": 1},
            annotation_text=text, annotation_position="top left",
            annotation_font={"size": 10, "color": charts.MUTED},
        )
    fig.update_xaxes(
        title="CLV (cohort, per account)", range=list(x_range),
        **charts.money_axis(charts.nice_ticks(*x_range), fit=False),
    )
    fig.update_yaxes(title="NRR", tickformat=".0%", range=list(y_range))
    what = urlstate.dimension_label(p.by[0]).lower()
    fig.update_layout(title={"text": f"ICP map by {charts.label(what)}", "font": {"size": 14}})
    return charts.styled(fig, height=MAP_HEIGHT)


def kpi_values(ctx: Context, p: ViewParams) -> dict[str, tuple[str, str, str]]:
    """Per KPI: (value text, CSS class of its benchmark band, note)."""
    summary = company_numbers(ctx, p)
    settings = ctx.settings
    notes = {
        "arr": f"MRR {fmt.money(summary.get('mrr'))} · "
        f"{fmt.count(summary.get('active_accounts'))} active accounts",
        "nrr": f"95% interval {fmt.interval(summary.get('nrr_low'), summary.get('nrr_high'))}",
        "grr": f"over {fmt.months(summary.get('window'))} to {summary.get('as_of')}",
        "logo_retention": f"of {fmt.count(summary.get('accounts'))} accounts at the window start",
        "clv": "95% interval "
        + fmt.interval(summary.get("clv_low"), summary.get("clv_high"), fmt.money),
        "quick_ratio": f"this month {fmt.multiple(summary.get('quick_ratio_month'))}",
    }
    out = {}
    for key in KPIS:
        value = summary.get(key)
        out[key] = (
            KPI_FORMAT[key](value),
            f"kpi-value bm-{band(key, value, settings) or 'none'}",
            notes[key],
        )
    return out


def view_parts(
    ctx: Context, p: ViewParams
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, tuple[str, str, str]]]:
    """Table rows, ICP map (as a figure dict) and KPI values of a view, memoized per data
    version: every user opening the same view gets them without drawing the map again."""

    def build() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, tuple[str, str, str]]]:
        rows = table_rows(ctx, p)
        return rows, icp_map(rows, ctx, p).to_plotly_json(), kpi_values(ctx, p)

    return ctx.memo("scorecard-page", p.key(("as_of", "window", "by", "filters")), build)


