"""Scorecard (home, ``/``): company headline numbers, the segment table and the ICP map.

URL state: ``by`` (segment dimension), ``as_of`` (YYYY-MM), ``window`` (months), or
``vertical`` to drill into one vertical's sub-industries; ``and`` (a second dimension)
adds the NRR heatmap of the two. Changing a control or
drilling rewrites the URL in place (the page-local ``dcc.Location`` has
``refresh=False``), so a copied link reproduces the view and the back button,
which re-renders the page from the URL, returns to the previous one.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash import ctx as ctx_

from app.board import BoardPackError, board_pdf, file_name, scorecard_png
from app.components import charts
from app.components.behind import accounts_href
from app.components.benchmarks import benchmark_text
from app.components.priority import priority_items, priority_panel
from app.components.scorecard_parts import BANDED, COLUMNS, KPIS, since_text, view_parts
from app.components.segment_heatmap import nrr_heatmap
from app.components.viewpage import current, download, open_view, unchanged
from app.components.widgets import TIER_LABELS, kpi_card, page_header, problem
from app.views import USER_ERRORS, definitions
from app.views import query as urlstate
from app.views.context import Context
from app.views.params import ViewParams, from_query, resolve
from app.views.priority import priority
from app.views.scorecard import scorecard
from app.views.warm import warm_also

dash.register_page(
    __name__, path="/", name="Scorecard", title="Scorecard · ICP Lens", order=0, role="viewer"
)
# The landing page: its table, map and cards are computed with the views when the cache
# is warmed (at start, after an import), so the first visit computes nothing.
warm_also(view_parts)


class ids:
    """Component ids of this page."""

    URL = "sc-url"
    NAV = "sc-nav"
    STATE = "sc-state"
    BY = "sc-by"
    AS_OF = "sc-as-of"
    WINDOW = "sc-window"
    BACK = "sc-back"
    CRUMB = "sc-crumb"
    GRID = "sc-grid"
    MAP = "sc-map"
    DOWNLOAD_BUTTON = "sc-download-button"
    DOWNLOAD = "sc-download"
    BOARD_BUTTON = "sc-board-button"
    BOARD_DOWNLOAD = "sc-board-download"
    PNG_BUTTON = "sc-png-button"
    PNG_DOWNLOAD = "sc-png-download"
    MESSAGE = "sc-message"
    HINT = "sc-hint"
    SINCE = "sc-since"
    CARDS_TITLE = "sc-cards-title"
    PRIORITY = "sc-priority"
    AND = "sc-and"
    HEAT_PANEL = "sc-heat-panel"
    HEATMAP = "sc-heatmap"
    HEAT_DOWNLOAD_BUTTON = "sc-heat-download-button"
    HEAT_DOWNLOAD = "sc-heat-download"

    @staticmethod
    def kpi(key: str) -> str:
        """Id of a KPI card's value."""
        return f"sc-kpi-{key}"

    @staticmethod
    def kpi_note(key: str) -> str:
        """Id of a KPI card's note."""
        return f"sc-kpi-{key}-note"


# Cells whose number sums over accounts or deals: a click lists them (the segment name
# cell keeps drilling down or opening the segment page).
RETENTION_CELLS = ("nrr", "grr", "logo_retention", "tier")
DEAL_CELLS = ("win_rate",)
# Minimum widths (px) so the table fits beside the ICP map at 1440 px without cutting.
WIDTHS = {"nrr": 84, "clv": 132, "logo_retention": 70, "grr": 60, "win_rate": 60,
          "avg_deal_size": 62, "days_to_close": 62, "accounts": 64, "tam": 60}


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """The view named by the URL: ``by``, or ``vertical`` to drill into its sub-industries."""
    vertical = query.get("vertical") or None
    if vertical:
        return from_query(ctx, query, by=("sub_industry",), filters={"vertical": [vertical]})
    return from_query(ctx, query, by=(urlstate.dimension(query, ctx.dimensions),), filters={})


