"""Cohorts (``/cohorts``): retention curves by cohort, as lines and as a heatmap triangle.

URL state: ``period`` (month, quarter, year), ``metric`` (nrr, grr, logo_retention),
``as_of``, a segment as ``<dimension>=<value>`` (e.g. ``vertical=Healthcare``) and an
optional second segment side by side as ``compare_<dimension>=<value>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from app.components import charts
from app.components.behind import accounts_href
from app.components.viewpage import (
    current,
    download_button,
    open_view,
    serve_download,
    unchanged,
)
from app.components.widgets import (
    metric_label,
    option_key,
    option_value,
    page_header,
    problem,
    value_options,
)
from app.views import USER_ERRORS, definitions
from app.views import query as urlstate
from app.views.cohorts import cohorts, complete_ages
from app.views.context import Context
from app.views.params import ViewParams, from_query, resolve
from app.views.view import View

dash.register_page(
    __name__, path="/cohorts", name="Cohorts", title="Cohorts · ICP Lens", order=2, role="viewer"
)


class ids:
    """Component ids of this page."""

    URL = "co-url"
    NAV = "co-nav"
    PERIOD = "co-period"
    METRIC = "co-metric"
    AS_OF = "co-as-of"
    DIM_A = "co-dim-a"
    VALUE_A = "co-value-a"
    DIM_B = "co-dim-b"
    VALUE_B = "co-value-b"
    CURVES_A = "co-curves-a"
    HEAT_A = "co-heat-a"
    CURVES_B = "co-curves-b"
    HEAT_B = "co-heat-b"
    COL_B = "co-col-b"
    TITLE_A = "co-title-a"
    TITLE_B = "co-title-b"
    MESSAGE = "co-message"
    STATE = "co-state"

    @staticmethod
    def download_button(which: str) -> str:
        """Id of the CSV button of segment ``which`` (a or b)."""
        return f"co-download-button-{which}"

    @staticmethod
    def download(which: str) -> str:
        """Id of the CSV download of segment ``which``."""
        return f"co-download-{which}"


METRICS = ("nrr", "grr", "logo_retention")
METRIC_DEFINITION = {"nrr": "cohort_nrr", "grr": "cohort_grr", "logo_retention": "cohort_logo_retention"}
COMPARE = "compare_"
# Sequential palette: older cohorts light, recent ones dark, so the trend reads at a glance.
PALETTE = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")


class CohortView(NamedTuple):
    """What the page shows: segment ``a`` (its params), an optional comparison segment and
    the metric of the curves. (A NamedTuple: Dash loads pages outside sys.modules, where
    dataclasses cannot resolve their annotations.)"""

    a: ViewParams
    b: ViewParams | None
    metric: str

    def search(self) -> str:
        """The query string of this view."""
        params: dict[str, Any] = {
            "period": self.a.period, "metric": self.metric, "as_of": self.a.as_of_label,
        }
        params.update(self.a.segment())
        if self.b is not None:
            params.update({COMPARE + d: v for d, v in self.b.segment().items()})
        return urlstate.search(params)


def read_view(ctx: Context, query: dict[str, str]) -> CohortView:
    """The view named by the URL."""
    metric = query.get("metric") or "nrr"
    if metric not in METRICS:
        raise urlstate.BadParameter(f"metric={metric!r}; use nrr, grr or logo_retention")
    a = urlstate.segment_filters(query, ctx.dimensions)
    b = urlstate.segment_filters(query, ctx.dimensions, prefix=COMPARE)
    if len(a) > 1 or len(b) > 1:
        raise urlstate.BadParameter("compare one segment dimension at a time")
    pa = from_query(ctx, query, by=(), filters=a)
    return CohortView(pa, pa.with_(filters=b) if b else None, metric)


def chosen_view(
    ctx: Context, period: str, metric: str, as_of: str, a: dict[str, str], b: dict[str, str]
) -> CohortView:
    """The view the controls name (``a`` / ``b``: {dimension: value} or empty)."""
    pa = resolve(ctx, as_of=as_of, period=period, by=(), filters={d: [v] for d, v in a.items()})
    pb = pa.with_(filters={d: [v] for d, v in b.items()}) if b else None
    return CohortView(pa, pb, metric)


def _colour(i: int, n: int) -> str:
    return PALETTE[round(i * (len(PALETTE) - 1) / max(n - 1, 1))]


def curves_figure(
    frame: pl.DataFrame, metric: str, title: str, scale: list[float | None] | None = None
) -> dict:
    """One line per cohort: the metric against age in months.

    ``scale``: the values the y axis must hold (both sides of a comparison share one).
    """
    if frame.height == 0:
        return charts.empty_figure("No cohort for this selection.").to_plotly_json()
    parts = frame.partition_by("cohort", maintain_order=True)
    name = definitions.name(METRIC_DEFINITION[metric])
    # Traces as plain dicts: with a hundred monthly cohorts, validating each one as a
    # go.Scatter costs more than the rest of the callback.
    traces = [
        {
            "type": "scatter",
            "x": part["age"].to_list(),
            "y": part[metric].to_list(),
            "customdata": part["accounts"].to_list(),
            "mode": "lines",
            "name": str(part["cohort"][0]),
            "line": {"width": 1.6, "color": _colour(i, len(parts))},
            "hovertemplate": f"<b>{part['cohort'][0]}</b> age %{{x}} months<br>{name} "
            "%{y:.0%}<br>%{customdata} accounts<extra></extra>",
        }
        for i, part in enumerate(parts)
    ]
    # The layout is built on an empty figure; the traces above join it as they are.
    fig = go.Figure()
    fig.add_hline(y=1.0, line={"dash": "dot", "color": charts.MUTED, "width": 1})
    fig.update_xaxes(title="Age (months since the cohort's first month)")
    charts.ratio_axis(
        fig, scale or frame[metric].to_list(), definitions.name(METRIC_DEFINITION[metric])
    )
    few = len(parts) <= 12
    fig.update_layout(
        title={"text": title + ("" if few else " (darker = more recent; hover for the cohort)"),
               "font": {"size": 14}},
    )
    fig = charts.styled(fig, height=400, legend=few)
    fig.update_layout(legend={"orientation": "v", "y": 1, "x": 1.02, "font": {"size": 10}})
    return {"data": traces, "layout": fig.to_plotly_json()["layout"]}


def heatmap_figure(frame: pl.DataFrame, metric: str) -> go.Figure:
    """The same curves as a triangle: cohorts down, age across, the metric as colour."""
    if frame.height == 0:
        return charts.empty_figure("No cohort for this selection.")
    wide = frame.pivot(on="age", index="cohort", values=metric, sort_columns=False)
    ages = sorted(int(c) for c in wide.columns if c != "cohort")
    z = wide.select([str(a) for a in ages]).to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=ages,
            y=wide["cohort"].to_list(),
            # Values printed in the cells only while they stay readable.
            texttemplate="%{z:.0%}" if len(ages) <= 16 else None,
            textfont={"size": 9},
            colorscale="RdYlGn",
            # Fixed scales so colours mean the same across segments; NRR centred on 100%.
            zmin=0.0,
            zmax=charts.RATIO_AXIS_CAP if metric == "nrr" else 1.0,
            colorbar={"tickformat": ".0%", "thickness": 12},
            hovertemplate="%{y} age %{x} months: %{z:.0%}<br>click for its accounts"
            "<extra></extra>",
        )
    )
    fig.update_xaxes(title="Age (months)")
    fig.update_yaxes(autorange="reversed", title="Cohort", type="category")
    return charts.styled(fig, height=max(320, 14 * wide.height + 120), legend=False)


def _curves(ctx: Context, p: ViewParams) -> pl.DataFrame:
    return complete_ages(cohorts(ctx, p).frame).sort("cohort_start", "age")


def figures(ctx: Context, view: CohortView, which: str) -> tuple[dict, dict, str]:
    """Curves, heatmap (as figure dicts) and title for segment ``a`` or ``b`` of the view.

    Memoized per data version: drawing a hundred cohorts is the slow part of the page.
    In a comparison both curves share the y scale of the two segments together.
    """
    p = view.a if which == "a" else view.b
    label = urlstate.segment_label(p.filters_map() or {}) if p.filters else "All accounts"

    def draw() -> tuple[dict, dict, str]:
        frame = _curves(ctx, p)
        scale = None
        if view.b is not None:
            scale = [*_curves(ctx, view.a)[view.metric], *_curves(ctx, view.b)[view.metric]]
        title = f"{charts.label(label, charts.TITLE_CHARS)}: {p.period}ly cohorts"
        heat = heatmap_figure(frame, view.metric)
        return curves_figure(frame, view.metric, title, scale), heat.to_plotly_json(), label

    key = {
        **p.key(("as_of", "period", "filters")),
        "metric": view.metric,
        "scale": view.b is not None and [view.a.filters, view.b.filters],
    }
    return ctx.memo("cohort-figures", key, draw)


def _dim_value_controls(
    ctx: Context, dim_id: str, value_id: str, chosen: dict[str, str], label: str
) -> dbc.Col:
    dim = next(iter(chosen), "vertical")
    value = chosen.get(dim)
    dims = [{"label": urlstate.dimension_label(d), "value": d} for d in ctx.dimensions]
    return dbc.Col(
        [
            html.Label(label),
            dbc.InputGroup(
                [
                    dcc.Dropdown(id=dim_id, options=dims, value=dim, clearable=False,
                                 style={"width": "45%"}),
                    dcc.Dropdown(id=value_id, options=value_options(ctx.dimension_values(dim)),
                                 value=option_key(value) if value else None,
                                 placeholder="All accounts", style={"width": "55%"}),
                ],
                className="flex-nowrap",
            ),
        ],
        md=6, xl=4,
    )


def layout(**query: str) -> html.Div:
    """Cohort curves for the view in the URL."""
    header = page_header(
        "Cohorts",
        "How each cohort of new customers retains revenue and logos as it ages; compare "
        "two segments side by side.",
    )
    opened = open_view(header, lambda ctx: read_view(ctx, query))
    if isinstance(opened, html.Div):
        return opened
    ctx, view = opened
    try:
        curves_a, heat_a, _title_a = figures(ctx, view, "a")
        curves_b, heat_b, _title_b = figures(ctx, view, "b") if view.b else (
            charts.empty_figure(""), charts.empty_figure(""), "")
    except USER_ERRORS as exc:
        return html.Div([header, problem(str(exc))])
    months = ctx.months_available()
    controls = dbc.Row(
        [
            dbc.Col([html.Label("Cohorts by"),
                     dcc.Dropdown(id=ids.PERIOD, options=[{"label": p.title(), "value": p}
                                                         for p in urlstate.PERIODS],
                                  value=view.a.period, clearable=False)], md=3, xl=2),
            dbc.Col([html.Label("As of month"),
                     dcc.Dropdown(id=ids.AS_OF, options=months, value=view.a.as_of_label,
                                  clearable=False)], md=2),
            _dim_value_controls(ctx, ids.DIM_A, ids.VALUE_A, view.a.segment(), "Segment"),
            _dim_value_controls(
                ctx, ids.DIM_B, ids.VALUE_B, view.b.segment() if view.b else {}, "Compare with"
            ),
        ],
        className="controls g-3 mb-2",
    )
    tabs = dbc.Tabs(
        [dbc.Tab(label=definitions.name(METRIC_DEFINITION[m]), tab_id=m) for m in METRICS],
        id=ids.METRIC,
        active_tab=view.metric,
        className="mb-2",
    )

    def column(
        curves_id: str, heat_id: str, curves: go.Figure, heat: go.Figure, which: str
    ) -> list[Any]:
        return [
            download_button(ids.download_button(which), ids.download(which)),
            dcc.Loading(dcc.Graph(id=curves_id, figure=curves, config=charts.GRAPH_CONFIG),
                        delay_show=300, type="dot"),
            dcc.Loading(dcc.Graph(id=heat_id, figure=heat, config=charts.GRAPH_CONFIG),
                        delay_show=300, type="dot"),
        ]

    compare = view.b is not None
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.STATE, data=view.search()),
            header,
            html.Div(id=ids.MESSAGE),
            controls,
            html.P(
                [
                    "Each line is a ",
                    metric_label(METRIC_DEFINITION[view.metric], "co", "cohort"),
                    ": accounts grouped by their first active period; only ages every "
                    "account of the cohort has reached by the as-of month are shown.",
                ],
                className="hint",
            ),
            tabs,
            dbc.Row(
                [
                    dbc.Col(html.Div(column(ids.CURVES_A, ids.HEAT_A, curves_a, heat_a, "a"),
                                     className="panel"), id="co-col-a", xl=6 if compare else 12),
                    dbc.Col(html.Div(column(ids.CURVES_B, ids.HEAT_B, curves_b, heat_b, "b"),
                                     className="panel"), id=ids.COL_B, xl=6,
                            className="" if compare else "d-none"),
                ],
                className="g-3",
            ),
        ]
    )


@callback(
    Output(ids.VALUE_A, "options"),
    Output(ids.VALUE_A, "value"),
    Input(ids.DIM_A, "value"),
    prevent_initial_call=True,
)
def values_a(dim: str) -> tuple[list[dict[str, str]], None]:
    """Values of the first segment's dimension."""
    return value_options(current().dimension_values(dim)), None


