"""Segment (``/segment?vertical=...&sub_industry=...``): everything about one segment.

URL state: one parameter per segment dimension (``vertical``, ``sub_industry``,
``size_band``, ``region``, ``use_case``, ``lead_source``), plus ``as_of`` and
``window``. The page is static for its URL: every control is a link.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html
from plotly.subplots import make_subplots

from app.components import charts
from app.components.benchmarks import band, benchmark_text
from app.components.viewpage import current, download_button, open_view, serve_download
from app.components.widgets import kpi_card, page_header, problem, tier_badge
from app.views import USER_ERRORS, ViewError, definitions
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.cohorts import cohorts, complete_ages
from app.views.context import Context
from app.views.evidence import alerts, flags
from app.views.history import tier_history
from app.views.params import ViewParams, from_query
from app.views.sales import quarterly_secondary
from app.views.scorecard import company_numbers, scorecard

dash.register_page(
    __name__, path="/segment", name="Segment",
    title="Segment · ICP Lens", order=1, role="viewer", nav=False,
)


class ids:
    """Component ids of this page."""

    WATERFALL = "seg-waterfall"
    COHORTS = "seg-cohorts"
    QUARTERS = "seg-quarters"
    FLAGS = "seg-flags"
    HISTORY = "seg-history"
    HISTORY_CHART = "seg-history-chart"
    ROW_BUTTON = "seg-row-download-button"
    ROW_DOWNLOAD = "seg-row-download"
    QUARTERS_BUTTON = "seg-quarters-download-button"
    QUARTERS_DOWNLOAD = "seg-quarters-download"

    @staticmethod
    def kpi(key: str) -> str:
        """Id of a metric card's value."""
        return f"seg-kpi-{key}"


CARDS = (
    ("nrr", fmt.pct, ("nrr_low", "nrr_high")),
    ("grr", fmt.pct, None),
    ("logo_retention", fmt.pct, None),
    ("clv", fmt.money, ("clv_low", "clv_high")),
    ("win_rate", fmt.pct, None),
    ("avg_deal_size", fmt.money, None),
    ("days_to_close", fmt.days, None),
    ("accounts", fmt.count, None),
)


def _more_cards(row: dict[str, Any], company: dict[str, Any]) -> dbc.Row:
    """The numbers behind the headline ones: ARPA, simple CLV beside cohort CLV, expansion
    and contraction rates, sales velocity and the spread of the sales cycle."""

    def rate(key: str) -> tuple[str, str]:
        return fmt.pct(row.get(key), 1), f"company {fmt.pct(company.get(key), 1)}"

    def velocity(value: float | None) -> str:
        return fmt.MISSING if value is None else f"{fmt.money(value)}/day"

    def cv(value: float | None) -> str:
        return fmt.MISSING if value is None else f"{value:.2f}"

    p25, p75 = row.get("days_to_close_p25"), row.get("days_to_close_p75")
    spread = fmt.MISSING if p25 is None or p75 is None else f"{p25:.0f}–{p75:.0f} days"
    cards = {
        "arpa": (fmt.money(row.get("arpa")), f"company {fmt.money(company.get('arpa'))}"),
        "clv_simple": (fmt.money(row.get("clv_simple")), f"cohort CLV {fmt.money(row.get('clv'))}"),
        "expansion_rate": rate("expansion_rate"),
        "contraction_rate": rate("contraction_rate"),
        "sales_velocity": (
            velocity(row.get("sales_velocity")),
            f"company {velocity(company.get('sales_velocity'))}",
        ),
        "days_to_close_p25": (
            spread,
            f"CV {cv(row.get('days_to_close_cv'))} · "
            f"company {cv(company.get('days_to_close_cv'))}",
        ),
    }
    return dbc.Row(
        [
            dbc.Col(
                kpi_card(key, ids.kpi(key), value, f"{ids.kpi(key)}-note", note, None, None),
                xs=6, md=4, xl=2,
            )
            for key, (value, note) in cards.items()
        ],
        className="g-3 mb-3 more-numbers",
    )