def drilled(p: ViewParams) -> str | None:
    """The vertical whose sub-industries the view shows, if it is drilled."""
    return p.segment().get("vertical") if p.by == ("sub_industry",) else None


def state_search(p: ViewParams, and_by: str | None = None) -> str:
    """The query string of a view (``and``: the heatmap's second dimension)."""
    vertical = drilled(p)
    where = {"vertical": vertical} if vertical else {"by": p.by[0]}
    return urlstate.search({**where, "as_of": p.as_of_label, "window": p.window, "and": and_by})


def column_defs(p: ViewParams) -> list[dict[str, Any]]:
    """Grid columns: segment, primary metrics, secondary metrics, n, TAM, tier."""
    segment_name = urlstate.dimension_label(p.by[0])
    cols: list[dict[str, Any]] = [
        {
            "field": "segment",
            "headerName": segment_name,
            "pinned": "left",
            # Wide enough for the longest names ("Clinics & Physician Groups").
            "minWidth": 200,
            "tooltipField": "segment",
            "cellClass": "cell-link",
            "headerTooltip": "Click a row to drill down (verticals) or open the segment page.",
        }
    ]
    for field, _kind, group in COLUMNS:
        col: dict[str, Any] = {
            "field": field,
            "headerName": definitions.name(field),
            "headerTooltip": definitions.definition(field),
            # The text shown is formatted in Python (app.components.fmt); the number sorts.
            "valueFormatter": {"function": f"params.data.{field}_fmt"},
            "type": "rightAligned",
            "cellClass": f"col-{group}"
            + (" cell-behind" if field in (*RETENTION_CELLS, *DEAL_CELLS) else ""),
            "headerClass": f"head-{group}",
            "minWidth": WIDTHS[field],
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        }
        if field == "nrr":
            # The best-retaining segment leads: NRR is the scorecard's first question.
            col["sort"] = "desc"
            # With the arrow of its change since the previous month; the value then on hover.
            col["valueFormatter"] = {"function": "params.data.nrr_cell"}
            col["tooltipField"] = "nrr_tip"
        if field == "win_rate":
            col["cellClassRules"] = {"cell-few": "params.data.win_rate_few"}
            col["headerTooltip"] += (
                " Greyed, with its count, when fewer than the settings' min_deals closed deals "
                "stand behind it: too few to compare."
            )
        if field in BANDED:
            col["cellClassRules"] = {
                f"cell-{b}": f"params.data.{field}_band === '{b}'"
                for b in ("best", "good", "watch", "bad")
            }
        cols.append(col)
    cols.append(
        {
            "field": "tier",
            "headerName": definitions.name("tier"),
            "headerTooltip": definitions.definition("tier"),
            "valueFormatter": {"function": "params.data.tier_cell"},
            "tooltipField": "tier_tip",
            "cellClassRules": {f"tier-cell-{t}": f"params.value === '{t}'" for t in TIER_LABELS},
            "cellClass": "cell-behind",
            "minWidth": 128,
        }
    )
    return cols


def read_and(ctx: Context, query: dict[str, str]) -> str | None:
    """The heatmap's second dimension, ``and`` in the URL, if any."""
    return urlstate.dimension(query, ctx.dimensions, key="and") if query.get("and") else None


def heat_figure(ctx: Context, p: ViewParams, and_by: str | None) -> dict:
    """The NRR heatmap of ``by`` x ``and_by`` as a figure dict (a message when it cannot be)."""
    if not and_by:
        return {}
    if and_by == p.by[0]:
        label = urlstate.dimension_label(and_by).lower()
        return charts.empty_figure(
            f"The rows are already by {label}: choose another dimension for the heatmap.",
            height=160,
        ).to_plotly_json()
    rows = scorecard(ctx, p.with_(by=(p.by[0], and_by))).records()
    return nrr_heatmap(rows, p.by[0], and_by, ctx.settings.min_accounts).to_plotly_json()


