"""Revenue views: MRR movements month by month."""

from __future__ import annotations

from app.views.columns import columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.movements import mrr_movements

MOVEMENT_KEYS = (
    "month",
    "starting_mrr",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "ending_mrr",
    "quick_ratio",
)


@view("movements", uses=("as_of", "filters"))
def movements(ctx: Context, p: ViewParams) -> View:
    """MRR movements per month up to the as-of month, with the quick ratio."""
    frame = mrr_movements(ctx.dataset, p.as_of, filters=p.filters_map())
    return View("movements", p, frame, columns(*MOVEMENT_KEYS))
