"""Economics (``/economics``): what a customer of each segment costs and what it is worth.

URL state: ``by`` (one dimension), ``as_of`` and ``window``. Charts: LTV:CAC by segment
against the target line, CAC payback by segment, allowable CAC beside actual CAC, and
the ICP map (NRR against CLV) coloured by LTV:CAC; the table and its CSV are the
``economics`` view, as ``icp report economics`` prints it. Without a spend file only
the allowable CAC is shown, with how to add spend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from app.components import charts, labels
from app.components.controls import choice
from app.components.viewgrid import view_grid
from app.components.viewpage import download_button, open_view, serve_download
from app.components.widgets import metric_label, page_header, problem
from app.views import USER_ERRORS
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.context import Context
from app.views.economics import economics
from app.views.params import ViewParams, from_query
from app.views.scorecard import scorecard
from app.views.view import View

dash.register_page(
    __name__, path="/economics", name="Economics", title="Economics · ICP Lens",
    order=1.3, role="viewer",
)

PREFIX = "ec"


class ids:
    """Component ids of this page."""

    NAV = f"{PREFIX}-nav"
    BY = f"{PREFIX}-by"
    AS_OF = f"{PREFIX}-as-of"
    WINDOW = f"{PREFIX}-window"
    GRID = f"{PREFIX}-grid"
    DOWNLOAD_BUTTON = f"{PREFIX}-download-button"
    DOWNLOAD = f"{PREFIX}-download"
    KPIS = f"{PREFIX}-kpis"
    LTV_CAC = f"{PREFIX}-ltv-cac"
    PAYBACK = f"{PREFIX}-payback"
    ALLOWABLE = f"{PREFIX}-allowable"
    MAP = f"{PREFIX}-map"
    NO_SPEND = f"{PREFIX}-no-spend"


HEADER = page_header(
    "Unit economics",
    "What a new customer of each segment costs to win (CAC), what it is worth (LTV:CAC, "
    "payback) and what it may cost (allowable CAC).",
)
BAR_HEIGHT = 26  # px per segment in the bar charts
HEALTHY = "#1b7f4b"
MIDDLE = "#c77d05"
LOSS = "#c0392b"


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """Segment dimension, as-of month and window from the URL."""
    return from_query(ctx, query, by=(urlstate.dimension(query, ctx.dimensions),), filters={})


def _rows(result: View) -> list[dict[str, Any]]:
    by = result.params.by
    rows = result.rows()
    for r in rows:
        r["segment"] = " / ".join(str(r[d]) for d in by)
    return rows


def _bar_height(n: int) -> int:
    return max(220, 90 + BAR_HEIGHT * n)


def ltv_cac_chart(rows: list[dict[str, Any]], target: float) -> go.Figure:
    """LTV:CAC by segment, best on top, with the target line."""
    shown = sorted((r for r in rows if r["ltv_cac"] is not None), key=lambda r: r["ltv_cac"])
    if not shown:
        return charts.empty_figure("No segment has both a CLV and new customers with spend.")
    colours = [
        HEALTHY if r["ltv_cac"] >= target else MIDDLE if r["ltv_cac"] >= 1 else LOSS
        for r in shown
    ]
    fig = go.Figure(
        go.Bar(
            x=[r["ltv_cac"] for r in shown],
            y=charts.categories([r["segment"] for r in shown]),
            orientation="h",
            marker_color=colours,
            text=[fmt.multiple(r["ltv_cac"]) for r in shown],
            textposition="outside",
            cliponaxis=False,
            customdata=[[charts.hover(r["segment"]), fmt.money(r["clv"]), fmt.money(r["cac"])]
                        for r in shown],
            hovertemplate="<b>%{customdata[0]}</b><br>LTV:CAC %{text}<br>CLV %{customdata[1]}"
            "<br>CAC %{customdata[2]}<extra></extra>",
        )
    )
    fig.add_vline(
        x=target, line={"dash": "dot", "color": charts.LINE, "width": 1},
        annotation_text=f"target {fmt.multiple(target)}", annotation_position="top",
        annotation_font={"size": 10},
    )
    top = max(max(r["ltv_cac"] for r in shown), target)
    fig.update_xaxes(title="LTV:CAC", range=[0, top * 1.15], ticksuffix="×")
    fig.update_yaxes(automargin=True, **charts.category_axis([r["segment"] for r in shown]))
    fig.update_layout(title={"text": "LTV:CAC by segment", "font": {"size": 14}})
    return charts.styled(fig, height=_bar_height(len(shown)), legend=False)


def payback_chart(rows: list[dict[str, Any]]) -> go.Figure:
    """CAC payback months by segment, quickest on top."""
    shown = sorted(
        (r for r in rows if r["payback_months"] is not None),
        key=lambda r: -r["payback_months"],
    )
    if not shown:
        return charts.empty_figure("No segment has new customers with spend.")
    fig = go.Figure(
        go.Bar(
            x=[r["payback_months"] for r in shown],
            y=charts.categories([r["segment"] for r in shown]),
            orientation="h",
            marker_color=[
                HEALTHY if r["payback_months"] <= 18 else MIDDLE if r["payback_months"] <= 36
                else LOSS
                for r in shown
            ],
            text=[fmt.months(r["payback_months"]) for r in shown],
            textposition="outside",
            cliponaxis=False,
            customdata=[charts.hover(r["segment"]) for r in shown],
            hovertemplate="<b>%{customdata}</b><br>CAC payback %{text}<extra></extra>",
        )
    )
    top = max(r["payback_months"] for r in shown)
    fig.update_xaxes(title="Months to earn back CAC", range=[0, top * 1.25])
    fig.update_yaxes(automargin=True, **charts.category_axis([r["segment"] for r in shown]))
    fig.update_layout(title={"text": "CAC payback by segment", "font": {"size": 14}})
    return charts.styled(fig, height=_bar_height(len(shown)), legend=False)


def allowable_chart(rows: list[dict[str, Any]]) -> go.Figure:
    """Allowable CAC beside actual CAC per segment."""
    shown = sorted(
        (r for r in rows if r["allowable_cac"] is not None),
        key=lambda r: r["allowable_cac"],
    )
    if not shown:
        return charts.empty_figure("No segment has a CLV yet.")
    segments = [r["segment"] for r in shown]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name="Allowable CAC", x=[r["allowable_cac"] for r in shown],
            y=charts.categories(segments), orientation="h", marker_color=HEALTHY,
            customdata=[[charts.hover(r["segment"]), fmt.money(r["allowable_cac"])] for r in shown],
            hovertemplate="<b>%{customdata[0]}</b><br>Allowable CAC %{customdata[1]}<extra></extra>",
        )
    )
    if any(r["cac"] is not None for r in shown):
        fig.add_trace(
            go.Bar(
                name="Actual CAC", x=[r["cac"] for r in shown],
                y=charts.categories(segments), orientation="h", marker_color=charts.LINE,
                customdata=[[charts.hover(r["segment"]), fmt.money(r["cac"])] for r in shown],
                hovertemplate="<b>%{customdata[0]}</b><br>Actual CAC %{customdata[1]}<extra></extra>",
            )
        )
    top = max(max(r["allowable_cac"], r["cac"] or 0) for r in shown)
    fig.update_xaxes(
        title="Per new customer", range=[0, top * 1.08],
        **charts.money_axis(charts.nice_ticks(0, top * 1.08), fit=False),
    )
    fig.update_yaxes(automargin=True, **charts.category_axis(segments))
    fig.update_layout(
        barmode="group", title={"text": "Allowable CAC beside actual CAC", "font": {"size": 14}}
    )
    return charts.styled(fig, height=_bar_height(2 * len(shown)))


MAP_LABELS = 12  # segments named on the map; more are named on hover only
MAP_AREA = (380, 300)  # px of the half-width plot at 1280 px, for placing labels


def map_chart(rows: list[dict[str, Any]], nrr: dict[str, float | None], target: float) -> go.Figure:
    """The ICP map (NRR against CLV), each segment coloured by its LTV:CAC (grey: none)."""
    shown = [r for r in rows if nrr.get(r["segment"]) is not None and r["clv"] is not None]
    if not shown:
        return charts.empty_figure("No segment has both NRR and CLV for this view.")
    known = [r["ltv_cac"] for r in shown if r["ltv_cac"] is not None]
    fig = go.Figure()
    named = len(shown) <= MAP_LABELS
    xs = [r["clv"] for r in shown]
    ys = [nrr[r["segment"]] for r in shown]
    x_range = (0.0, max(xs) * 1.15)
    y_range = (min(ys) - 0.06, max(ys) + 0.08)
    # Each label where it overlaps no other label or marker (as on the scorecard's map).
    positions = labels.label_positions(
        [labels.Bubble(r["clv"], nrr[r["segment"]], 16, charts.short(r["segment"]) if named else "")
         for r in shown],
        x_range, y_range, plot_size=MAP_AREA, font_size=10,
    )
    label_at = {r["segment"]: at for r, at in zip(shown, positions, strict=True)}
    for rated in (True, False):
        part = [r for r in shown if (r["ltv_cac"] is not None) is rated]
        if not part:
            continue
        marker: dict[str, Any] = {"size": 16, "line": {"width": 1, "color": "white"}}
        if rated:
            marker |= {
                "color": [r["ltv_cac"] for r in part],
                "colorscale": [[0, LOSS], [0.5, MIDDLE], [1, HEALTHY]],
                "cmin": 0,
                "cmax": max(2 * target, *known),
                "colorbar": {"title": {"text": "LTV:CAC", "side": "right"}, "ticksuffix": "×",
                             "thickness": 12},
            }
        else:
            marker["color"] = charts.MUTED
        fig.add_trace(
            go.Scatter(
                x=[r["clv"] for r in part],
                y=[nrr[r["segment"]] for r in part],
                mode="markers+text" if named else "markers",
                text=[charts.label(r["segment"]) for r in part] if named else None,
                textposition=[label_at[r["segment"]] for r in part],
                textfont={"size": 10},
                cliponaxis=False,
                name="LTV:CAC" if rated else "no LTV:CAC (no new customers)",
                marker=marker,
                customdata=[
                    [charts.hover(r["segment"]), fmt.pct(nrr[r["segment"]]), fmt.money(r["clv"]),
                     fmt.multiple(r["ltv_cac"])]
                    for r in part
                ],
                hovertemplate="<b>%{customdata[0]}</b><br>NRR %{customdata[1]}<br>"
                "CLV %{customdata[2]}<br>LTV:CAC %{customdata[3]}<extra></extra>",
            )
        )
    fig.update_xaxes(
        title="CLV (cohort, per account)", range=list(x_range),
        **charts.money_axis(charts.nice_ticks(*x_range), fit=False),
    )
    fig.update_yaxes(title="NRR", tickformat=".0%", range=list(y_range))
    fig.update_layout(title={"text": "ICP map coloured by LTV:CAC", "font": {"size": 14}})
    return charts.styled(fig, height=420, legend=any(r["ltv_cac"] is None for r in shown))


def _kpis(company: dict[str, Any]) -> dbc.Row:
    items = [
        ("cac", fmt.money(company["cac"])),
        ("ltv_cac", fmt.multiple(company["ltv_cac"])),
        ("payback_months", fmt.months(company["payback_months"])),
        ("magic_number", fmt.factor(company["magic_number"])),
        ("allowable_cac", fmt.money(company["allowable_cac"])),
    ]
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(dbc.CardBody([
                    html.Div(metric_label(key, "ec-kpi"), className="kpi-label"),
                    html.Div(value, className="kpi-value"),
                ]), className="kpi-card h-100"),
                md=True,
            )
            for key, value in items
        ],
        id=ids.KPIS,
        className="g-3 mb-3",
    )


def _controls(p: ViewParams, ctx: Context) -> dbc.Row:
    windows = sorted(set(urlstate.WINDOWS) | {p.window})
    dims = [{"label": urlstate.dimension_label(d), "value": d} for d in ctx.dimensions]

    return dbc.Row(
        [
            choice("Segment by", ids.BY, dims, p.by[0], 3),
            choice("As of month", ids.AS_OF, ctx.months_available(), p.as_of_label, 2),
            choice("Window", ids.WINDOW,
                   [{"label": f"{w} months", "value": w} for w in windows], p.window, 2),
            dbc.Col(download_button(ids.DOWNLOAD_BUTTON, ids.DOWNLOAD),
                    className="ms-auto align-self-end", md=2),
        ],
        className="controls g-3 mb-3",
    )


def _graph(gid: str, figure: go.Figure) -> dcc.Graph:
    return dcc.Graph(id=gid, figure=figure, config={"displayModeBar": False})


def layout(**query: str) -> html.Div:
    """Unit economics of the view in the URL."""
    opened = open_view(HEADER, lambda ctx: read_params(ctx, query), ("Economics", "/economics"))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        result = economics(ctx, p)
        company = economics(ctx, p.with_(by=())).rows()[0]
        nrr = {
            " / ".join(str(r[d]) for d in p.by): r["nrr"] for r in scorecard(ctx, p).rows()
        }
    except USER_ERRORS as exc:
        return html.Div([HEADER, problem(str(exc))])
    rows = _rows(result)
    target = ctx.settings.target_ltv_cac
    spend = not result.note
    body: list[Any] = []
    if spend:
        body += [
            _kpis(company),
            dbc.Row(
                [
                    dbc.Col(html.Div(_graph(ids.LTV_CAC, ltv_cac_chart(rows, target)),
                                     className="panel"), lg=6),
                    dbc.Col(html.Div(_graph(ids.PAYBACK, payback_chart(rows)),
                                     className="panel"), lg=6),
                ],
                className="g-3 mb-3",
            ),
        ]
    else:
        body.append(
            dbc.Alert(
                [
                    html.B("No spend imported. "),
                    "CAC, LTV:CAC, payback and magic number need the optional spend file "
                    "(month, amount, and the segment it was spent on: see the upload page). "
                    f"Until then the allowable CAC says what a new customer may cost: CLV / "
                    f"{fmt.multiple(target)}.",
                ],
                id=ids.NO_SPEND, color="info",
            )
        )
    body.append(
        dbc.Row(
            [
                dbc.Col(html.Div(_graph(ids.ALLOWABLE, allowable_chart(rows)),
                                 className="panel"), lg=6),
                dbc.Col(html.Div(_graph(ids.MAP, map_chart(rows, nrr, target)),
                                 className="panel"), lg=6),
            ],
            className="g-3 mb-3",
        )
    )
    what = " × ".join(urlstate.dimension_label(d).lower() for d in p.by)
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            HEADER,
            _controls(p, ctx),
            *body,
            html.Div(
                [
                    html.Div(f"Unit economics by {what}, {fmt.months(p.window)} to "
                             f"{p.as_of_label}", className="section-title"),
                    # The grid shows the table's columns; the CSV has what the spend is made of.
                    view_grid(
                        replace(
                            result,
                            frame=result.frame.select(result.brief),
                            columns=tuple(c for c in result.columns if c.key in result.brief),
                        ),
                        ids.GRID,
                    ),
                    html.P(
                        "Spend: the rows naming the segment, plus its share of company-level "
                        "spend by new customers (the CSV splits the two). A segment with no "
                        "new customers has no CAC.",
                        className="hint mt-2",
                    ),
                ],
                className="panel",
            ),
        ]
    )


@callback(
    Output(ids.NAV, "href"),
    Input(ids.BY, "value"),
    Input(ids.AS_OF, "value"),
    Input(ids.WINDOW, "value"),
    prevent_initial_call=True,
)
def _navigate(by: str, as_of: str, window: int) -> str:
    return "/economics" + urlstate.search({"by": by, "as_of": as_of, "window": window})


serve_download(
    ids.DOWNLOAD_BUTTON, ids.DOWNLOAD, lambda ctx, q: economics(ctx, read_params(ctx, q))
)
