"""ICP drift (``/drift``): early signs that the ICP is moving, grouped by kind of alert.

URL state: ``by`` (segment dimension, default vertical), ``as_of``, ``window``.
Each raised alert shows its segment, when it started, its evidence in words, its test
and a small chart of the series it was raised on; opportunities (rising segments) are
marked as such. "Possible" alerts are left to each segment's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import dcc, html

from app.components import charts
from app.components.behind import accounts_href
from app.components.viewpage import current, download_button, open_view, serve_download
from app.components.widgets import page_header, problem
from app.views import USER_ERRORS, definitions
from app.views import evidence as views
from app.views import query as urlstate
from app.views.cohorts import complete_ages
from app.views.context import Context
from app.views.evidence import p_text
from app.views.params import ViewParams, from_query

dash.register_page(
    __name__, path="/drift", name="ICP drift", title="ICP drift · ICP Lens", order=4, role="viewer"
)


class ids:
    """Component ids of this page."""

    ALERTS = "dr-alerts"
    BY_LINKS = "dr-by"
    DOWNLOAD_BUTTON = "dr-download-button"
    DOWNLOAD = "dr-download"


# (title, what it means) per alert type, in the order of METRICS.md.
TYPES = definitions.ALERT_TYPES
# Across types, the q-value rule: tests of one type over the view's segments.
ALPHA_NOTE = (
    "Raised only when the Benjamini-Hochberg q-value across the segments tested is <= alpha."
)
COLOUR = charts.TIER_COLOURS["accidental_icp"]
# Rules 7-9: raised when the 95% interval excludes the threshold (no q-value).
THRESHOLD_TYPES = ("grr_warning", "masked_churn", "pricing_signal")


def _bars(x: list, y: list, axis: dict[str, Any], highlight: int = 0) -> go.Figure:
    """Bars with the last ``highlight`` in the alert colour (a negative count: the first).

    ``x``: quarters, or segment names from the data (short on the axis, whole on hover).
    """
    if highlight >= 0:
        colours = [charts.MUTED] * (len(x) - highlight) + [COLOUR] * highlight
    else:
        colours = [COLOUR] * -highlight + [charts.MUTED] * (len(x) + highlight)
    fig = go.Figure(
        go.Bar(x=charts.categories(x), y=y, marker_color=colours,
               hovertext=[charts.hover(v) for v in x], hoverinfo="text+y")
    )
    fig.update_xaxes(**charts.category_axis(x))
    fig.update_yaxes(**axis)
    return fig


def _line(x: list, y: list, axis: dict[str, Any], colour: str = COLOUR) -> go.Figure:
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", line={"color": colour}))
    fig.update_yaxes(**axis)
    return fig


def _cohort_groups(series: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    # Only ages every account of the group has reached, as on the cohorts page.
    full = complete_ages(pl.DataFrame(series), ["group"]) if series else None
    parts = full.partition_by("group", as_dict=True, maintain_order=True) if full is not None else {}
    for (group,), part in parts.items():
        fig.add_trace(
            go.Scatter(
                x=part["age"].to_list(), y=part["logo_retention"].to_list(),
                mode="lines+markers", name=charts.label(group),
                line={"color": COLOUR if group != "base" else charts.MUTED},
            )
        )
    fig.update_xaxes(title="age (months)")
    fig.update_yaxes(tickformat=".0%", title="logo retention")
    return fig


PCT = {"tickformat": ".0%"}
CHARTS: dict[str, Callable[[list[dict[str, Any]]], go.Figure]] = {
    "sales_cycle_lengthening": lambda s: _bars(
        [r["quarter"] for r in s], [r["days_to_close"] for r in s],
        {"title": "days to close", "ticksuffix": " d"}, highlight=2),
    "recent_cohorts_worse": _cohort_groups,
    "bookings_mix_off_icp": lambda s: _bars(
        [r["quarter"] for r in s], [r["core_share"] for r in s],
        {**PCT, "title": "Core ICP share"}, highlight=2),
    "nrr_trending_down": lambda s: _line(
        [r["month"] for r in s], [r["nrr"] for r in s], {**PCT, "title": "trailing NRR"}),
    "contraction_rising": lambda s: _bars(
        [r["quarter"] for r in s], [r["contraction_rate"] for r in s],
        {"tickformat": ".1%", "title": "contraction rate"}, highlight=1),
    "win_rate_trap": lambda s: _bars(
        [r["group"] for r in s], [r["win_rate"] for r in s], {**PCT, "title": "win rate"},
        highlight=-1),
    "grr_warning": lambda s: _bars(
        [r["group"] for r in s], [r["grr"] for r in s], {**PCT, "title": "GRR"}, highlight=-1),
    "masked_churn": lambda s: _bars(
        [r["group"] for r in s], [r["logo_retention"] for r in s],
        {**PCT, "title": "logo retention"}, highlight=-1),
    "pricing_signal": lambda s: _bars(
        [r["group"] for r in s], [r["grr"] for r in s], {**PCT, "title": "GRR"}, highlight=-1),
    "acv_up_nrr_down": lambda s: _bars(
        [r["quarter"] for r in s], [r["avg_deal_size"] for r in s],
        {"title": "average deal size"}, highlight=2),
    "rising_segment": lambda s: _line(
        [r["month"] for r in s], [r["nrr"] for r in s], {**PCT, "title": "trailing NRR"},
        colour=charts.TIER_COLOURS["core_icp"]),
}


def small_chart(alert: dict[str, Any]) -> go.Figure:
    """The alert's series as a small chart (the recent part highlighted)."""
    series = alert.get("series") or []
    if not series or alert["type"] not in CHARTS:
        return charts.empty_figure("No series for this alert.", height=200)
    fig = CHARTS[alert["type"]](series)
    fig = charts.styled(fig, height=220, legend=alert["type"] == "recent_cohorts_worse")
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 40}, legend={"y": -0.35})
    return fig