def _cards(row: dict[str, Any], company: dict[str, Any], ctx: Context) -> dbc.Row:
    settings = ctx.settings
    cols = []
    for key, formatter, bounds in CARDS:
        if bounds:
            note = "95% interval " + fmt.interval(row.get(bounds[0]), row.get(bounds[1]), formatter)
        else:
            note = f"company {formatter(company.get(key))}"
        shade = band(key, row.get(key), settings) if row["tier"] != "insufficient_data" else None
        closed = (row.get("won") or 0) + (row.get("lost") or 0)
        if key == "win_rate" and 0 < closed < settings.min_deals:
            # Too few deals to compare (METRICS.md): greyed, with its count.
            note = f"from {fmt.plural(closed, 'closed deal')}: too few to compare"
            shade = "few"
        cols.append(
            dbc.Col(
                kpi_card(
                    key, ids.kpi(key), formatter(row.get(key)), f"{ids.kpi(key)}-note", note,
                    shade, benchmark_text(key, settings),
                ),
                xs=6, md=3, xl=3,
            )
        )
    return dbc.Row(cols, className="g-3 mb-3")


def waterfall(row: dict[str, Any]) -> go.Figure:
    """NRR decomposition: starting MRR of the cohort, expansion, contraction, churn, ending MRR."""
    if not row.get("starting_mrr"):
        return charts.empty_figure("No account of this segment was active at the window start.")
    steps = [
        ("Start", row["starting_mrr"], "absolute"),
        ("Expansion", row["expansion"], "relative"),
        ("Contraction", -row["contraction"], "relative"),
        ("Churn", -row["churned"], "relative"),
        ("End", row["ending_mrr"], "total"),
    ]
    fig = go.Figure(
        go.Waterfall(
            x=[s[0] for s in steps],
            y=[s[1] for s in steps],
            measure=[s[2] for s in steps],
            text=[fmt.money(abs(s[1])) for s in steps],
            textposition="outside",
            increasing={"marker": {"color": charts.MOVEMENT_COLOURS["expansion"]}},
            decreasing={"marker": {"color": charts.MOVEMENT_COLOURS["churn"]}},
            totals={"marker": {"color": charts.LINE}},
            connector={"line": {"color": charts.MUTED, "width": 1}},
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title={"text": f"NRR {fmt.pct(row.get('nrr'))}: where the starting MRR went",
               "font": {"size": 14}}
    )
    top = max(row["starting_mrr"], row["ending_mrr"], row["starting_mrr"] + row["expansion"])
    # 15% above the tallest bar for its label; round money ticks within.
    fig.update_yaxes(title="MRR of the starting cohort", range=[0, top * 1.15],
                     **charts.money_axis(charts.nice_ticks(0, top * 1.15, 6), fit=False))
    return charts.styled(fig, height=360, legend=False)


def cohort_compare(segment: Any, company: Any) -> go.Figure:
    """The segment's yearly cohort NRR curves (solid) against the company's (grey, dotted)."""
    if segment.height == 0:
        return charts.empty_figure("No cohort in this segment yet.")
    fig = go.Figure()
    for frame, is_segment in ((company, False), (segment, True)):
        for cohort in frame.get_column("cohort").unique(maintain_order=True).to_list():
            part = frame.filter(frame["cohort"] == cohort)
            fig.add_trace(
                go.Scatter(
                    x=part["age"].to_list(),
                    y=part["nrr"].to_list(),
                    mode="lines",
                    name=f"{cohort} {'segment' if is_segment else 'company'}",
                    legendgroup="segment" if is_segment else "company",
                    line={
                        "width": 2 if is_segment else 1.2,
                        "dash": "solid" if is_segment else "dot",
                        "color": None if is_segment else charts.MUTED,
                    },
                    showlegend=is_segment,
                    hovertemplate=f"{cohort} age %{{x}} months: NRR %{{y:.0%}}<extra></extra>",
                )
            )
    fig.update_xaxes(title="Age (months since the cohort's first month)")
    charts.ratio_axis(fig, segment["nrr"].to_list() + company["nrr"].to_list(), "Cohort NRR")
    fig.update_layout(
        title={"text": "Yearly cohorts: segment (colour) against company (grey, dotted)",
               "font": {"size": 14}}
    )
    fig = charts.styled(fig, height=360)
    fig.update_layout(legend={"orientation": "v", "y": 1, "x": 1.02, "font": {"size": 10}})
    return fig


def quarters_figure(frame: Any) -> go.Figure:
    """Win rate, average deal size and days to close by quarter."""
    if frame.height == 0:
        return charts.empty_figure("No closed new-business deal in the last quarters.")
    fig = make_subplots(
        rows=1, cols=3,
        subplot_titles=[definitions.name(k) for k in ("win_rate", "avg_deal_size", "days_to_close")],
    )
    q = frame["quarter"].to_list()
    fig.add_trace(go.Bar(x=q, y=frame["win_rate"].to_list(), marker_color=charts.TIER_COLOURS["healthy"]), 1, 1)
    fig.add_trace(go.Bar(x=q, y=frame["avg_deal_size"].to_list(), marker_color=charts.MUTED), 1, 2)
    fig.add_trace(go.Bar(x=q, y=frame["days_to_close"].to_list(), marker_color=charts.TIER_COLOURS["watch"]), 1, 3)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    sizes = [v for v in frame["avg_deal_size"].to_list() if v is not None]
    fig.update_yaxes(row=1, col=2, **charts.money_axis(charts.nice_ticks(0, max(sizes, default=0), 5)))
    fig.update_yaxes(ticksuffix=" d", row=1, col=3)
    fig.update_xaxes(tickangle=-45)
    return charts.styled(fig, height=300, legend=False)


def _figures(
    ctx: Context, p: ViewParams, row: dict[str, Any], quarters: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Waterfall, cohort comparison and quarterly charts as figure dicts, memoized per data
    version and view (drawing them is most of the page's time)."""

    def draw() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        yearly = p.with_(period="year")
        segment_cohorts = complete_ages(cohorts(ctx, yearly).frame)
        company_cohorts = complete_ages(cohorts(ctx, yearly.with_(filters=())).frame)
        return (
            waterfall(row).to_plotly_json(),
            cohort_compare(segment_cohorts, company_cohorts).to_plotly_json(),
            quarters_figure(quarters).to_plotly_json(),
        )

    return ctx.memo("segment-figures", p.key(("as_of", "window", "filters")), draw)


def tier_timeline(frame: Any, settings: Any) -> go.Figure:
    """The segment's NRR month by month, each point coloured by its tier, against the tier
    thresholds: what each import recorded, then the as-of month now."""
    fig = go.Figure(
        go.Scatter(
            x=frame["month"].to_list(),
            y=frame["nrr"].to_list(),
            mode="lines+markers",
            line={"color": charts.MUTED, "width": 1.5},
            marker={
                "size": 11,
                "color": [charts.TIER_COLOURS.get(t, charts.MUTED) for t in frame["tier"]],
                "line": {"width": 1, "color": "white"},
            },
            customdata=[
                [fmt.tier(r["tier"]), fmt.pct(r["nrr"]), fmt.pct(r["grr"]), fmt.money(r["clv"])]
                for r in frame.iter_rows(named=True)
            ],
            hovertemplate="%{x}: <b>%{customdata[0]}</b><br>NRR %{customdata[1]} · GRR "
            "%{customdata[2]} · CLV %{customdata[3]}<extra></extra>",
        )
    )
    for y, text in ((settings.core_nrr, "Core ICP"), (settings.healthy_nrr, "Healthy"),
                    (settings.watch_nrr, "Watch")):
        fig.add_hline(
            y=y, line={"dash": "dot", "color": charts.MUTED, "width": 1},
            annotation_text=text, annotation_position="top left",
            annotation_font={"size": 10, "color": charts.MUTED},
        )
    values = [v for v in frame["nrr"].to_list() if v is not None]
    low = min([*values, settings.watch_nrr]) - 0.05
    high = max([*values, settings.core_nrr]) + 0.05
    fig.update_yaxes(title="NRR", tickformat=".0%", range=[low, high])
    fig.update_xaxes(type="category")
    fig.update_layout(title={"text": "NRR month by month, coloured by tier", "font": {"size": 13}})
    return charts.styled(fig, height=260, legend=False)


def history_panel(ctx: Context, p: ViewParams) -> list[Any]:
    """The segment's tier over time: a chart and a table of each recorded month, or why
    there is none."""
    segment = p.segment()
    if set(segment) not in ({"vertical"}, {"vertical", "sub_industry"}):
        return [html.P("The tier history is recorded for verticals and their sub-industries.",
                       className="hint")]
    view = tier_history(ctx, p)
    rows = view.rows()
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th(c.label) for c in view.columns])),
            html.Tbody(
                [
                    html.Tr([html.Td(fmt.by_kind(c.kind, r[c.key])) for c in view.columns])
                    for r in reversed(rows)
                ]
            ),
        ],
        size="sm", className="history-table mb-0",
    )
    parts: list[Any] = [
        dcc.Graph(id=ids.HISTORY_CHART, figure=tier_timeline(view.frame, ctx.settings),
                  config=charts.GRAPH_CONFIG),
        table,
    ]
    if len(rows) < 2:
        parts.append(html.P("No earlier month is recorded for this segment yet: each monthly "
                            "import adds one.", className="hint mt-2"))
    return parts


