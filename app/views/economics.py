"""Economics view: unit economics per segment (needs the optional spend file)."""

from __future__ import annotations

from app.views.columns import column, columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.economics import (
    ECONOMICS_KEYS,
    EXTRA_KEYS,
    has_spend,
    segment_economics,
)

TABLE_KEYS = (
    "new_customers", "new_arpa", "spend", "cac", "clv", "ltv_cac", "payback_months",
    "allowable_cac", "magic_number",
)


@view("economics", uses=("as_of", "window", "by", "filters"))
def economics(ctx: Context, p: ViewParams) -> View:
    """New customers, spend, CAC, LTV:CAC, CAC payback, allowable CAC and magic number per
    segment; without spend only the allowable CAC (what a new customer may cost)."""
    frame = segment_economics(
        ctx.dataset, ctx.settings, p.as_of, p.window, by=p.by, filters=p.filters_map()
    )
    spend = has_spend(ctx.dataset)
    return View(
        "economics",
        p,
        frame,
        (*(column(d) for d in p.by), *columns(*ECONOMICS_KEYS, *EXTRA_KEYS)),
        brief=(*p.by, *TABLE_KEYS),
        sort="ltv_cac",
        note="" if spend else (
            "no spend imported: only the allowable CAC (CLV / target LTV:CAC) is shown; "
            "import a spend file for CAC, LTV:CAC, payback and magic number"
        ),
    )
