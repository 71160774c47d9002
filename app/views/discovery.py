"""ICP discovery view: the pockets whose NRR differs from the rest, in the order found."""

from __future__ import annotations

from app.views.columns import columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.discovery import discover_pockets

# What JSON and CSV hold per pocket (issue 13); the frame also keeps the pocket's label,
# its account ids, the NRR of the rest of the pool and z, for the page.
DISCOVER_KEYS = (
    "round",
    "conditions",
    "accounts",
    "nrr",
    "nrr_low",
    "nrr_high",
    "grr",
    "logo_retention",
    "clv",
    "lift",
    "p_value",
    "q_value",
)


@view("discover", uses=("as_of", "window", "depth"))
def discover(ctx: Context, p: ViewParams) -> View:
    """Pockets of 1 to ``depth`` conditions found by greedy rounds of tests on window NRR."""
    frame = discover_pockets(ctx.dataset, ctx.settings, p.as_of, p.window, p.depth)
    return View(
        "discover",
        p,
        frame,
        columns(*DISCOVER_KEYS),
        brief=("round", "conditions", "accounts", "nrr", "lift", "clv", "p_value", "q_value"),
    )