@callback(
    Output(ids.VALUE_B, "options"),
    Output(ids.VALUE_B, "value"),
    Input(ids.DIM_B, "value"),
    prevent_initial_call=True,
)
def values_b(dim: str) -> tuple[list[dict[str, str]], None]:
    """Values of the comparison segment's dimension."""
    return value_options(current().dimension_values(dim)), None


OUT = {
    "search": Output(ids.URL, "search"),
    "state": Output(ids.STATE, "data"),
    "curves_a": Output(ids.CURVES_A, "figure"),
    "heat_a": Output(ids.HEAT_A, "figure"),
    "curves_b": Output(ids.CURVES_B, "figure"),
    "heat_b": Output(ids.HEAT_B, "figure"),
    "width_a": Output("co-col-a", "xl"),
    "class_b": Output(ids.COL_B, "className"),
    "message": Output(ids.MESSAGE, "children"),
}


@callback(
    output=OUT,
    inputs={
        "period": Input(ids.PERIOD, "value"),
        "metric": Input(ids.METRIC, "active_tab"),
        "as_of": Input(ids.AS_OF, "value"),
        "dim_a": Input(ids.DIM_A, "value"),
        "value_a": Input(ids.VALUE_A, "value"),
        "dim_b": Input(ids.DIM_B, "value"),
        "value_b": Input(ids.VALUE_B, "value"),
    },
    prevent_initial_call=True,
)
def update_view(
    period: str, metric: str, as_of: str, dim_a: str, value_a: str | None,
    dim_b: str, value_b: str | None,
) -> dict[str, Any]:
    """Redraw the curves for the chosen period, metric and segments; write them to the URL."""
    out = unchanged(OUT)
    if dash.ctx.triggered_id in (ids.DIM_A, ids.DIM_B):
        # The value dropdown is reset by its own callback; redraw once that lands.
        return out
    ctx = current()
    value_a = option_value(value_a, ctx.dimension_values(dim_a))
    value_b = option_value(value_b, ctx.dimension_values(dim_b))
    a = {dim_a: value_a} if value_a else {}
    b = {dim_b: value_b} if value_b else {}
    try:
        view = chosen_view(ctx, period, metric, as_of, a, b)
        curves_a, heat_a, _ = figures(ctx, view, "a")
        curves_b, heat_b, _ = figures(ctx, view, "b") if view.b else (
            dash.no_update, dash.no_update, "")
    except USER_ERRORS as exc:
        return {**out, "message": problem(str(exc))}
    compare = view.b is not None
    return {
        "search": view.search(),
        "state": view.search(),
        "curves_a": curves_a,
        "heat_a": heat_a,
        "curves_b": curves_b,
        "heat_b": heat_b,
        "width_a": 6 if compare else 12,
        "class_b": "" if compare else "d-none",
        "message": None,
    }