def heat_panel(ctx: Context, figure: dict, shown: bool) -> html.Div:
    """The panel of the two-dimension heatmap, hidden until a second dimension is chosen."""
    return html.Div(
        [
            html.Div(
                [
                    html.Span(
                        "Two dimensions: the NRR of every pair of values", className="me-2"
                    ),
                    dbc.Button(
                        "Download CSV", id=ids.HEAT_DOWNLOAD_BUTTON, color="secondary",
                        outline=True, size="sm", className="float-end",
                    ),
                    dcc.Download(id=ids.HEAT_DOWNLOAD),
                ],
                className="breadcrumb-bar",
            ),
            dcc.Graph(id=ids.HEATMAP, figure=figure, config=charts.GRAPH_CONFIG),
            html.Div(
                "Each cell: the segment's NRR and n, the accounts of its starting cohort. Grey "
                f"cells have fewer than {ctx.settings.min_accounts} accounts (or no NRR): too "
                "few to rate. The CSV holds the full scorecard of every pair.",
                className="hint mt-2",
            ),
        ],
        id=ids.HEAT_PANEL,
        className="panel" if shown else "panel d-none",
    )


def crumb(p: ViewParams) -> tuple[str, str]:
    """Breadcrumb text and the back button's class (hidden at the top level)."""
    vertical = drilled(p)
    if vertical:
        return f"› {vertical} › sub-industries", "p-0 align-baseline"
    return f"Segments by {urlstate.dimension_label(p.by[0]).lower()}", "d-none"


