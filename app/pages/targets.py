"""Targets (``/targets``): the accounts to pursue next, ranked by expected value.

URL state: ``as_of``, ``window`` and ``depth`` (of the discovery whose pockets the
list names). The grid sorts and filters in the browser; "Download CSV" saves the
whole list as data for an ABM tool.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
from dash import dcc, html

from app.components.controls import serve_controls, view_controls
from app.components.viewpage import open_view
from app.components.widgets import page_header, problem
from app.views import USER_ERRORS
from app.views import formats as fmt
from app.views.context import Context
from app.views.params import ViewParams, from_query
from app.views.targets import targets
from app.views.view import View

dash.register_page(
    __name__, path="/targets", name="Targets", title="Targets · ICP Lens",
    order=1.2, role="viewer",
)

PREFIX = "tgt"


class ids:
    """Component ids of this page (the controls' from ``view_controls``)."""

    NAV = f"{PREFIX}-nav"
    STATE = f"{PREFIX}-state"
    DEPTH = f"{PREFIX}-depth"
    AS_OF = f"{PREFIX}-as-of"
    WINDOW = f"{PREFIX}-window"
    GRID = f"{PREFIX}-grid"
    DOWNLOAD_BUTTON = f"{PREFIX}-download-button"
    DOWNLOAD = f"{PREFIX}-download"


HEADER = page_header(
    "Target accounts",
    "Prospects and accounts with an open new-business deal, ranked by expected value: "
    "the win rate times the CLV of the most specific segment rated for targeting.",
)
# Minimum widths (px) so names, segments and pockets are not cut at 1280 px.
WIDTHS = {
    "account_name": 215, "sub_industry": 130, "segment": 215, "tier": 100, "clv": 70,
    "win_rate": 65, "expected_value": 80, "fit_score": 85, "pocket": 130,
    "open_opportunity": 115,
}
# Numbers are sorted, and the fit score filtered (say >= 80); the filter icon of the other
# narrow number columns would squeeze their headers.
FILTERED_NUMBERS = ("fit_score",)
# In the CSV, not the grid: the sub-industry and the segment used name the vertical.
NOT_SHOWN = ("account_id", "vertical")
PAGE_SIZE = 50


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """As-of month, window and depth from the URL."""
    return from_query(ctx, query, by=(), filters={})


def grid_rows(result: View) -> list[dict[str, Any]]:
    """Rows with each value as a number to sort by and its text as shown."""
    kinds = {c.key: c.kind for c in result.columns}
    return [
        {**r, **{f"{k}_fmt": fmt.by_kind(kinds[k], r[k]) for k in r}} for r in result.rows()
    ]


def column_defs(result: View) -> list[dict[str, Any]]:
    """One grid column per view column; numbers right-aligned, the account pinned."""
    cols = []
    for c in result.columns:
        if c.key in NOT_SHOWN:
            continue
        col: dict[str, Any] = {
            "field": c.key,
            "headerName": c.label,
            "headerTooltip": c.definition or None,
            "valueFormatter": {"function": f"params.data.{c.key}_fmt"},
            "minWidth": WIDTHS.get(c.key, 100),
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        }
        if c.kind == "boolean":
            # Text (yes / no) as the CSV's reader would say it, not a greyed checkbox.
            col["cellDataType"] = "text"
        if c.numeric:
            col["type"] = "rightAligned"
            col["filter"] = "agNumberColumnFilter" if c.key in FILTERED_NUMBERS else False
        if c.key == "account_name":
            col["pinned"] = "left"
            col["tooltipField"] = "account_name"
        cols.append(col)
    return cols


def layout(**query: str) -> html.Div:
    """The target account list of the view in the URL."""
    opened = open_view(HEADER, lambda ctx: read_params(ctx, query), ("Targets", "/targets"))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        result = targets(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([HEADER, problem(str(exc))])
    rows = grid_rows(result)
    scored = sum(r["fit_score"] is not None for r in rows)
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.STATE, data=p.to_store()),
            HEADER,
            view_controls(p, ctx.months_available(), PREFIX),
            html.Div(
                f"{fmt.plural(len(rows), 'target account')} as of {p.as_of_label}, "
                f"{fmt.count(scored)} with a fit score",
                className="section-title",
            ),
            html.Div(
                [
                    dag.AgGrid(
                        id=ids.GRID,
                        rowData=rows,
                        columnDefs=column_defs(result),
                        defaultColDef={"sortable": True, "resizable": True, "filter": True},
                        columnSize="responsiveSizeToFit",
                        dashGridOptions={
                            "pagination": True,
                            "paginationPageSize": PAGE_SIZE,
                            "domLayout": "autoHeight",
                            "tooltipShowDelay": 300,
                            "animateRows": False,
                        },
                        getRowId="params.data.account_id",
                        className="ag-theme-alpine",
                        dangerously_allow_code=False,
                        style={"width": "100%"},
                    ),
                    html.P(
                        "Fit score: 100 × expected value / the highest among the rated "
                        "sub-industries and verticals. An account of no rated segment has "
                        "none and comes last. Pocket: the first discovered pocket "
                        f"(up to {p.depth} conditions) whose conditions it meets.",
                        className="hint mt-2",
                    ),
                ],
                className="panel",
            ),
        ]
    )


serve_controls(PREFIX, "/targets", targets)
