"""The NRR heatmap of a two-dimension scorecard: dimension A down, B across, n in each cell.

Cells whose starting cohort is below ``min_accounts`` are grey with their n: too few
accounts to rate, as in the scorecard table. Labels come from the data, so they reach
the figure through ``charts`` (short and escaped: Plotly renders a subset of HTML).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from app.components import charts
from app.views import formats as fmt
from app.views.query import dimension_label

GREY = "#d5d9de"
CELL_HEIGHT = 34
NRR_RANGE = (0.6, 1.4)  # a fixed scale centred on 100%: colours mean the same in every view


def _grid(
    rows: list[dict[str, Any]], a: str, b: str
) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, Any]]]:
    ys = sorted({str(r[a]) for r in rows})
    xs = sorted({str(r[b]) for r in rows})
    return ys, xs, {(str(r[a]), str(r[b])): r for r in rows}


def _layer(
    ys: list[str],
    xs: list[str],
    cells: dict[tuple[str, str], dict[str, Any]],
    rated: bool,
    min_accounts: int,
) -> go.Heatmap:
    """One trace: the rated cells coloured by NRR, or the others (too few accounts, or no
    NRR) in grey; each cell's text is its NRR and its starting cohort n."""
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for y in ys:
        z.append([])
        text.append([])
        for x in xs:
            r = cells.get((y, x))
            n = int((r or {}).get("accounts") or 0)
            nrr = (r or {}).get("nrr")
            mine = r is not None and (nrr is not None and n >= min_accounts) == rated
            z[-1].append((nrr if rated else 1.0) if mine else None)
            text[-1].append(f"{fmt.pct(nrr)}<br>n={n}" if mine else "")
    return go.Heatmap(
        z=z,
        x=charts.categories(xs),
        y=charts.categories(ys),
        text=text,
        texttemplate="%{text}",
        textfont={"size": 11},
        colorscale="RdYlGn" if rated else [[0, GREY], [1, GREY]],
        zmin=NRR_RANGE[0] if rated else 0,
        zmax=NRR_RANGE[1] if rated else 1,
        showscale=rated,
        colorbar={"tickformat": ".0%", "thickness": 12, "title": {"text": "NRR"}},
        xgap=2,
        ygap=2,
        hoverinfo="skip",
    )


def nrr_heatmap(rows: list[dict[str, Any]], a: str, b: str, min_accounts: int) -> go.Figure:
    """NRR of every A x B segment with its starting cohort n; grey below ``min_accounts``."""
    if not rows:
        return charts.empty_figure("No account in this view.", height=240)
    ys, xs, cells = _grid(rows, a, b)
    fig = go.Figure(
        [_layer(ys, xs, cells, False, min_accounts), _layer(ys, xs, cells, True, min_accounts)]
    )
    fig.update_xaxes(title=charts.label(dimension_label(b)), side="top", **charts.category_axis(xs))
    fig.update_yaxes(
        title=charts.label(dimension_label(a)), autorange="reversed", **charts.category_axis(ys)
    )
    fig.update_layout(plot_bgcolor="white")
    return charts.styled(fig, height=max(200, CELL_HEIGHT * len(ys) + 130), legend=False)