@callback(
    Output(ids.NAV, "href"),
    Input(ids.HEAT_A, "clickData"),
    Input(ids.HEAT_B, "clickData"),
    State(ids.STATE, "data"),
    prevent_initial_call=True,
)
def open_cell(click_a: dict | None, click_b: dict | None, search: str) -> str:
    """A heatmap cell opens its cohort's accounts at that age (an empty cell, nothing)."""
    which = "b" if dash.ctx.triggered_id == ids.HEAT_B else "a"
    points = ((click_b if which == "b" else click_a) or {}).get("points") or []
    if not points or points[0].get("z") is None:
        return dash.no_update
    view = read_view(current(), dict(parse_qsl(search.lstrip("?"))))
    p = view.b if which == "b" and view.b is not None else view.a
    return accounts_href(p, p.segment(), cohort=str(points[0]["y"]), age=int(points[0]["x"]))


def _cohort_view(which: str) -> Callable[[Context, dict[str, str]], View]:
    def view_of(ctx: Context, query: dict[str, str]) -> View:
        chosen = read_view(ctx, query)
        return cohorts(ctx, chosen.a if which == "a" else chosen.b or chosen.a)

    return view_of


for _which in ("a", "b"):
    serve_download(
        ids.download_button(_which), ids.download(_which), _cohort_view(_which),
        search=(ids.STATE, "data"),
    )
