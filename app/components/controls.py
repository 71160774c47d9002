"""The controls of a page whose URL holds the as-of month, the window and (discovery) the
depth, with the page's CSV button beside them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from app.components.viewpage import current, download
from app.views import query as urlstate
from app.views.context import Context
from app.views.params import ViewParams
from app.views.view import View


def choice(label: str, cid: str, options: list, value: Any, width: int) -> dbc.Col:
    """A labelled dropdown in a grid column of ``width``."""
    return dbc.Col(
        [html.Label(label, htmlFor=cid),
         dcc.Dropdown(id=cid, options=options, value=value, clearable=False)],
        md=width,
    )


def view_controls(
    p: ViewParams, months: list[str], prefix: str, depth: bool = True
) -> dbc.Row:
    """Dropdowns ``<prefix>-depth`` (when ``depth``), ``<prefix>-as-of`` and
    ``<prefix>-window``, and the button ``<prefix>-download-button`` with its
    ``dcc.Download`` ``<prefix>-download``."""
    windows = sorted(set(urlstate.WINDOWS) | {p.window})
    depths = [{"label": f"up to {d}", "value": d} for d in urlstate.DEPTHS]
    return dbc.Row(
        [
            *([choice("Conditions a pocket may combine", f"{prefix}-depth", depths, p.depth, 3)]
              if depth else []),
            choice("As of month", f"{prefix}-as-of", months, p.as_of_label, 2),
            choice("Window", f"{prefix}-window",
                    [{"label": f"{w} months", "value": w} for w in windows], p.window, 2),
            dbc.Col(
                [dbc.Button("Download CSV", id=f"{prefix}-download-button", color="secondary",
                            outline=True, size="sm"),
                 dcc.Download(id=f"{prefix}-download")],
                className="ms-auto text-end align-self-end",
                md=2,
            ),
        ],
        className="controls g-3 mb-3",
    )


def controls_search(depth: int | None, as_of: str, window: int) -> str:
    """The query string the controls name (what a page navigates to on a change)."""
    return urlstate.search({"depth": depth, "as_of": as_of, "window": window})


def serve_controls(prefix: str, path: str, view_of: Callable[[Context, ViewParams], View]) -> None:
    """The callbacks of a page built with :func:`view_controls`: a control change opens the
    page of the new view (its URL is the state); the CSV button downloads ``view_of``
    at the params the page stored (``<prefix>-state``)."""

    @callback(
        Output(f"{prefix}-nav", "href"),
        Input(f"{prefix}-depth", "value"),
        Input(f"{prefix}-as-of", "value"),
        Input(f"{prefix}-window", "value"),
        prevent_initial_call=True,
    )
    def _navigate(depth: int, as_of: str, window: int) -> str:
        return path + controls_search(depth, as_of, window)

    @callback(
        Output(f"{prefix}-download", "data"),
        Input(f"{prefix}-download-button", "n_clicks"),
        State(f"{prefix}-state", "data"),
        prevent_initial_call=True,
    )
    def _download(_n: int, state: dict) -> dict:
        return download(view_of(current(), ViewParams.from_store(state)))
