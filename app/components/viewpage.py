"""What every page does first and last: open its view from the URL, offer its CSV.

A page reads the URL into ``ViewParams`` through :func:`open_view` (the settings'
and the data's defaults are applied there, in ``app.views.params``), shows the
empty-warehouse state or the problem with the URL in one way, and downloads any
view as data with :func:`download`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dash
from dash import dcc, html

from app.components.widgets import empty_state, problem
from app.views import USER_ERRORS, render
from app.views.context import Context, warehouse_context
from app.views.params import ViewParams
from app.views.view import View


def current() -> Context:
    """The warehouse's context at its current data version."""
    return warehouse_context()


def open_view(
    header: html.Div,
    read: Callable[[Context], ViewParams],
    back: tuple[str, str] | None = None,
) -> tuple[Context, ViewParams] | html.Div:
    """The context and params a page shows, or the page to show instead.

    ``read`` turns the URL into params (raising a user error for a bad URL); an empty
    warehouse shows how to load data, a bad URL names the parameter and, with
    ``back`` (text, href), links back.
    """
    ctx = current()
    if ctx.empty:
        return html.Div([header, empty_state()])
    try:
        return ctx, read(ctx)
    except USER_ERRORS as exc:
        link = [dcc.Link(back[0], href=back[1])] if back else []
        return html.Div([header, problem(str(exc)), *link])


def download(view: View) -> dict[str, Any]:
    """The view as a CSV download: raw numbers under the column keys, a first comment
    line naming the as-of month, window and filters, and the same in the file name."""
    name = f"icp-{view.name}-{view.params.slug()}.csv".replace("_", "-")
    return dcc.send_string(render.to_csv(view, comment=True, line_end="\r\n"), filename=name)


def unchanged(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """A dict-output callback's answer that changes nothing."""
    return dict.fromkeys(outputs, dash.no_update)