MAX_FLAGGED_DIMENSIONS = 2


def _matches(item: dict[str, Any], segment: dict[str, str]) -> bool:
    return all(item["segment"].get(d) == v for d, v in segment.items())


def flags_and_alerts(ctx: Context, p: ViewParams) -> list[Any]:
    """The segment's Accidental ICP flags and drift alerts, in words."""
    segment = p.segment()
    if len(segment) > MAX_FLAGGED_DIMENSIONS:
        # Flags and alerts rate the segments of a scorecard, by one or two dimensions.
        return [html.P("Flags and alerts are raised for segments of one or two dimensions; "
                       "this one has more.", className="hint")]
    of_dims = p.with_(by=tuple(segment), filters=())
    items = []
    for flag in flags(ctx, of_dims).records():
        if _matches(flag, segment):
            items.append(
                dbc.ListGroupItem(
                    [
                        html.Span(f"Accidental ICP · {flag['severity']}",
                                  className=f"tier-badge severity-{flag['severity']} me-2"),
                        flag["explanation"],
                    ]
                )
            )
    for alert in alerts(ctx, of_dims).records():
        if _matches(alert, segment):
            # Opportunities read as good news; "possible" alerts (interval includes the
            # threshold) are shown here only, greyed.
            badge = {"opportunity": "tier-core_icp", "warning": "severity-medium"}[alert["kind"]]
            possible = " · possible" if alert["status"] == "possible" else ""
            items.append(
                dbc.ListGroupItem(
                    [
                        html.Span(f"{alert['kind'].title()} · {alert['type'].replace('_', ' ')}"
                                  f"{possible}",
                                  className=f"tier-badge {'severity-low' if possible else badge} me-2"),
                        f"since {alert['started']}: {alert['explanation']}",
                    ]
                )
            )
    if not items:
        return [html.P("No Accidental ICP flag and no drift alert for this segment.",
                       className="hint")]
    return [dbc.ListGroup(items, flush=True)]


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """The segment named by the URL (one value per dimension), as-of and window."""
    if not urlstate.segment_filters(query, ctx.dimensions):
        raise urlstate.BadParameter(
            "Name a segment in the URL, e.g. /segment?vertical=Financial%20Services"
        )
    return from_query(ctx, query, by=())


