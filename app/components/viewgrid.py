"""Any view as an ag-grid: sortable and filterable, values shown as their column kind says.

Each cell keeps its raw value (numbers sort and filter as numbers) and shows the text
``app.views.formats`` writes for its kind, the same text as the CLI table.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

from app.views import formats
from app.views.query import DIMENSION_LABELS
from app.views.view import View

# Up to this many rows the grid grows to hold them all; longer lists scroll inside it.
AUTO_HEIGHT_ROWS = 25


def grid_rows(view: View) -> list[dict[str, Any]]:
    """The view's rows, with ``<key>_fmt`` beside each numeric value for display."""
    numeric = [c for c in view.columns if c.numeric]
    rows = view.rows()
    for row in rows:
        for c in numeric:
            row[f"{c.key}_fmt"] = formats.by_kind(c.kind, row[c.key])
    return rows


def grid_columns(view: View) -> list[dict[str, Any]]:
    """One grid column per view column: header, definition, number or text filter."""
    cols = []
    for c in view.columns:
        col: dict[str, Any] = {
            "field": c.key,
            "headerName": c.label,
            "headerTooltip": c.definition or None,
            "filter": "agNumberColumnFilter" if c.numeric else "agTextColumnFilter",
            "minWidth": 110,
        }
        if c.numeric:
            col["type"] = "rightAligned"
            col["valueFormatter"] = {"function": f"params.data.{c.key}_fmt"}
        if c.key == "account_name" or c.key in DIMENSION_LABELS:
            # Wide enough for long names ("Crescent Forest Medical Group", "Retail &
            # E-commerce") at 1280 px.
            col.update(minWidth=250 if c.key == "account_name" else 180, tooltipField=c.key)
        cols.append(col)
    return cols


def view_grid(view: View, grid_id: str, height: str = "70vh") -> dag.AgGrid:
    """The view as a grid with a filter row under the headers: as tall as its rows up to
    :data:`AUTO_HEIGHT_ROWS`, else ``height`` and scrolling."""
    short = view.frame.height <= AUTO_HEIGHT_ROWS
    return dag.AgGrid(
        id=grid_id,
        rowData=grid_rows(view),
        columnDefs=grid_columns(view),
        defaultColDef={
            "sortable": True, "resizable": True, "floatingFilter": True,
            "suppressMovable": True, "wrapHeaderText": True, "autoHeaderHeight": True,
        },
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "tooltipShowDelay": 300, "animateRows": False,
            **({"domLayout": "autoHeight"} if short else {}),
        },
        className="ag-theme-alpine",
        dangerously_allow_code=False,
        style={"width": "100%"} if short else {"width": "100%", "height": height},
    )
