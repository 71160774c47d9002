"""Sales views: deal metrics by quarter, and the declared ICP against the data."""

from __future__ import annotations

from app.views.columns import columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.declared import declared_icp_diagnostic
from metrics.secondary import secondary_by_quarter

QUARTER_KEYS = (
    "quarter",
    "won",
    "lost",
    "win_rate",
    "avg_deal_size",
    "bookings",
    "days_to_close",
    "days_to_close_p25",
    "days_to_close_p75",
    "days_to_close_cv",
)
DECLARED_KEYS = (
    "group",
    "accounts",
    "customers",
    "pipeline",
    "pipeline_share",
    "bookings",
    "bookings_share",
    "won",
    "lost",
    "win_rate",
    "avg_deal_size",
    "days_to_close",
    "nrr",
    "grr",
    "logo_retention",
)


@view("quarterly_secondary", uses=("as_of", "filters"))
def quarterly_secondary(ctx: Context, p: ViewParams) -> View:
    """Win rate, deal size and days to close by quarter (the last eight complete quarters)."""
    frame = secondary_by_quarter(ctx.dataset, p.as_of, filters=p.filters_map())
    return View("quarterly_secondary", p, frame, columns(*QUARTER_KEYS))


@view("declared", uses=("as_of", "window"))
def declared(ctx: Context, p: ViewParams) -> View:
    """The declared ICP against the data: inside against outside over the window."""
    frame = declared_icp_diagnostic(ctx.dataset, ctx.settings, p.as_of, p.window)
    return View("declared", p, frame, columns(*DECLARED_KEYS))
