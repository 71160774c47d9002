"""Accidental ICP (``/accidental-icp``): segments that are easy to win and do not stay.

URL state: ``by`` (segment dimension, default vertical), ``as_of``, ``window``.
The page is static for its URL; its controls are links.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from app.components import charts, labels
from app.components.behind import accounts_href
from app.components.viewpage import download_button, open_view, serve_download
from app.components.widgets import TIER_LABELS, metric_label, page_header, problem
from app.views import USER_ERRORS, MetricSettings, definitions
from app.views import evidence as views
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.context import Context
from app.views.params import ViewParams, from_query
from app.views.scorecard import company_numbers, scorecard

dash.register_page(
    __name__, path="/accidental-icp", name="Accidental ICP",
    title="Accidental ICP · ICP Lens", order=3, role="viewer",
)


class ids:
    """Component ids of this page."""

    QUADRANT = "ai-quadrant"
    FLAGS = "ai-flags"
    BY_LINKS = "ai-by"
    DOWNLOAD_BUTTON = "ai-download-button"
    DOWNLOAD = "ai-download"


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """The view named by the URL: one dimension, as-of and window."""
    return from_query(ctx, query, by=(urlstate.dimension(query, ctx.dimensions),), filters={})


REASONS = {
    "accidental_icp": "NRR below the Accidental ICP threshold",
    "logo_retention_below_company": "Losing logos faster than the company while winning more of them",
}


MAX_BUBBLE = 60  # pixels across the bubble of the most new bookings


def quadrant(rows: list[dict[str, Any]], flagged: set[str], company: dict[str, Any],
             by: str, settings: MetricSettings) -> go.Figure:
    """Win rate (x) against NRR (y), bubble size new bookings, the 90% NRR line drawn."""
    plotted = [r for r in rows if r["win_rate"] is not None and r["nrr"] is not None]
    if not plotted:
        return charts.empty_figure("No segment has both a win rate and an NRR for this view.")
    largest = max((r["bookings"] or 0) for r in plotted) or 1
    xs = [r["win_rate"] for r in plotted]
    ys = [r["nrr"] for r in plotted] + [settings.watch_nrr]
    x_range = (max(min(xs) - 0.08, 0), max(xs) + 0.08)
    y_range = (min(ys) - 0.06, max(ys) + 0.06)
    # Each label goes where it overlaps no other label or bubble (plot area ~700x375 px).
    bubbles = [
        labels.Bubble(r["win_rate"], r["nrr"],
                      labels.bubble_size(r["bookings"], largest, MAX_BUBBLE), charts.short(r[by]))
        for r in plotted
    ]
    label_at = dict(zip(
        (str(r[by]) for r in plotted),
        labels.label_positions(bubbles, x_range, y_range, plot_size=(700, 375), font_size=11),
        strict=True,
    ))
    fig = go.Figure()
    for tier, label in TIER_LABELS.items():
        part = [r for r in plotted if r["tier"] == tier]
        if not part:
            continue
        fig.add_trace(
            go.Scatter(
                x=[r["win_rate"] for r in part],
                y=[r["nrr"] for r in part],
                mode="markers+text",
                # Labels of bubbles near an edge may run past it rather than vanish.
                cliponaxis=False,
                name=label,
                text=[charts.label(r[by]) for r in part],
                textposition=[label_at[str(r[by])] for r in part],
                textfont={"size": 11},
                customdata=[[charts.hover(r[by]), fmt.money(r["bookings"]), fmt.pct(r["win_rate"]),
                             fmt.pct(r["nrr"])] for r in part],
                hovertemplate="<b>%{customdata[0]}</b><br>win rate %{customdata[2]}<br>"
                "NRR %{customdata[3]}<br>new bookings %{customdata[1]}<extra></extra>",
                marker={
                    "size": [max(r["bookings"] or 0, largest * 0.03) for r in part],
                    "sizemode": "area",
                    "sizeref": 2.0 * largest / MAX_BUBBLE**2,
                    "sizemin": labels.MIN_BUBBLE,
                    "color": charts.TIER_COLOURS[tier],
                    "opacity": 0.75,
                    "line": {"width": [3 if str(r[by]) in flagged else 1 for r in part],
                             "color": [charts.LINE if str(r[by]) in flagged else "white"
                                       for r in part]},
                },
            )
        )
    fig.add_hline(
        y=settings.watch_nrr, line={"color": charts.TIER_COLOURS["accidental_icp"], "width": 1.5},
        annotation_text=f"{settings.watch_nrr:.0%} NRR: below it, Accidental ICP",
        annotation_position="bottom right",
        annotation_font={"color": charts.TIER_COLOURS["accidental_icp"], "size": 11},
    )
    if company.get("win_rate") is not None:
        fig.add_vline(
            x=company["win_rate"], line={"dash": "dot", "color": charts.MUTED, "width": 1},
            annotation_text=f"company win rate {fmt.pct(company['win_rate'])}",
            annotation_position="bottom left", annotation_font={"size": 10, "color": charts.MUTED},
        )
    fig.update_xaxes(title="Win rate (new business, in the window)", tickformat=".0%",
                     range=list(x_range))
    fig.update_yaxes(title="NRR", tickformat=".0%", range=list(y_range))
    fig.update_layout(
        title={"text": "The trap: bottom right wins easily and does not keep its revenue "
                       "(bubble size: new bookings; thick outline: flagged)",
               "font": {"size": 14}}
    )
    return charts.styled(fig, height=520)


def _number(label: str, value: str, reference: str | None = None) -> html.Span:
    ref = f" (company {reference})" if reference else ""
    return html.Span([f"{label} ", html.B(value), ref], className="me-3 d-inline-block")


def flag_card(flag: dict[str, Any], accounts: str) -> dbc.Card:
    """One flag: segment, severity, the evidence sentence, its numbers and a link to the
    ``accounts`` behind them."""
    e = flag["evidence"]
    numbers = [
        _number("NRR", fmt.pct(e.get("nrr")), None),
        _number("95% interval", fmt.interval(e.get("nrr_low"), e.get("nrr_high"))),
        _number("GRR", fmt.pct(e.get("grr"))),
        _number("logo retention", fmt.pct(e.get("logo_retention")),
                fmt.pct(e.get("company_logo_retention"))),
        _number("win rate", fmt.pct(e.get("win_rate")), fmt.pct(e.get("company_win_rate"))),
        _number("days to close", fmt.days(e.get("days_to_close")),
                fmt.days(e.get("company_days_to_close"))),
        _number("share of bookings", fmt.pct(e.get("bookings_share"))),
        _number("share of new logos", fmt.pct(e.get("new_logo_share")),
                None if e.get("base_share") is None else f"base share {fmt.pct(e['base_share'])}"),
        _number("accounts", fmt.count(e.get("accounts"))),
    ]
    caveat = (
        html.P("The 95% interval of its NRR includes the threshold: this may be noise.",
               className="hint mb-0")
        if e.get("interval_includes_threshold") else None
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span(flag["severity"].title(),
                                  className=f"tier-badge severity-{flag['severity']} me-2"),
                        html.Strong(flag["segment_label"], className="me-2"),
                        html.Span(REASONS.get(flag["reason"], flag["reason"]), className="hint"),
                    ],
                    className="mb-1",
                ),
                html.P(flag["explanation"], className="evidence"),
                html.Div(numbers, className="flag-numbers"),
                caveat,
                dcc.Link("Accounts behind these numbers →", href=accounts,
                         className="flag-accounts small"),
            ]
        ),
        className=f"flag-card sev-{flag['severity']} mb-2",
    )


def layout(**query: str) -> html.Div:
    """Flagged segments and the quadrant for the view in the URL."""
    header = page_header(
        "Accidental ICP",
        "Segments that look attractive when you sell to them (high win rate, short cycle, "
        "many new logos) but do not keep their revenue.",
    )
    opened = open_view(header, lambda ctx: read_params(ctx, query))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        flags = views.flags(ctx, p).records()
        board = scorecard(ctx, p).frame
        company = company_numbers(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([header, problem(str(exc))])
    by, as_of, window = p.by[0], p.as_of_label, p.window
    links = [
        dbc.Button(
            urlstate.dimension_label(d),
            href="/accidental-icp" + urlstate.search({"by": d, "as_of": as_of, "window": window}),
            color="primary" if d == by else "light",
            size="sm",
            className="me-1",
            external_link=False,
        )
        for d in ctx.dimensions
    ]
    flagged = {str(f["segment"].get(by)) for f in flags}
    cards = [flag_card(f, accounts_href(p, f["segment"])) for f in flags] or [
        dbc.Alert(f"No segment by {urlstate.dimension_label(by).lower()} is flagged as of "
                  f"{as_of}.", color="success")
    ]
    return html.Div(
        [
            header,
            html.Div(
                [html.Span("Segment by ", className="hint me-2"), *links,
                 html.Span(f"as of {as_of}, over {fmt.months(window)}", className="hint ms-2")],
                id=ids.BY_LINKS, className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        html.Div(
                            [
                                html.Div(
                                    [f"{len(flags)} flagged, most severe first · ",
                                     metric_label("accidental_icp_flag", "ai", "how flags work")],
                                    className="section-title",
                                ),
                                html.Div(cards, id=ids.FLAGS),
                                download_button(ids.DOWNLOAD_BUTTON, ids.DOWNLOAD),
                            ],
                            className="panel",
                        ),
                        xl=5,
                    ),
                    dbc.Col(
                        html.Div(
                            dcc.Graph(id=ids.QUADRANT,
                                      figure=ctx.memo(
                                          "quadrant", p.key(("as_of", "window", "by")),
                                          lambda: quadrant(board.to_dicts(), flagged, company,
                                                           by, ctx.settings).to_plotly_json(),
                                      ),
                                      config=charts.GRAPH_CONFIG),
                            className="panel",
                        ),
                        xl=7,
                    ),
                ],
                className="g-3",
            ),
            html.P(
                [definitions.name("win_rate"), ": ", definitions.definition("win_rate"), " ",
                 definitions.name("nrr"), ": ", definitions.definition("nrr")],
                className="hint",
            ),
        ]
    )


serve_download(
    ids.DOWNLOAD_BUTTON, ids.DOWNLOAD,
    lambda ctx, query: views.flags(ctx, read_params(ctx, query)),
)
