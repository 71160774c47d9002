"""Is the app up, is the data reachable: ``/healthz``, ``/readyz`` and the
"data temporarily unavailable" banner shown while the warehouse is down.
"""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
import sqlalchemy as sa
from dash import Input, Output, State, dcc, html
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from db.engine import DB_ERRORS

log = logging.getLogger("icp.health")

STATUS_ID = "icp-data-status"
RETRY_ID = "icp-data-retry"
RETRY_MS = 5000
UNAVAILABLE = "Data temporarily unavailable: the warehouse cannot be reached. Retrying by itself..."


def register(server: Flask) -> None:
    """Add ``/healthz`` (process up) and ``/readyz`` (database reachable, migrations current)."""
    server.add_url_rule("/healthz", "healthz", healthz)
    server.add_url_rule("/readyz", "readyz", readyz)


def healthz():
    """200 while the process answers; it touches nothing else so a slow database never kills it."""
    return jsonify(status="ok")


def readyz():
    """200 when the warehouse answers and is at the newest migration, else 503 saying why;
    ``views`` says whether the landing page's numbers are computed yet."""
    from db import migrate
    from db.engine import database_url, get_engine

    try:
        # The explicit URL: report the revision rather than refuse an outdated warehouse.
        current = migrate.current_revision(get_engine(database_url()))
    except DB_ERRORS as exc:
        log.warning("readyz: database unreachable (%s)", exc.__class__.__name__)
        return jsonify(status="unavailable", reason="database unreachable"), 503
    head = migrate.head_revision()
    if current != head:
        return jsonify(status="unavailable", reason=f"migrations pending: at {current}, code at {head}"), 503
    return jsonify(status="ready", revision=current, views=views_state())


def views_state() -> str:
    """``warm`` once the landing page's views of the current data version are in the
    cache (computed at start and after each import), else ``warming``: ready either way,
    the first visit then computes what is missing."""
    from app.views.warm import is_warm

    try:
        return "warm" if is_warm() else "warming"
    except DB_ERRORS:
        return "warming"


def database_reachable() -> bool:
    """True when a trivial query on the warehouse succeeds."""
    from db.engine import get_engine

    try:
        with get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except DB_ERRORS:
        return False
    return True


def data_status_banner() -> html.Div:
    """The banner (hidden) and the retry timer (off) that ``on_callback_error`` switches on."""
    return html.Div(
        [
            dbc.Alert(UNAVAILABLE, id=STATUS_ID, color="warning", is_open=False, className="mb-2"),
            dcc.Interval(id=RETRY_ID, interval=RETRY_MS, disabled=True),
        ]
    )


def on_callback_error(err: Exception) -> None:
    """Dash ``on_error`` for every callback: no traceback to the browser, ever.

    Permission errors stay HTTP errors (a viewer calling an admin callback gets
    403). A database outage opens the banner and starts the retry timer; any other
    error is logged with its traceback and request id, and the outputs keep
    their values.
    """
    if isinstance(err, HTTPException):
        raise err
    if isinstance(err, DB_ERRORS):
        log.warning("callback: database unavailable (%s)", err.__class__.__name__)
        dash.set_props(STATUS_ID, {"is_open": True, "children": UNAVAILABLE})
        dash.set_props(RETRY_ID, {"disabled": False})
        return None
    log.error("callback failed", exc_info=err)
    dash.set_props(
        STATUS_ID,
        {"is_open": True, "children": "Something went wrong showing this view; it has been logged."},
    )
    return None


@dash.callback(
    Output(STATUS_ID, "is_open"),
    Output(RETRY_ID, "disabled"),
    Output("_pages_location", "search"),
    Input(RETRY_ID, "n_intervals"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def _retry(_n: int, search: str | None):
    """While the banner is up: once the warehouse answers again, hide it and re-render the
    page (setting the URL's query to itself re-runs the page's layout)."""
    if database_reachable():
        return False, True, search or ""
    return True, False, dash.no_update
