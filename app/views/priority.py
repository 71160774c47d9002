"""ICP priority view: the rated segments of a scorecard in the order to invest in them."""

from __future__ import annotations

from app.views.columns import column, columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.scorecard import scorecard
from app.views.view import View
from metrics.priority import icp_priority

PRIORITY_KEYS = ("segment", "tier", "clv", "nrr", "logo_retention", "tam", "reason")


@view("priority", uses=("as_of", "window", "by", "filters"))
def priority(ctx: Context, p: ViewParams) -> View:
    """Rated segments ranked by CLV, NRR, logo retention, then TAM, each with its reason."""
    frame = icp_priority(scorecard(ctx, p).frame, p.by)
    return View(
        "priority",
        p,
        frame,
        (column("rank"), *(column(d) for d in p.by), *columns(*PRIORITY_KEYS)),
        brief=("rank", "segment", "tier", "clv", "nrr", "logo_retention", "reason"),
    )
