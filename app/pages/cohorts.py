"""Cohorts (``/cohorts``): retention curves by cohort, as lines and as a heatmap triangle.

URL state: ``period`` (month, quarter, year), ``metric`` (nrr, grr, logo_retention),
``as_of``, a segment as ``<dimension>=<value>`` (e.g. ``vertical=Healthcare``) and an
optional second segment side by side as ``compare_<dimension>=<value>``.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, callback, ctx, dcc, html

from app import data
from app.components import charts
from app.components.widgets import empty_state, metric_label, page_header, problem
from app.views import definitions
from app.views import query as urlstate
from metrics.cohorts import complete_ages

dash.register_page(
    __name__, path="/cohorts", name="Cohorts", title="Cohorts · ICP Lens", order=2, role="viewer"
)


class ids:
    """Component ids of this page."""

    URL = "co-url"
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


METRICS = ("nrr", "grr", "logo_retention")
METRIC_DEFINITION = {"nrr": "cohort_nrr", "grr": "cohort_grr", "logo_retention": "cohort_logo_retention"}
COMPARE = "compare_"
# Sequential palette: older cohorts light, recent ones dark, so the trend reads at a glance.
PALETTE = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")


def view_state(query: dict[str, str]) -> dict[str, Any]:
    """The view named by the URL."""
    metric = query.get("metric") or "nrr"
    if metric not in METRICS:
        raise urlstate.BadParameter(f"metric={metric!r}; use nrr, grr or logo_retention")
    a = urlstate.segment_filters(query)
    b = urlstate.segment_filters(query, prefix=COMPARE)
    if len(a) > 1 or len(b) > 1:
        raise urlstate.BadParameter("compare one segment dimension at a time")
    return {
        "period": urlstate.period(query) or data.context().settings.cohort_period,
        "metric": metric,
        "as_of": urlstate.as_of(query) or data.default_as_of(),
        "a": a,
        "b": b,
    }


def state_search(state: dict[str, Any]) -> str:
    """The query string of a view state."""
    params: dict[str, Any] = {"period": state["period"], "metric": state["metric"],
                              "as_of": state["as_of"]}
    params.update({d: v[0] for d, v in state["a"].items()})
    params.update({COMPARE + d: v[0] for d, v in state["b"].items()})
    return urlstate.search(params)


def _colour(i: int, n: int) -> str:
    return PALETTE[round(i * (len(PALETTE) - 1) / max(n - 1, 1))]


def curves_figure(frame: pl.DataFrame, metric: str, title: str) -> dict:
    """One line per cohort: the metric against age in months."""
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
    charts.ratio_axis(fig, frame[metric].to_list(), definitions.name(METRIC_DEFINITION[metric]))
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
            hovertemplate="%{y} age %{x} months: %{z:.0%}<extra></extra>",
        )
    )
    fig.update_xaxes(title="Age (months)")
    fig.update_yaxes(autorange="reversed", title="Cohort", type="category")
    return charts.styled(fig, height=max(320, 14 * wide.height + 120), legend=False)


def figures(state: dict[str, Any], which: str) -> tuple[dict, dict, str]:
    """Curves, heatmap (as figure dicts) and title for segment ``a`` or ``b`` of the view.

    Memoized per data version: drawing a hundred cohorts is the slow part of the page.
    """
    filters = state[which] or None
    label = urlstate.segment_label(state[which]) if state[which] else "All accounts"

    def draw() -> tuple[dict, dict, str]:
        frame = complete_ages(data.cohorts(state["as_of"], state["period"], filters))
        frame = frame.sort("cohort_start", "age")
        title = f"{label}: {state['period']}ly cohorts"
        heat = heatmap_figure(frame, state["metric"])
        return curves_figure(frame, state["metric"], title), heat.to_plotly_json(), label

    params = {"period": state["period"], "metric": state["metric"], "as_of": state["as_of"],
              "filters": filters}
    return data.cached_view("cohort-figures", params, draw)


def _dim_value_controls(dim_id: str, value_id: str, chosen: dict[str, list[str]], label: str) -> dbc.Col:
    dim = next(iter(chosen), "vertical")
    value = chosen[dim][0] if chosen else None
    dims = [{"label": urlstate.DIMENSION_LABELS[d], "value": d} for d in urlstate.DIMENSION_LABELS]
    return dbc.Col(
        [
            html.Label(label),
            dbc.InputGroup(
                [
                    dcc.Dropdown(id=dim_id, options=dims, value=dim, clearable=False,
                                 style={"width": "45%"}),
                    dcc.Dropdown(id=value_id, options=data.dimension_values(dim), value=value,
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
    if data.context().empty:
        return html.Div([header, empty_state()])
    try:
        state = view_state(query)
        curves_a, heat_a, title_a = figures(state, "a")
        curves_b, heat_b, title_b = figures(state, "b") if state["b"] else (
            charts.empty_figure(""), charts.empty_figure(""), "")
    except (urlstate.BadParameter, data.MetricsError) as exc:
        return html.Div([header, problem(str(exc))])
    months = data.months_available()
    controls = dbc.Row(
        [
            dbc.Col([html.Label("Cohorts by"),
                     dcc.Dropdown(id=ids.PERIOD, options=[{"label": p.title(), "value": p}
                                                         for p in urlstate.PERIODS],
                                  value=state["period"], clearable=False)], md=3, xl=2),
            dbc.Col([html.Label("As of month"),
                     dcc.Dropdown(id=ids.AS_OF, options=months, value=state["as_of"],
                                  clearable=False)], md=2),
            _dim_value_controls(ids.DIM_A, ids.VALUE_A, state["a"], "Segment"),
            _dim_value_controls(ids.DIM_B, ids.VALUE_B, state["b"], "Compare with"),
        ],
        className="controls g-3 mb-2",
    )
    tabs = dbc.Tabs(
        [dbc.Tab(label=definitions.name(METRIC_DEFINITION[m]), tab_id=m) for m in METRICS],
        id=ids.METRIC,
        active_tab=state["metric"],
        className="mb-2",
    )

    def column(curves_id: str, heat_id: str, curves: go.Figure, heat: go.Figure) -> list[Any]:
        return [
            dcc.Loading(dcc.Graph(id=curves_id, figure=curves, config=charts.GRAPH_CONFIG),
                        delay_show=300, type="dot"),
            dcc.Loading(dcc.Graph(id=heat_id, figure=heat, config=charts.GRAPH_CONFIG),
                        delay_show=300, type="dot"),
        ]

    compare = bool(state["b"])
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            header,
            html.Div(id=ids.MESSAGE),
            controls,
            html.P(
                [
                    "Each line is a ",
                    metric_label(METRIC_DEFINITION[state["metric"]], "co", "cohort"),
                    ": accounts grouped by their first active period; only ages every "
                    "account of the cohort has reached by the as-of month are shown.",
                ],
                className="hint",
            ),
            tabs,
            dbc.Row(
                [
                    dbc.Col(html.Div(column(ids.CURVES_A, ids.HEAT_A, curves_a, heat_a),
                                     className="panel"), id="co-col-a", xl=6 if compare else 12),
                    dbc.Col(html.Div(column(ids.CURVES_B, ids.HEAT_B, curves_b, heat_b),
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
def values_a(dim: str) -> tuple[list[str], None]:
    """Values of the first segment's dimension."""
    return data.dimension_values(dim), None