def _quarter_grid(frame: Any) -> dag.AgGrid:
    rows = [
        {
            "quarter": r["quarter"],
            "won": fmt.count(r["won"]),
            "lost": fmt.count(r["lost"]),
            "win_rate": fmt.pct(r["win_rate"]),
            "avg_deal_size": fmt.money(r["avg_deal_size"]),
            "days_to_close": fmt.days(r["days_to_close"]),
        }
        for r in frame.iter_rows(named=True)
    ]
    cols = [{"field": "quarter", "headerName": "Quarter"}, {"field": "won"}, {"field": "lost"}] + [
        {"field": k, "headerName": definitions.name(k), "headerTooltip": definitions.definition(k)}
        for k in ("win_rate", "avg_deal_size", "days_to_close")
    ]
    return dag.AgGrid(
        id=ids.QUARTERS,
        rowData=rows,
        columnDefs=cols,
        columnSize="responsiveSizeToFit",
        dashGridOptions={"domLayout": "autoHeight", "tooltipShowDelay": 300},
        className="ag-theme-alpine",
        dangerously_allow_code=False,
    )


def layout(**query: str) -> html.Div:
    """Everything about the segment named in the URL."""
    filters = urlstate.segment_filters(query, current().dimensions)
    label = urlstate.segment_label(filters)
    opened = open_view(
        page_header("Segment", label or "One segment in depth."),
        lambda ctx: read_params(ctx, query),
        back=("Back to the scorecard", "/"),
    )
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        board = scorecard(ctx, p).frame
        if board.height == 0 or not board["accounts"][0] and not board["active_accounts"][0]:
            raise ViewError(f"No account matches the segment {label}.")
        row = board.row(0, named=True)
        company = company_numbers(ctx, p)
        quarters = quarterly_secondary(ctx, p).frame
        figures = _figures(ctx, p, row, quarters)
        notes = flags_and_alerts(ctx, p)
        timeline = history_panel(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([page_header("Segment", label), problem(str(exc)),
                         dcc.Link("Back to the scorecard", href="/")])
    segment = p.segment()
    back = {"vertical": segment["vertical"]} if {"sub_industry", "vertical"} <= set(segment) else {}
    back_href = "/" + urlstate.search({**back, "as_of": p.as_of_label, "window": p.window})
    as_of, window = p.as_of_label, p.window
    return html.Div(
        [
            html.Div(
                [dcc.Link("‹ Scorecard", href=back_href), html.Span(f" › {label}")],
                className="breadcrumb-bar",
            ),
            html.Div(
                [
                    html.H2([label, " ", tier_badge(row["tier"])], className="page-title"),
                    html.P(
                        f"As of {as_of}, over {fmt.months(window)}: {fmt.count(row['accounts'])} "
                        f"accounts in the starting cohort, {fmt.count(row['active_accounts'])} "
                        f"active now, MRR {fmt.money(row['mrr'])}.",
                        className="page-subtitle",
                    ),
                ],
                className="page-header",
            ),
            download_button(ids.ROW_BUTTON, ids.ROW_DOWNLOAD, "Download the segment's numbers",
                            "text-end mb-2"),
            _cards(row, company, ctx),
            _more_cards(row, company),
            dbc.Row(
                [
                    dbc.Col(html.Div(dcc.Graph(id=ids.WATERFALL, figure=figures[0],
                                               config=charts.GRAPH_CONFIG), className="panel"), xl=5),
                    dbc.Col(html.Div(dcc.Graph(id=ids.COHORTS,
                                               figure=figures[1],
                                               config=charts.GRAPH_CONFIG), className="panel"), xl=7),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        html.Div(
                            [html.Div("Secondary metrics by quarter", className="section-title"),
                             dcc.Graph(figure=figures[2], config=charts.GRAPH_CONFIG),
                             _quarter_grid(quarters),
                             download_button(ids.QUARTERS_BUTTON, ids.QUARTERS_DOWNLOAD,
                                              class_name="text-end mb-2")],
                            className="panel",
                        ),
                        xl=7,
                    ),
                    dbc.Col(
                        [
                            html.Div(
                                [html.Div("Flags and alerts", className="section-title"),
                                 html.Div(notes, id=ids.FLAGS)],
                                className="panel",
                            ),
                            html.Div(
                                [html.Div("Tier over time", className="section-title"),
                                 html.Div(timeline, id=ids.HISTORY)],
                                className="panel mt-3",
                            ),
                        ],
                        xl=5,
                    ),
                ],
                className="g-3",
            ),
        ]
    )


serve_download(
    ids.ROW_BUTTON, ids.ROW_DOWNLOAD, lambda ctx, query: scorecard(ctx, read_params(ctx, query))
)
serve_download(
    ids.QUARTERS_BUTTON, ids.QUARTERS_DOWNLOAD,
    lambda ctx, query: quarterly_secondary(ctx, read_params(ctx, query)),
)