def _controls(
    p: ViewParams, months: list[str], dimensions: tuple[str, ...], and_by: str | None
) -> dbc.Row:
    dims = [
        {"label": urlstate.SEGMENT_BY.get(d) or urlstate.dimension_label(d), "value": d}
        for d in dimensions
    ]
    windows = sorted(set(urlstate.WINDOWS) | {p.window})
    return dbc.Row(
        [
            dbc.Col(
                [
                    html.Label("Segment by", htmlFor=ids.BY),
                    dcc.Dropdown(
                        id=ids.BY,
                        options=dims,
                        value="vertical" if drilled(p) else p.by[0],
                        clearable=False,
                        disabled=bool(drilled(p)),
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    html.Label("As of month", htmlFor=ids.AS_OF),
                    dcc.Dropdown(
                        id=ids.AS_OF,
                        options=months,
                        value=p.as_of_label,
                        clearable=False,
                    ),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    html.Label("Window", htmlFor=ids.WINDOW),
                    dcc.Dropdown(
                        id=ids.WINDOW,
                        options=[{"label": f"{w} months", "value": w} for w in windows],
                        value=p.window,
                        clearable=False,
                    ),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    html.Label("and by (heatmap)", htmlFor=ids.AND),
                    dcc.Dropdown(
                        id=ids.AND,
                        options=dims,
                        value=and_by,
                        placeholder="a second dimension",
                    ),
                ],
                md=3,
            ),
        ],
        className="controls g-3 mb-3",
    )


def layout(**query: str) -> html.Div:
    """The scorecard for the view in the URL."""
    header = page_header(
        "Segment scorecard",
        "Which customer segments produce durable, profitable revenue: retention and "
        "lifetime value first, acquisition metrics after.",
    )
    opened = open_view(
        header, lambda ctx: read_params(ctx, query), back=("Back to the scorecard", "/")
    )
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        rows, figure, kpis = view_parts(ctx, p)
        and_by = read_and(ctx, query)
        heatmap = heat_figure(ctx, p, and_by)
    except USER_ERRORS as exc:
        return html.Div([header, problem(str(exc)), dcc.Link("Back to the scorecard", href="/")])
    crumb_text, back_class = crumb(p)
    cards = dbc.Row(
        [
            dbc.Col(
                kpi_card(
                    key,
                    ids.kpi(key),
                    kpis[key][0],
                    ids.kpi_note(key),
                    kpis[key][2],
                    kpis[key][1].removeprefix("kpi-value bm-"),
                    benchmark_text(key, ctx.settings),
                ),
                xs=6,
                md=4,
                xl=2,
            )
            for key in KPIS
        ],
        className="g-3 mb-3",
    )
    table = html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        "All verticals", id=ids.BACK, color="link", className=back_class
                    ),
                    html.Span(crumb_text, id=ids.CRUMB, className="ms-1"),
                    html.Span(
                        [
                            dbc.Button(
                                "Board pack (PDF)", id=ids.BOARD_BUTTON, color="secondary",
                                outline=True, size="sm", className="ms-2",
                                title="The KPIs, this scorecard with its change since last "
                                "month, the ICP map, the flags and raised alerts with their "
                                "evidence: a few printed pages.",
                            ),
                            dbc.Button(
                                "Scorecard (PNG)", id=ids.PNG_BUTTON, color="secondary",
                                outline=True, size="sm", className="ms-2",
                                title="The KPIs and this table as a picture, for slides.",
                            ),
                            dbc.Button(
                                "Download CSV", id=ids.DOWNLOAD_BUTTON, color="secondary",
                                outline=True, size="sm", className="ms-2",
                            ),
                        ],
                        className="float-end",
                    ),
                    dcc.Download(id=ids.DOWNLOAD),
                    dcc.Download(id=ids.BOARD_DOWNLOAD),
                    dcc.Download(id=ids.PNG_DOWNLOAD),
                ],
                className="breadcrumb-bar",
            ),
            dcc.Loading(
                dag.AgGrid(
                    id=ids.GRID,
                    rowData=rows,
                    columnDefs=column_defs(p),
                    defaultColDef={"sortable": True, "resizable": True, "suppressMovable": True},
                    columnSize="responsiveSizeToFit",
                    dashGridOptions={
                        "rowClassRules": {
                            "row-insufficient": "params.data.tier === 'insufficient_data'"
                        },
                        "tooltipShowDelay": 300,
                        "domLayout": "autoHeight",
                        "animateRows": False,
                    },
                    getRowId="params.data.segment",
                    className="ag-theme-alpine",
                    dangerously_allow_code=False,
                    style={"width": "100%"},
                ),
                delay_show=300,
                type="dot",
            ),
            html.Div(
                "Click a vertical to see its sub-industries; click any other segment to open "
                "its page; click an NRR, GRR, logo retention, tier or win rate to list the "
                f"accounts or deals behind it. Grey rows have fewer than {ctx.settings.min_accounts} accounts in "
                "their starting cohort: insufficient data to rate them.",
                id=ids.HINT,
                className="hint mt-2",
            ),
            html.Div(since_text(rows), id=ids.SINCE, className="hint mt-1"),
        ],
        className="panel",
    )
    chart = html.Div(
        dcc.Loading(
            dcc.Graph(id=ids.MAP, figure=figure, config=charts.GRAPH_CONFIG),
            delay_show=300,
            type="dot",
        ),
        className="panel",
    )
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.STATE, data=p.to_store()),
            header,
            html.Div(id=ids.MESSAGE),
            _controls(p, ctx.months_available(), ctx.dimensions, and_by),
            html.Div(
                f"Company-wide, as of {p.as_of_label} over {p.window} months",
                className="section-title", id=ids.CARDS_TITLE,
            ),
            cards,
            # Full width each: beside the map, the table cut segment names and numbers.
            dbc.Row([dbc.Col(table, xs=12)], className="g-3 mb-3"),
            dbc.Row([dbc.Col(priority_panel(priority(ctx, p), ids.PRIORITY), xs=12)],
                    className="g-3 mb-3"),
            dbc.Row([dbc.Col(chart, xs=12)], className="g-3 mb-3"),
            heat_panel(ctx, heatmap, bool(and_by)),
        ]
    )


