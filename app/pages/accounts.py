"""Accounts (``/accounts``): the accounts or deals behind a number, summing to it.

URL state (every click-through builds it in ``app.components.behind``): the segment
as ``<dimension>=<value>`` (none: the company), ``as_of`` and ``window``, and what
number the list explains: nothing more for window retention (NRR, GRR, logo
retention, tier), ``movement`` for a movement of the as-of month, ``cohort`` and
``age`` for a cohort cell, ``deals=won,lost`` for the win rate (or ``open``).
"""

from __future__ import annotations

import dash
from dash import dcc, html

from app.components.viewgrid import view_grid
from app.components.viewpage import download_button, open_view, serve_download
from app.components.widgets import page_header, problem
from app.views import USER_ERRORS, definitions
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.accounts import accounts
from app.views.context import Context
from app.views.params import ViewParams, from_query
from app.views.view import View

dash.register_page(
    __name__, path="/accounts", name="Accounts",
    title="Accounts · ICP Lens", order=9, role="viewer", nav=False,
)


class ids:
    """Component ids of this page."""

    NOTE = "ac-note"
    PARAMS = "ac-params"
    GRID = "ac-grid"
    DOWNLOAD_BUTTON = "ac-download-button"
    DOWNLOAD = "ac-download"


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """The list named by the URL (its dimensions come from the segment, not ``by``)."""
    return from_query(ctx, query, by=())


def subtitle(view: View) -> str:
    """What the list holds, in one sentence."""
    p = view.params
    if view.name == "movement_accounts":
        return f"The accounts behind {definitions.name(p.movement).lower()} MRR in {p.as_of_label}."
    if view.name == "cohort_accounts":
        return (f"The {p.period}ly cohort {p.cohort} at age {fmt.months(p.age)}: each account's "
                "MRR in its first month and at that age.")
    if view.name == "deal_list":
        return (f"New-business deals: won and lost closed in the {fmt.months(p.window)} to "
                f"{p.as_of_label}, open at its end.")
    return (f"The starting cohort: accounts active {fmt.months(p.window)} before "
            f"{p.as_of_label}, with their MRR then and now.")


def _segment_link(p: ViewParams) -> dcc.Link | None:
    conditions = p.segment()
    if not conditions:
        return None
    href = "/segment" + urlstate.search(
        {**conditions, "as_of": p.as_of_label, "window": p.window}
    )
    return dcc.Link("Open the segment page", href=href, className="ms-3")


def layout(**query: str) -> html.Div:
    """The list of accounts the URL names, with the number it sums to."""
    header = page_header("Accounts behind the number", "")
    opened = open_view(header, lambda ctx: read_params(ctx, query),
                       back=("Back to the scorecard", "/"))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        view = accounts(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([header, problem(str(exc)), dcc.Link("Back to the scorecard", href="/")])
    label = urlstate.segment_label(p.filters_map() or {})
    return html.Div(
        [
            page_header(f"Accounts behind the number: {label}", subtitle(view)),
            html.Div(
                [
                    html.Div(view.note, id=ids.NOTE, className="section-title mb-1"),
                    html.Div(
                        [
                            html.Span(view.describe(), id=ids.PARAMS, className="hint"),
                            _segment_link(p),
                            download_button(ids.DOWNLOAD_BUTTON, ids.DOWNLOAD,
                                            class_name="float-end"),
                        ],
                        className="mb-2",
                    ),
                    view_grid(view, ids.GRID),
                    html.Div("Sort by any column; filter under its header.",
                             className="hint mt-2"),
                ],
                className="panel",
            ),
        ]
    )


# The list as data: raw numbers, the parameters and the total it explains on top.
serve_download(
    ids.DOWNLOAD_BUTTON, ids.DOWNLOAD,
    lambda ctx, query: accounts(ctx, read_params(ctx, query)),
)
