"""What every page does first and last: open its view from the URL, offer its CSV.

A page reads the URL into ``ViewParams`` through :func:`open_view` (the settings'
and the data's defaults are applied there, in ``app.views.params``), shows the
empty-warehouse state or the problem with the URL in one way, and downloads any
view as data with :func:`download`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

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
    name = f"icp-{view.name}-{view.params.slug(view.uses or None)}.csv".replace("_", "-")
    return dcc.send_string(render.to_csv(view, comment=True, line_end="\r\n"), filename=name)


def download_button(button_id: str, download_id: str, text: str = "Download CSV",
                    class_name: str = "text-end") -> html.Div:
    """A CSV button and its download target."""
    return html.Div(
        [
            dbc.Button(text, id=button_id, color="secondary", outline=True, size="sm"),
            dcc.Download(id=download_id),
        ],
        className=class_name,
    )


def serve_download(
    button_id: str,
    download_id: str,
    view_of: Callable[[Context, dict[str, str]], View],
    search: tuple[str, str] = ("_pages_location", "search"),
) -> None:
    """Answer the button's clicks with ``view_of(context, query)`` as a CSV download; the
    query is read from the page's URL (or the component property ``search`` names)."""

    @callback(
        Output(download_id, "data"),
        Input(button_id, "n_clicks"),
        State(*search),
        prevent_initial_call=True,
    )
    def _download(_n: int, text: str | None) -> dict[str, Any]:
        return download(view_of(current(), dict(parse_qsl((text or "").lstrip("?")))))


def unchanged(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """A dict-output callback's answer that changes nothing."""
    return dict.fromkeys(outputs, dash.no_update)
