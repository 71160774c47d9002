"""Scorecard views: one row per segment, and the company as one segment."""

from __future__ import annotations

import polars as pl

from app.views.columns import column, columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.scorecard import company_summary, segment_scorecard

# What JSON and CSV hold per segment: intervals beside their metric, the counts behind
# each rate, the spread of the sales cycle and the movements behind NRR.
SCORECARD_KEYS = (
    "accounts",
    "nrr",
    "nrr_low",
    "nrr_high",
    "grr",
    "logo_retention",
    "arpa",
    "clv",
    "clv_low",
    "clv_high",
    "clv_simple",
    "win_rate",
    "won",
    "lost",
    "avg_deal_size",
    "days_to_close",
    "days_to_close_p25",
    "days_to_close_p75",
    "days_to_close_cv",
    "sales_velocity",
    "expansion_rate",
    "contraction_rate",
    "prospects",
    "tam",
    "tier",
)
# What a text table shows: the pages' scorecard columns.
TABLE_KEYS = (
    "accounts", "nrr", "grr", "logo_retention", "clv", "win_rate", "avg_deal_size",
    "days_to_close", "tam", "tier",
)

COMPANY_KEYS = (
    "as_of",
    "window",
    "mrr",
    "arr",
    "active_accounts",
    "accounts",
    "nrr",
    "nrr_low",
    "nrr_high",
    "grr",
    "logo_retention",
    "clv",
    "clv_low",
    "clv_high",
    "quick_ratio",
    "quick_ratio_month",
)


@view("scorecard", uses=("as_of", "window", "by", "filters"))
def scorecard(ctx: Context, p: ViewParams) -> View:
    """Segment scorecard: retention, CLV, sales metrics, market size and tier per segment."""
    frame = segment_scorecard(
        ctx.dataset, ctx.settings, p.as_of, p.window, by=p.by, filters=p.filters_map()
    )
    return View(
        "scorecard",
        p,
        frame,
        (*(column(d) for d in p.by), *columns(*SCORECARD_KEYS)),
        brief=(*p.by, *TABLE_KEYS),
        sort="nrr",
    )


@view("company", uses=("as_of", "window"))
def company(ctx: Context, p: ViewParams) -> View:
    """The company's headline numbers: MRR, ARR, retention, CLV and quick ratios."""
    summary = company_summary(ctx.dataset, ctx.settings, p.as_of, p.window)
    return View(
        "company",
        p,
        pl.DataFrame([summary]),
        columns(*(k for k in COMPANY_KEYS if k in summary)),
        items=(summary,),
    )


def company_numbers(ctx: Context, p: ViewParams) -> dict:
    """The company summary as a mapping (shared by flags, alerts and the KPI cards)."""
    return dict(company(ctx, p).items[0])