def _test_line(evidence: dict[str, Any]) -> str:
    test = evidence.get("test")
    p = evidence.get("p_value")
    if not test:
        return ""
    q = evidence.get("q_value")
    return (
        f"Test: {test}"
        + (f", {p_text(p)}" if p is not None else "")
        + (f", {p_text(q).replace('p', 'q', 1)}" if q is not None else "")
    )


def alert_card(alert: dict[str, Any], index: int, accounts: str) -> dbc.Card:
    """One alert: segment, start, explanation, test, its small chart and a link to the
    ``accounts`` behind it."""
    severity = alert.get("severity")
    opportunity = alert.get("kind") == "opportunity"
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.Span(severity.title(),
                                              className=f"tier-badge severity-{severity} me-2")
                                    if severity else None,
                                    html.Span("Opportunity",
                                              className="tier-badge tier-core_icp me-2")
                                    if opportunity else None,
                                    html.Strong(alert["segment_label"], className="me-2"),
                                    html.Span(f"since {alert['started']}", className="hint"),
                                ],
                                className="mb-1",
                            ),
                            html.P(alert["explanation"], className="evidence"),
                            html.Div(_test_line(alert.get("evidence", {})), className="hint"),
                            dcc.Link("Accounts of this segment →", href=accounts,
                                     className="alert-accounts small"),
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        dcc.Graph(id={"type": "dr-chart", "index": index},
                                  # Keyed by the alert itself (its evidence holds the series).
                                  figure=current().memo(
                                      "drift-chart", {"alert": alert},
                                      lambda: small_chart(alert).to_plotly_json(),
                                  ),
                                  config={"displayModeBar": False}),
                        md=6,
                    ),
                ]
            )
        ),
        className=f"alert-card sev-{severity or 'medium'} mb-2"
        + (" opportunity" if opportunity else ""),
    )


def grouped(alerts: list[dict[str, Any]], p: ViewParams) -> list[Any]:
    """Alerts grouped under their type, in the order of METRICS.md (``p``: the view, for
    the links to each segment's accounts)."""
    out: list[Any] = []
    index = 0
    for kind, (title, meaning) in TYPES.items():
        mine = [a for a in alerts if a["type"] == kind]
        if not mine:
            continue
        cards = []
        for a in mine:
            cards.append(alert_card(a, index, accounts_href(p, a["segment"])))
            index += 1
        out.append(
            html.Div(
                [
                    html.Div([title, html.Span(f" · {len(mine)}", className="hint")],
                             className="section-title", title=meaning),
                    html.P(f"{meaning} {ALPHA_NOTE}" if kind not in THRESHOLD_TYPES else meaning,
                           className="hint"),
                    *cards,
                ],
                className="panel",
                id=f"dr-group-{kind}",
            )
        )
    return out


def layout(**query: str) -> html.Div:
    """Drift alerts for the view in the URL."""
    header = page_header(
        "ICP drift",
        "Signals that the customers you win are moving away from the ones that stay: "
        "each alert says what moved, since when, and how sure we are.",
    )
    opened = open_view(header, lambda ctx: read_params(ctx, query))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        view = views.alerts(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([header, problem(str(exc))])
    found = view.records()
    by, as_of, window = p.by[0], p.as_of_label, p.window
    links = [
        dbc.Button(
            urlstate.dimension_label(d),
            href="/drift" + urlstate.search({"by": d, "as_of": as_of, "window": window}),
            color="primary" if d == by else "light", size="sm", className="me-1",
        )
        for d in ctx.dimensions
    ]
    alerts = [a for a in found if a["status"] == "raised"]
    warnings = sum(a["kind"] == "warning" for a in alerts)
    possible = len(found) - len(alerts)
    count = f"{warnings} open alerts and {len(alerts) - warnings} opportunities as of {as_of}" + (
        f"; {possible} possible (interval includes the threshold), on each segment's page"
        if possible else ""
    )
    body = grouped(alerts, p) or [
        dbc.Alert(f"No drift alert by {urlstate.dimension_label(by).lower()} as of {as_of}.",
                  color="success")
    ]
    return html.Div(
        [
            header,
            html.Div(
                [html.Span("Segment by ", className="hint me-2"), *links,
                 html.Span(count, className="hint ms-2"),
                 download_button(ids.DOWNLOAD_BUTTON, ids.DOWNLOAD, class_name="float-end")],
                id=ids.BY_LINKS, className="mb-3",
            ),
            html.Div(body, id=ids.ALERTS),
        ]
    )



def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """The view named by the URL: one dimension, as-of and window."""
    return from_query(ctx, query, by=(urlstate.dimension(query, ctx.dimensions),), filters={})


serve_download(
    ids.DOWNLOAD_BUTTON, ids.DOWNLOAD,
    lambda ctx, query: views.alerts(ctx, read_params(ctx, query)),
)