def _clicked_segment(trigger: str | None, cell: dict | None, click: dict | None) -> str | None:
    if trigger == ids.GRID and cell and cell.get("colId") == "segment":
        return cell.get("value")
    if trigger == ids.MAP and click and click.get("points"):
        return click["points"][0]["customdata"][0]
    return None


def behind_href(p: ViewParams, cell: dict | None) -> str | None:
    """The accounts (or won and lost deals) behind a clicked cell, if it explains one."""
    column = (cell or {}).get("colId")
    segment = (cell or {}).get("rowId")
    if column not in (*RETENTION_CELLS, *DEAL_CELLS) or not segment:
        return None
    deals = ("won", "lost") if column in DEAL_CELLS else ()
    return accounts_href(p, {**p.segment(), p.by[0]: str(segment)}, deals=deals)


def segment_href(p: ViewParams, segment: str) -> str:
    """Link to the segment page of a row of this view."""
    conditions = {**p.segment(), p.by[0]: segment}
    return "/segment" + urlstate.search({**conditions, "as_of": p.as_of_label, "window": p.window})


OUT = {
    "search": Output(ids.URL, "search"),
    "href": Output(ids.NAV, "href"),
    "state": Output(ids.STATE, "data"),
    "rows": Output(ids.GRID, "rowData"),
    "columns": Output(ids.GRID, "columnDefs"),
    "figure": Output(ids.MAP, "figure"),
    "crumb": Output(ids.CRUMB, "children"),
    "back": Output(ids.BACK, "className"),
    "by_disabled": Output(ids.BY, "disabled"),
    "message": Output(ids.MESSAGE, "children"),
    "since": Output(ids.SINCE, "children"),
    "cards_title": Output(ids.CARDS_TITLE, "children"),
    **{
        f"{key}_{part}": Output(target, prop)
        for key in KPIS
        for part, target, prop in (
            ("value", ids.kpi(key), "children"),
            ("class", ids.kpi(key), "className"),
            ("note", ids.kpi_note(key), "children"),
        )
    },
}


@callback(
    output=OUT,
    inputs={
        "by": Input(ids.BY, "value"),
        "as_of": Input(ids.AS_OF, "value"),
        "window": Input(ids.WINDOW, "value"),
        "_back": Input(ids.BACK, "n_clicks"),
        "cell": Input(ids.GRID, "cellClicked"),
        "click": Input(ids.MAP, "clickData"),
        "state": State(ids.STATE, "data"),
        "and_by": State(ids.AND, "value"),
    },
    prevent_initial_call=True,
)
def update_view(
    by: str,
    as_of: str,
    window: int,
    _back: int | None,
    cell: dict | None,
    click: dict | None,
    state: dict[str, Any],
    and_by: str | None,
) -> dict[str, Any]:
    """Apply a control change, a drill-down or the way back; write the new view to the URL."""
    out = unchanged(OUT)
    ctx = current()
    p = ViewParams.from_store(state)
    trigger = ctx_.triggered_id
    try:
        new = resolve(ctx, as_of=as_of, window=int(window), by=p.by, filters=p.filters_map())
        if trigger == ids.BY:
            new = new.with_(by=(by,), filters=())
        elif trigger == ids.BACK:
            new = new.with_(by=("vertical",), filters=())
        elif trigger in (ids.GRID, ids.MAP):
            behind = behind_href(p, cell) if trigger == ids.GRID else None
            if behind is not None:
                return {**out, "href": behind}
            segment = _clicked_segment(trigger, cell, click)
            if segment is None:
                return out
            if p.by == ("vertical",) and not p.filters:
                new = new.with_(by=("sub_industry",), filters={"vertical": [segment]})
            else:
                return {**out, "href": segment_href(p, segment)}
        rows, figure, kpis = view_parts(ctx, new)
    except USER_ERRORS as exc:
        return {**out, "message": problem(str(exc))}
    crumb_text, back_class = crumb(new)
    return {
        "search": state_search(new, and_by),
        "href": dash.no_update,
        "state": new.to_store(),
        "rows": rows,
        "columns": column_defs(new),
        "figure": figure,
        "crumb": crumb_text,
        "back": back_class,
        "by_disabled": bool(drilled(new)),
        "message": None,
        "since": since_text(rows),
        "cards_title": f"Company-wide, as of {new.as_of_label} over {new.window} months",
        **{
            f"{key}_{part}": value
            for key in KPIS
            for part, value in zip(("value", "class", "note"), kpis[key], strict=True)
        },
    }


