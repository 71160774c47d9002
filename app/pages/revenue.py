"""Revenue (``/revenue``): the MRR bridge by month, the quick ratio, the declared-ICP check.

URL state: ``as_of`` (YYYY-MM), ``months`` (how many months to show, default 24,
``all`` for the whole history), ``window`` (for the declared-ICP diagnostic) and
an optional segment as ``<dimension>=<value>``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State, callback, dcc, html
from plotly.subplots import make_subplots

from app.components import charts
from app.components.behind import accounts_href
from app.components.viewpage import current, download_button, open_view, serve_download
from app.components.widgets import metric_label, page_header, problem
from app.views import USER_ERRORS, definitions
from app.views import formats as fmt
from app.views import query as urlstate
from app.views import sales as views
from app.views.context import Context
from app.views.params import ViewParams, from_query
from app.views.revenue import movements

dash.register_page(
    __name__, path="/revenue", name="Revenue", title="Revenue · ICP Lens", order=5, role="viewer"
)


class ids:
    """Component ids of this page."""

    NAV = "rv-nav"
    AS_OF = "rv-as-of"
    MONTHS = "rv-months"
    BRIDGE = "rv-bridge"
    DECLARED = "rv-declared"
    BRIDGE_BUTTON = "rv-bridge-download-button"
    BRIDGE_DOWNLOAD = "rv-bridge-download"
    DECLARED_BUTTON = "rv-declared-download-button"
    DECLARED_DOWNLOAD = "rv-declared-download"


SPANS = (("12", "12 months"), ("24", "24 months"), ("36", "36 months"), ("all", "All history"))
UP = ("new", "reactivation", "expansion")
QUICK_RATIO_CAP = 10.0
DOWN = ("contraction", "churn")


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """The view named by the URL: as-of, window (declared ICP) and an optional segment."""
    return from_query(ctx, query, by=())


def bridge(frame: pl.DataFrame, title: str) -> go.Figure:
    """Movements as stacked bars (gains up, losses down), ending MRR line, quick ratio below."""
    if frame.height == 0:
        return charts.empty_figure("No revenue in this period.")
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06,
        specs=[[{"secondary_y": True}], [{}]],
    )
    months = frame["month"].to_list()
    for key in UP + DOWN:
        sign = -1 if key in DOWN else 1
        values = [sign * v for v in frame[key].to_list()]
        fig.add_trace(
            go.Bar(
                x=months, y=values, name=definitions.name(key),
                marker_color=charts.MOVEMENT_COLOURS[key],
                # The movement and month travel with each bar: a click lists its accounts.
                customdata=[[fmt.money(v), key, m] for v, m in zip(frame[key], months, strict=True)],
                hovertemplate=f"{definitions.name(key)} %{{customdata[0]}}<br>click for its "
                "accounts<extra>%{x}</extra>",
            ),
            row=1, col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=months, y=frame["ending_mrr"].to_list(), name="Ending MRR", mode="lines",
            line={"color": charts.LINE, "width": 2},
            customdata=[fmt.money(v) for v in frame["ending_mrr"].to_list()],
            hovertemplate="Ending MRR %{customdata}<extra>%{x}</extra>",
        ),
        row=1, col=1, secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=months, y=frame["quick_ratio"].to_list(), name="Quick ratio", mode="lines+markers",
            line={"color": charts.TIER_COLOURS["healthy"], "width": 1.5}, marker={"size": 4},
            hovertemplate="Quick ratio %{y:.1f}×<extra>%{x}</extra>",
        ),
        row=2, col=1,
    )
    fig.add_hline(y=1, line={"dash": "dot", "color": charts.MUTED, "width": 1}, row=2, col=1)
    fig.update_layout(barmode="relative", title={"text": title, "font": {"size": 14}})
    gains = frame.select(pl.sum_horizontal(UP)).to_series()
    losses = frame.select(pl.sum_horizontal(DOWN)).to_series()
    left = charts.nice_ticks(-max(losses.max() or 0, 0), max(gains.max() or 0, 0))
    fig.update_yaxes(title="MRR movement", row=1, col=1, secondary_y=False,
                     **charts.money_axis(left))
    # Ending MRR on the left axis's grid with its $0 on the left axis's $0: as many round
    # steps above zero as the left axis has, the same number below it (unlabelled).
    top = max((v for v in frame["ending_mrr"].to_list() if v is not None), default=0)
    below = sum(1 for t in left if t < 0)
    above = len(left) - 1 - below
    step = charts.nice_step(top / max(above, 1), charts.FINE_STEPS) if top > 0 else 1.0
    right = [i * step for i in range(above + 1)]
    fig.update_yaxes(title="Ending MRR", row=1, col=1, secondary_y=True, showgrid=False,
                     range=[-below * step, above * step], **charts.money_axis(right, fit=False))
    ratios = [v for v in frame["quick_ratio"].to_list() if v is not None]
    # A month with almost no loss has a huge ratio; cap the axis so the rest stays readable.
    capped = max(ratios, default=0) > QUICK_RATIO_CAP
    fig.update_yaxes(
        title="Quick ratio", row=2, col=1,
        range=[0, QUICK_RATIO_CAP if capped else max(ratios, default=1) * 1.1],
    )
    if capped:
        fig.add_annotation(
            text=f"axis capped at {QUICK_RATIO_CAP:.0f}×", xref="x2 domain", yref="y3 domain",
            x=0, y=1.08, showarrow=False, font={"size": 10, "color": charts.MUTED},
            xanchor="left",
        )
    fig = charts.styled(fig, height=560)
    # The legend right under the month labels, not a band lower.
    fig.update_layout(legend={"y": -0.06, "yanchor": "top"}, margin={"b": 24})
    return fig


DECLARED_ROWS = (
    ("accounts", "Accounts at the window start", fmt.count),
    ("customers", "Active customers", fmt.count),
    ("pipeline", "New-business pipeline created", fmt.money),
    ("pipeline_share", "Share of pipeline", fmt.pct),
    ("bookings", "New bookings", fmt.money),
    ("bookings_share", "Share of bookings", fmt.pct),
    ("win_rate", None, fmt.pct),
    ("avg_deal_size", None, fmt.money),
    ("days_to_close", None, fmt.days),
    ("nrr", None, fmt.pct),
    ("grr", None, fmt.pct),
    ("logo_retention", None, fmt.pct),
)


def declared_table(frame: pl.DataFrame) -> dbc.Table:
    """Inside against outside the declared ICP, one metric a row."""
    groups = {r["group"]: r for r in frame.iter_rows(named=True)}
    inside, outside = groups.get("inside", {}), groups.get("outside", {})
    rows = []
    for key, label, formatter in DECLARED_ROWS:
        name = html.Span(label) if label else metric_label(key, "rv")
        rows.append(html.Tr([html.Td(name), html.Td(formatter(inside.get(key)), className="text-end fw-bold"),
                             html.Td(formatter(outside.get(key)), className="text-end")]))
    return dbc.Table(
        [html.Thead(html.Tr([html.Th("Metric"), html.Th("Inside", className="text-end"),
                             html.Th("Outside", className="text-end")])),
         html.Tbody(rows)],
        size="sm", hover=True, className="mb-0",
    )


def _declared_panel(ctx: Context, p: ViewParams) -> html.Div:
    declared = ctx.settings.declared_icp
    if not declared or not any(declared.values()):
        body: Any = dbc.Alert(
            ["No declared ICP yet. An analyst can set it on the ",
             dcc.Link("Settings page", href="/settings"), "."],
            color="secondary",
        )
        described = ""
    else:
        body = [
            declared_table(views.declared(ctx, p).frame),
            download_button(ids.DECLARED_BUTTON, ids.DECLARED_DOWNLOAD, class_name="mt-2"),
        ]
        described = "; ".join(
            f"{urlstate.dimension_label(d)} in {', '.join(v)}" for d, v in declared.items()
        )
    return html.Div(
        [
            html.Div("Declared ICP: inside against outside", className="section-title"),
            html.P(f"Declared ICP: {described}. Window {fmt.months(p.window)} to {p.as_of_label}."
                   if described else "", className="hint"),
            html.Div(body, id=ids.DECLARED),
        ],
        className="panel",
    )


def layout(**query: str) -> html.Div:
    """The MRR bridge and the declared-ICP diagnostic for the view in the URL."""
    header = page_header(
        "Revenue",
        "Where MRR came from and where it went each month, and whether the ICP you "
        "declared is the one that pays.",
    )
    opened = open_view(header, lambda ctx: read_params(ctx, query))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    span = query.get("months") or "24"
    try:
        if span not in dict(SPANS):
            raise urlstate.BadParameter(f"months={span!r}; use 12, 24, 36 or all")
        frame = movements(ctx, p).frame
        if span != "all":
            frame = frame.tail(int(span))
        label = urlstate.segment_label(p.filters_map() or {})
        figure = ctx.memo(
            "bridge", {**p.key(("as_of", "filters")), "span": span},
            lambda: bridge(
                frame, f"MRR movements by month: {charts.label(label, charts.TITLE_CHARS)}"
            ).to_plotly_json(),
        )
        declared = _declared_panel(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([header, problem(str(exc))])
    controls = dbc.Row(
        [
            dbc.Col([html.Label("As of month"),
                     dcc.Dropdown(id=ids.AS_OF, options=ctx.months_available(), value=p.as_of_label,
                                  clearable=False)], md=2),
            dbc.Col([html.Label("Show"),
                     dcc.Dropdown(id=ids.MONTHS, options=[{"label": t, "value": v} for v, t in SPANS],
                                  value=span, clearable=False)], md=2),
        ],
        className="controls g-3 mb-3",
    )
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            header,
            controls,
            dbc.Row(
                [
                    dbc.Col(html.Div([
                        download_button(ids.BRIDGE_BUTTON, ids.BRIDGE_DOWNLOAD),
                        dcc.Graph(id=ids.BRIDGE, figure=figure, config=charts.GRAPH_CONFIG),
                    ], className="panel"), xl=8),
                    dbc.Col(declared, xl=4),
                ],
                className="g-3",
            ),
            html.P(["Movements: ", *[metric_label(k, "rv-def") for k in (*UP, *DOWN, "quick_ratio")]],
                   className="hint d-flex gap-3 flex-wrap"),
        ]
    )


@callback(
    Output(ids.NAV, "href"),
    Input(ids.AS_OF, "value"),
    Input(ids.MONTHS, "value"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def navigate(as_of: str, months: str, search: str | None) -> str:
    """A control change becomes a new URL; the page re-renders from it."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    params.update(as_of=as_of, months=months)
    return "/revenue" + urlstate.search(params)


@callback(
    Output(ids.NAV, "href", allow_duplicate=True),
    Input(ids.BRIDGE, "clickData"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def open_movement(click: dict | None, search: str | None) -> str:
    """A movement bar opens the accounts of that movement in that month."""
    points = (click or {}).get("points") or []
    custom = points[0].get("customdata") if points else None
    if not isinstance(custom, list) or len(custom) != 3:
        return dash.no_update
    _amount, movement, month = custom
    p = read_params(current(), dict(parse_qsl((search or "").lstrip("?"))))
    return accounts_href(p, p.segment(), movement=movement, month=month)


serve_download(
    ids.BRIDGE_BUTTON, ids.BRIDGE_DOWNLOAD,
    lambda ctx, query: movements(ctx, read_params(ctx, query)),
)
serve_download(
    ids.DECLARED_BUTTON, ids.DECLARED_DOWNLOAD,
    lambda ctx, query: views.declared(ctx, read_params(ctx, query)),
)