@callback(
    Output(ids.VALUE_B, "options"),
    Output(ids.VALUE_B, "value"),
    Input(ids.DIM_B, "value"),
    prevent_initial_call=True,
)
def values_b(dim: str) -> tuple[list[str], None]:
    """Values of the comparison segment's dimension."""
    return data.dimension_values(dim), None


@callback(
    Output(ids.URL, "search"),
    Output(ids.CURVES_A, "figure"),
    Output(ids.HEAT_A, "figure"),
    Output(ids.CURVES_B, "figure"),
    Output(ids.HEAT_B, "figure"),
    Output("co-col-a", "xl"),
    Output(ids.COL_B, "className"),
    Output(ids.MESSAGE, "children"),
    Input(ids.PERIOD, "value"),
    Input(ids.METRIC, "active_tab"),
    Input(ids.AS_OF, "value"),
    Input(ids.DIM_A, "value"),
    Input(ids.VALUE_A, "value"),
    Input(ids.DIM_B, "value"),
    Input(ids.VALUE_B, "value"),
    prevent_initial_call=True,
)
def update_view(
    period: str, metric: str, as_of: str, dim_a: str, value_a: str | None,
    dim_b: str, value_b: str | None,
) -> tuple:
    """Redraw the curves for the chosen period, metric and segments; write them to the URL."""
    no = dash.no_update
    if ctx.triggered_id in (ids.DIM_A, ids.DIM_B):
        # The value dropdown is reset by its own callback; redraw once that lands.
        return (no,) * 8
    state = {
        "period": period,
        "metric": metric,
        "as_of": as_of,
        "a": {dim_a: [value_a]} if value_a else {},
        "b": {dim_b: [value_b]} if value_b else {},
    }
    try:
        curves_a, heat_a, _ = figures(state, "a")
        curves_b, heat_b, _ = figures(state, "b") if state["b"] else (no, no, "")
    except data.MetricsError as exc:
        return (no,) * 7 + (problem(str(exc)),)
    compare = bool(state["b"])
    return (state_search(state), curves_a, heat_a, curves_b, heat_b, 6 if compare else 12,
            "" if compare else "d-none", None)
