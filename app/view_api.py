"""``GET /api/<view>.json`` and ``.csv``: every view, read-only, for scripts and BI tools.

The same sign-in and roles as the pages (any signed-in viewer; anonymous callers get
401 from ``app.auth``). Parameters are the pages' URL parameters: ``as_of``
(YYYY-MM), ``window``, ``by`` (one or two dimensions, comma-separated), ``period``,
``depth`` (discovery) and a segment as ``<dimension>=<value>``. JSON is ``{"view",
"params", "columns", "note", "rows"}`` where ``rows`` are exactly what ``icp report
<view> --format json`` prints and ``note`` the total a list of accounts adds up to
(else empty); CSV is the pages' download. A list of the accounts behind a number also
takes ``movement``, ``cohort`` and ``age``, or ``deals``
(``/api/accounts.json?deals=won,lost``).
"""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, request

from app.auth import require_role
from app.views import USER_ERRORS, VIEWS, render
from app.views.context import warehouse_context
from app.views.params import from_query


def register(server: Flask) -> None:
    """Add the read-only view routes."""
    server.add_url_rule("/api/<name>.json", "api_view_json", view_json)
    server.add_url_rule("/api/<name>.csv", "api_view_csv", view_csv)


def _view(name: str):
    if name not in VIEWS:
        known = ", ".join(sorted(VIEWS))
        return None, (jsonify(error=f"no view {name!r}; the views are: {known}"), 404)
    ctx = warehouse_context()
    try:
        params = from_query(ctx, request.args.to_dict())
        return VIEWS[name](ctx, params), None
    except USER_ERRORS as exc:
        return None, (jsonify(error=str(exc)), 400)


@require_role("viewer")
def view_json(name: str) -> Response | tuple[Response, int]:
    """The view as JSON: its resolved params, its columns and its rows."""
    result, failure = _view(name)
    if failure:
        return failure
    body = {
        "view": result.name,
        "params": {**result.params.to_store(), "as_of": result.params.as_of_label},
        "columns": [
            {"key": c.key, "label": c.label, "kind": c.kind, "definition": c.definition}
            for c in result.columns
        ],
        "note": result.note,
        "rows": result.records(),
    }
    # json.dumps keeps the rows' key order (Flask's jsonify would sort it).
    return Response(json.dumps(body, default=str), mimetype="application/json")


@require_role("viewer")
def view_csv(name: str) -> Response | tuple[Response, int]:
    """The view as the pages' CSV download."""
    result, failure = _view(name)
    if failure:
        return failure
    name = f"icp-{result.name}-{result.params.slug(result.uses or None)}.csv".replace("_", "-")
    return Response(
        render.to_csv(result, comment=True, line_end="\r\n"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
