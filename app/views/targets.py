"""Targets view: accounts worth pursuing, ranked by expected value, with their fit score."""

from __future__ import annotations

from app.views.columns import columns
from app.views.context import Context
from app.views.discovery import discover
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.targets import target_accounts


@view("targets", uses=("as_of", "window", "depth"))
def targets(ctx: Context, p: ViewParams) -> View:
    """Prospects and accounts with an open new-business deal, by expected value (the
    segment's win rate x CLV), each with its fit score and the pocket it falls in."""
    pockets = discover(ctx, p).frame
    frame = target_accounts(ctx.dataset, ctx.settings, p.as_of, p.window, pockets)
    return View(
        "targets",
        p,
        frame,
        # The metric's columns are the list's keys (METRICS.md order), written there once.
        columns(*frame.columns),
        brief=(
            "account_name", "segment", "tier", "expected_value", "fit_score", "pocket",
            "open_opportunity",
        ),
    )
