"""Evidence views: Accidental ICP flags and ICP-drift alerts, with their numbers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from app.views.columns import columns
from app.views.context import Context
from app.views.params import ViewParams, resolve
from app.views.registry import view
from app.views.scorecard import company_numbers, scorecard
from app.views.view import View
from metrics.alerts import Alert, Flag
from metrics.drift import drift_alerts
from metrics.icp import accidental_icp_flags
from metrics.stats import p_text

__all__ = ["alerts", "flags", "open_alert_count", "p_text"]

FLAG_KEYS = ("segment_label", "reason", "severity", "severity_score", "explanation", "evidence")
ALERT_KEYS = ("type", "kind", "status", "segment_label", "started", "explanation", "evidence")


def _as_dicts(items: Sequence[Alert | Flag]) -> tuple[dict[str, Any], ...]:
    # The metrics return dataclasses; JSON, CSV and tables read their dict shape.
    return tuple(i.to_dict() for i in items)


def _frame(items: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> pl.DataFrame:
    """One row per item; the nested evidence as JSON text (CSV cells, grid tooltips)."""
    schema = {k: pl.Float64 if k == "severity_score" else pl.String for k in keys}
    rows = [
        {k: json.dumps(i.get(k), default=str) if k == "evidence" else i.get(k) for k in keys}
        for i in items
    ]
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


@view("flags", uses=("as_of", "window", "by"))
def flags(ctx: Context, p: ViewParams) -> View:
    """Accidental ICP flags of the segments of ``by``, most severe first."""
    board = scorecard(ctx, p.with_(filters=())).frame
    items = _as_dicts(
        accidental_icp_flags(board, company_numbers(ctx, p), ctx.settings, p.by)
    )
    return View(
        "flags",
        p,
        _frame(items, FLAG_KEYS),
        columns(*FLAG_KEYS),
        items=items,
        heading="[{severity}] {segment_label} ({reason})",
    )


@view("alerts", uses=("as_of", "window", "by"))
def alerts(ctx: Context, p: ViewParams) -> View:
    """ICP-drift alerts of the segments of ``by``, each with its evidence, test and start."""
    board = scorecard(ctx, p.with_(filters=())).frame
    items = _as_dicts(
        drift_alerts(
            ctx.dataset,
            ctx.settings,
            p.as_of,
            p.window,
            by=p.by,
            scorecard=board,
            company=company_numbers(ctx, p),
        )
    )
    return View(
        "alerts",
        p,
        _frame(items, ALERT_KEYS),
        columns(*ALERT_KEYS),
        items=items,
        heading="[{type} · {status}] {segment_label} since {started}",
    )


def open_alert_count(ctx: Context) -> int:
    """Raised warnings at the default view (by vertical, latest month): the navigation
    badge. Possible alerts (interval includes the threshold) and opportunities do not count."""
    if ctx.empty:
        return 0
    items = alerts(ctx, resolve(ctx, by=("vertical",))).items or ()
    return sum(a["status"] == "raised" and a["kind"] == "warning" for a in items)