@callback(
    Output(ids.DOWNLOAD, "data"),
    Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.STATE, "data"),
    prevent_initial_call=True,
)
def download_csv(_n: int, state: dict) -> dict:
    """The scorecard as data: raw numbers under the view's keys, parameters in the name."""
    return download(scorecard(current(), ViewParams.from_store(state)))


@callback(
    Output(ids.BOARD_DOWNLOAD, "data"),
    Output(ids.PNG_DOWNLOAD, "data"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.BOARD_BUTTON, "n_clicks"),
    Input(ids.PNG_BUTTON, "n_clicks"),
    State(ids.STATE, "data"),
    prevent_initial_call=True,
    running=[
        (Output(ids.BOARD_BUTTON, "disabled"), True, False),
        (Output(ids.PNG_BUTTON, "disabled"), True, False),
    ],
)
def download_board(_pdf: int | None, _png: int | None, state: dict) -> tuple[Any, ...]:
    """The board pack of the view as a PDF, or its scorecard as a PNG, printed by Chromium."""
    p = ViewParams.from_store(state)
    no = dash.no_update
    try:
        if ctx_.triggered_id == ids.PNG_BUTTON:
            png = scorecard_png(current(), p)
            return no, dcc.send_bytes(png, file_name(p, "png")), no
        return dcc.send_bytes(board_pdf(current(), p), file_name(p, "pdf")), no, no
    except (*USER_ERRORS, BoardPackError) as exc:
        return no, no, problem(str(exc))


@callback(
    Output(ids.HEATMAP, "figure"),
    Output(ids.HEAT_PANEL, "className"),
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.AND, "value"),
    Input(ids.STATE, "data"),
    prevent_initial_call=True,
)
def update_heatmap(and_by: str | None, state: dict[str, Any]) -> tuple[Any, ...]:
    """Draw the heatmap of the view by the second dimension, and keep ``and`` in the URL."""
    p = ViewParams.from_store(state)
    try:
        figure = heat_figure(current(), p, and_by)
    except USER_ERRORS as exc:
        figure = charts.empty_figure(str(exc), height=160).to_plotly_json()
    panel = "panel" if and_by else "panel d-none"
    return figure, panel, state_search(p, and_by)


@callback(
    Output(ids.HEAT_DOWNLOAD, "data"),
    Input(ids.HEAT_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.STATE, "data"),
    State(ids.AND, "value"),
    prevent_initial_call=True,
)
def download_pairs(_n: int, state: dict, and_by: str | None) -> dict:
    """The scorecard by both dimensions as data (the heatmap's numbers and the rest)."""
    p = ViewParams.from_store(state)
    if not and_by or and_by == p.by[0]:
        return dash.no_update
    return download(scorecard(current(), p.with_(by=(p.by[0], and_by))))


@callback(
    Output(ids.PRIORITY, "children"),
    Input(ids.STATE, "data"),
    prevent_initial_call=True,
)
def update_priority(state: dict) -> list:
    """The priority panel of the view the table shows (it follows every view change)."""
    return priority_items(priority(current(), ViewParams.from_store(state)))
