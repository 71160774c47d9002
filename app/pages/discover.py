"""ICP discovery (``/discover``): pockets of attributes whose NRR differs from the rest.

URL state: ``depth`` (conditions a pocket may combine, 1 to 3), ``as_of`` and
``window``. Each pocket is a row of condition chips that open the segment page of
those conditions; a control change navigates to the new URL, so a copied link
reproduces the list.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from app.components.behind import accounts_href
from app.components.controls import serve_controls, view_controls
from app.components.viewpage import open_view
from app.components.widgets import metric_label, page_header, problem
from app.views import USER_ERRORS
from app.views import formats as fmt
from app.views import query as urlstate
from app.views.context import Context
from app.views.discovery import discover
from app.views.params import ViewParams, from_query
from app.views.view import View

dash.register_page(
    __name__, path="/discover", name="Discover", title="ICP discovery · ICP Lens",
    order=1.1, role="viewer",
)


PREFIX = "disc"


class ids:
    """Component ids of this page (the controls' from ``view_controls``)."""

    NAV = f"{PREFIX}-nav"
    STATE = f"{PREFIX}-state"
    DEPTH = f"{PREFIX}-depth"
    AS_OF = f"{PREFIX}-as-of"
    WINDOW = f"{PREFIX}-window"
    TABLE = f"{PREFIX}-pockets"
    DOWNLOAD_BUTTON = f"{PREFIX}-download-button"
    DOWNLOAD = f"{PREFIX}-download"


HEADER = page_header(
    "ICP discovery",
    "Pockets of attributes whose net revenue retention differs from the rest of the "
    "starting cohort, strongest first, each significant in its round.",
)
# (key, heading) of the table's number columns after the pocket's conditions.
NUMBERS = (
    ("accounts", "n"),
    ("nrr", "NRR (95% interval)"),
    ("lift", "Lift"),
    ("clv", "CLV"),
    ("p_value", "p"),
    ("q_value", "q"),
)


def read_params(ctx: Context, query: dict[str, str]) -> ViewParams:
    """Depth, as-of month and window from the URL (no segment: discovery looks at all)."""
    return from_query(ctx, query, by=(), filters={})


def page_search(p: ViewParams, **conditions: str) -> str:
    """The query string of a page at this view's as-of month and window."""
    return urlstate.search({**conditions, "as_of": p.as_of_label, "window": p.window})


def chips(conditions: dict[str, str], href: str) -> dcc.Link:
    """A pocket's conditions as chips, together one link to its segment page."""
    return dcc.Link(
        [
            html.Span(
                [html.Span(urlstate.dimension_label(d), className="chip-dim"),
                 html.Span(value, className="chip-value")],
                className="condition-chip",
            )
            for d, value in conditions.items()
        ],
        href=href,
        className="pocket-link",
        title="Open the segment of these conditions",
    )


def pocket_row(p: ViewParams, row: dict[str, Any]) -> html.Tr:
    """One pocket: round, chips, n, NRR and its interval, lift, CLV, p and q."""
    conditions = row["conditions"]
    segment = "/segment" + page_search(p, **conditions)
    direction = "up" if (row["lift"] or 0) >= 1 else "down"
    nrr = html.Span(
        [
            html.Span(fmt.pct(row["nrr"]), className=f"pocket-nrr pocket-{direction}"),
            html.Span(f" {fmt.interval(row['nrr_low'], row['nrr_high'])}", className="hint"),
        ]
    )
    return html.Tr(
        [
            html.Td(str(row["round"]), className="num"),
            html.Td(chips(conditions, segment)),
            html.Td(fmt.count(row["accounts"]), className="num"),
            html.Td(nrr, className="num"),
            html.Td(fmt.factor(row["lift"]), className="num"),
            html.Td(fmt.money(row["clv"]), className="num"),
            html.Td(fmt.probability(row["p_value"]), className="num"),
            html.Td(fmt.probability(row["q_value"]), className="num"),
            html.Td(dcc.Link("Accounts", href=accounts_href(p, conditions),
                             className="pocket-accounts",
                             title="Every account of the starting cohort meeting the conditions")),
        ],
        className=f"pocket pocket-row-{direction}",
    )


def pockets_table(result: View, alpha: float) -> html.Div:
    """The pockets in the order found, or why there is none."""
    rows = result.rows()
    if not rows:
        return html.P(
            f"No pocket: no combination of attributes has an NRR significantly different "
            f"from the rest at q <= {alpha:g}.",
            className="hint",
        )
    heads = [html.Th("Round", className="num"), html.Th("Pocket")] + [
        html.Th(metric_label(key, "disc", text), className="num") for key, text in NUMBERS
    ] + [html.Th("")]
    return dbc.Table(
        [html.Thead(html.Tr(heads)), html.Tbody([pocket_row(result.params, r) for r in rows])],
        id=ids.TABLE,
        hover=True,
        responsive=True,
        className="pockets-table",
    )


def layout(**query: str) -> html.Div:
    """The pockets of the view in the URL."""
    opened = open_view(HEADER, lambda ctx: read_params(ctx, query), ("Discover", "/discover"))
    if isinstance(opened, html.Div):
        return opened
    ctx, p = opened
    try:
        result = discover(ctx, p)
    except USER_ERRORS as exc:
        return html.Div([HEADER, problem(str(exc))])
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.STATE, data=p.to_store()),
            HEADER,
            view_controls(p, ctx.months_available(), PREFIX),
            html.Div(
                f"Starting cohort of {p.as_of_label} less {fmt.months(p.window)}, "
                f"up to {p.depth} conditions a pocket",
                className="section-title",
            ),
            html.Div(
                [
                    pockets_table(result, ctx.settings.alpha),
                    html.P(
                        "Click a pocket's conditions to open its segment page, Accounts for "
                        "the accounts meeting them. Round 1 tests the whole starting cohort; "
                        "each later round tests the accounts the earlier pockets left, so its "
                        "n, NRR and lift count those accounts only, while the segment page and "
                        "the accounts list count every account meeting the conditions. CLV is "
                        "the whole segment's. p: permutation z-test on NRR residuals; q: "
                        "Benjamini-Hochberg over the round's candidates.",
                        className="hint mt-2",
                    ),
                ],
                className="panel",
            ),
        ]
    )


serve_controls(PREFIX, "/discover", discover)
