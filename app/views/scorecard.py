"""Scorecard views: one row per segment, and the company as one segment."""

from __future__ import annotations

import polars as pl

from app.views.columns import column, columns
from app.views.context import Context
from app.views.params import ViewParams
from app.views.registry import view
from app.views.view import View
from metrics.scorecard import REPORT_KEYS, company_summary, segment_scorecard

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
        (*(column(d) for d in p.by), *columns(*REPORT_KEYS)),
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
