"""Targets and fit (METRICS.md): expected value and ICP fit score per account, target list.

An account's segment value comes from the most specific segment rated for targeting
that holds it: its sub-industry (within its vertical), else its vertical, else the
company.
"""

from __future__ import annotations

import polars as pl

from metrics.conditions import conditions_expr
from metrics.discovery import pocket_conditions
from metrics.icp import RATED
from metrics.model import Dataset
from metrics.retention import mrr_at
from metrics.scorecard import segment_scorecard
from metrics.secondary import month_end
from metrics.settings import MetricSettings

LEVELS = (("sub_industry", ("vertical", "sub_industry")), ("vertical", ("vertical",)))
VALUE_COLUMNS = ("segment", "tier", "clv", "win_rate", "expected_value")


def rated_for_targeting(min_deals: int) -> pl.Expr:
    """A scorecard row rated for targeting: tiered, with a CLV and at least ``min_deals``
    closed new-business deals behind its win rate."""
    closed = pl.col("won") + pl.col("lost")
    return (
        pl.col("tier").is_in(list(RATED))
        & pl.col("clv").is_not_null()
        & pl.col("win_rate").is_not_null()
        & (closed >= min_deals)
    )


def targeting_segments(
    ds: Dataset, settings: MetricSettings, as_of: int, window: int
) -> pl.DataFrame:
    """Sub-industries, verticals and the company with their value for targeting.

    Columns: ``level (sub_industry | vertical | company), vertical, sub_industry,
    segment (label), tier, clv, win_rate, won, lost, rated, expected_value (win
    rate x CLV), fit_score`` (100 x expected value / the highest among the rated
    sub-industries and verticals; null for a segment not rated).
    """
    parts = []
    for level, by in (*LEVELS, ("company", ())):
        sc = segment_scorecard(ds, settings, as_of, window, by=by, intervals=False)
        label = pl.concat_str([pl.col(d) for d in by], separator=" / ") if by else pl.lit("Company")
        parts.append(
            sc.select(
                pl.lit(level).alias("level"),
                *(pl.col(d) if d in by else pl.lit(None, pl.String).alias(d) for d in LEVELS[0][1]),
                label.alias("segment"),
                "tier",
                "clv",
                "win_rate",
                "won",
                "lost",
                rated_for_targeting(settings.min_deals).alias("rated"),
            )
        )
    out = pl.concat(parts).with_columns(
        pl.when("rated").then(pl.col("win_rate") * pl.col("clv")).alias("expected_value")
    )
    best = pl.col("expected_value").filter(pl.col("level") != "company").max()
    # The company's value (a fallback) can top every rated segment's: the score stops at 100.
    fit = (100.0 * pl.col("expected_value") / best).clip(upper_bound=100.0)
    return out.with_columns(pl.when(best > 0).then(fit).alias("fit_score"))


def account_fit(ds: Dataset, settings: MetricSettings, as_of: int, window: int) -> pl.DataFrame:
    """Every account's segment value: ``account_id, account_name, vertical, sub_industry,
    segment, tier, clv, win_rate, expected_value, fit_score`` (null where not even the
    company is rated for targeting). Opportunity lists show its fit score."""
    segs = targeting_segments(ds, settings, as_of, window).filter("rated")
    acc = ds.accounts.select("idx", "account_id", "account_name", "vertical", "sub_industry")
    for level, by in LEVELS:
        mine = segs.filter(pl.col("level") == level).select(
            *by, *(pl.col(c).alias(f"{level}:{c}") for c in (*VALUE_COLUMNS, "fit_score"))
        )
        acc = acc.join(mine, on=list(by), how="left", maintain_order="left")
    company = segs.filter(pl.col("level") == "company")
    values = []
    for c in (*VALUE_COLUMNS, "fit_score"):
        fallback = company.get_column(c)[0] if company.height else None
        sub, vert = pl.col(f"sub_industry:{c}"), pl.col(f"vertical:{c}")
        # The most specific rated segment gives all its values, never a mix of levels.
        values.append(
            pl.when(pl.col("sub_industry:segment").is_not_null())
            .then(sub)
            .when(pl.col("vertical:segment").is_not_null())
            .then(vert)
            .otherwise(pl.lit(fallback, dtype=segs.schema[c]))
            .alias(c)
        )
    return acc.select("idx", "account_id", "account_name", "vertical", "sub_industry", *values)


def target_accounts(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    pockets: pl.DataFrame | None,
) -> pl.DataFrame:
    """The target account list, ranked by expected value (highest first).

    Accounts not active in ``as_of`` that were never active by then (prospects) or
    hold a new-business opportunity open on its last day. Columns: ``account_id,
    account_name, vertical, sub_industry, segment, tier, clv, win_rate,
    expected_value, fit_score, pocket, open_opportunity``; ``pocket`` is the label
    of the first pocket of ``pockets`` (``discover_pockets``) whose conditions the
    account meets.
    """
    end = month_end(as_of)
    open_now = (
        ds.opportunities.lazy()
        .filter(
            (pl.col("opportunity_type") == "new_business")
            & (pl.col("created_date") <= end)
            & (pl.col("close_date").is_null() | (pl.col("close_date") > end))
        )
        .select("idx")
        .unique()
        .collect()
        .get_column("idx")
    )
    active = mrr_at(ds, as_of).select("idx").collect().get_column("idx")
    first = pl.lit(ds.accounts.get_column("first_month")).gather(pl.col("idx"))
    prospect = first.is_null() | (first > as_of)
    has_open = pl.col("idx").is_in(open_now.implode())
    # Built from the last pocket out, so the first pocket an account meets names it.
    pocket = pl.lit(None, pl.String)
    for row in reversed(list(pockets.iter_rows(named=True)) if pockets is not None else []):
        meets = conditions_expr(pocket_conditions(row))
        pocket = pl.when(meets).then(pl.lit(row["pocket"])).otherwise(pocket)
    fit = account_fit(ds, settings, as_of, window)
    return (
        fit.join(
            ds.accounts.drop("account_id", "account_name", "vertical", "sub_industry"), on="idx"
        )
        .filter(~pl.col("idx").is_in(active.implode()) & (prospect | has_open))
        .with_columns(pocket.alias("pocket"), has_open.alias("open_opportunity"))
        .sort(["expected_value", "idx"], descending=[True, False], nulls_last=True)
        .select(
            "account_id",
            "account_name",
            "vertical",
            "sub_industry",
            "segment",
            "tier",
            "clv",
            "win_rate",
            "expected_value",
            "fit_score",
            "pocket",
            "open_opportunity",
        )
    )
