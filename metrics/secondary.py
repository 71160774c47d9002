"""Secondary metrics over new-business opportunities, and market size (prospects, TAM)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from metrics.model import Dataset, Filters, Segments, segments
from metrics.months import last_complete_quarter_end, quarter_label
from metrics.retention import money, ratio


def new_business_lazy(ds: Dataset, segs: Segments) -> pl.LazyFrame:
    """New-business opportunities of the kept accounts, with their ``seg``, as a lazy
    query: a consumer's filters and column choice apply before anything is copied."""
    new = ds.opportunities.lazy().filter(pl.col("opportunity_type") == "new_business")
    return segs.attach_lazy(new)


def new_business(ds: Dataset, segs: Segments) -> pl.DataFrame:
    """New-business opportunities of the kept accounts, with their ``seg``."""
    return new_business_lazy(ds, segs).collect()


def deal_aggs() -> list[pl.Expr]:
    """Aggregations over closed deals: won, lost, win rate, deal size, days to close."""
    won = pl.col("status") == "won"
    lost = pl.col("status") == "lost"
    days = pl.col("days_to_close").filter(won).cast(pl.Float64)
    return [
        won.sum().cast(pl.Int64).alias("won"),
        lost.sum().cast(pl.Int64).alias("lost"),
        pl.col("amount").filter(won).sum().alias("bookings"),
        pl.col("amount").filter(won).mean().alias("avg_deal_size"),
        days.median().alias("days_to_close"),
        days.quantile(0.25, interpolation="linear").alias("days_to_close_p25"),
        days.quantile(0.75, interpolation="linear").alias("days_to_close_p75"),
        days_cv(pl.col("days_to_close").filter(won)).alias("days_to_close_cv"),
    ]


def days_cv(days: pl.Expr) -> pl.Expr:
    """Coefficient of variation (sample std / mean) of whole days, the same every run.

    Computed from the exact integer sums of x and x²: a float std's result depends on
    the order the rows of a group arrive in, which a parallel group-by does not fix.
    """
    d = days.cast(pl.Int64)
    n = d.count().cast(pl.Float64)
    s1 = d.sum().cast(pl.Float64)
    s2 = (d * d).sum().cast(pl.Float64)
    var = (n * s2 - s1 * s1) / (n * (n - 1))
    return pl.when(n > 1).then(var.clip(lower_bound=0).sqrt() / (s1 / n))


def finish_deals(df: pl.DataFrame) -> pl.DataFrame:
    """Fill empty groups, add the win rate, money in currency units."""
    return df.with_columns(
        pl.col("won", "lost").fill_null(0), pl.col("bookings").fill_null(0)
    ).with_columns(
        ratio(pl.col("won"), pl.col("won") + pl.col("lost")).alias("win_rate"),
        money(pl.col("bookings")),
        money(pl.col("avg_deal_size")),
    )


def closed_between(first: int, last: int) -> pl.Expr:
    """Won or lost deals whose close month is in [first, last]."""
    return pl.col("status").is_in(["won", "lost"]) & pl.col("close_month").is_between(first, last)


def month_end(key: int) -> dt.date:
    """Last day of a month key."""
    y, m = divmod(key + 1, 12)
    return dt.date(y, m + 1, 1) - dt.timedelta(days=1)


def secondary_metrics(
    ds: Dataset,
    as_of: int,
    window: int,
    by: Sequence[str] = (),
    filters: Filters = None,
    segs: Segments | None = None,
) -> pl.DataFrame:
    """Win rate, deal size, days to close, sales velocity, prospects and TAM per segment.

    Deals closed in the window (as_of - window < close month <= as_of); open
    opportunities are those open on the as-of month's last day.
    """
    m = ds.month(as_of)
    segs = segs or segments(ds, by, filters)
    opps = new_business_lazy(ds, segs)
    closed = opps.filter(closed_between(m - window + 1, m)).group_by("seg").agg(deal_aggs())
    end = month_end(m)
    open_now = (
        opps.filter(
            (pl.col("created_date") <= end)
            & (pl.col("close_date").is_null() | (pl.col("close_date") > end))
        )
        .group_by("seg")
        .agg(pl.len().cast(pl.Int64).alias("open_opportunities"))
    )
    closed, open_now = pl.collect_all([closed, open_now])
    prospects = (
        segs.attach(ds.accounts.select("idx", "first_month"))
        .filter(pl.col("first_month").is_null() | (pl.col("first_month") > m))
        .group_by("seg")
        .agg(pl.len().cast(pl.Int64).alias("prospects"))
    )
    out = (
        segs.labels.select("seg")
        .join(closed, on="seg", how="left")
        .join(open_now, on="seg", how="left")
        .join(prospects, on="seg", how="left")
        .with_columns(pl.col("open_opportunities", "prospects").fill_null(0))
    )
    out = finish_deals(out).with_columns(
        pl.when(pl.col("days_to_close") > 0)
        .then(
            pl.col("open_opportunities")
            * pl.col("win_rate")
            * pl.col("avg_deal_size")
            / pl.col("days_to_close")
        )
        .alias("sales_velocity"),
        (pl.col("avg_deal_size") * pl.col("prospects")).alias("tam"),
    )
    return segs.label_rows(
        out.select(
            "seg",
            "won",
            "lost",
            "win_rate",
            "avg_deal_size",
            "bookings",
            "days_to_close",
            "days_to_close_p25",
            "days_to_close_p75",
            "days_to_close_cv",
            "open_opportunities",
            "sales_velocity",
            "prospects",
            "tam",
        )
    )


def secondary_by_quarter(
    ds: Dataset,
    as_of: int,
    quarters: int = 8,
    by: Sequence[str] = (),
    filters: Filters = None,
    segs: Segments | None = None,
) -> pl.DataFrame:
    """Deal metrics per segment and calendar quarter, the last ``quarters`` complete at as_of.

    Columns: ``<by>, quarter (2025Q3), quarter_key, won, lost, win_rate,
    avg_deal_size, bookings, days_to_close, days_to_close_p25, days_to_close_p75,
    days_to_close_cv``.
    """
    m = ds.month(as_of)
    segs = segs or segments(ds, by, filters)
    last_q = last_complete_quarter_end(m) // 3
    first_q = last_q - quarters + 1
    opps = new_business_lazy(ds, segs).filter(closed_between(first_q * 3, last_q * 3 + 2))
    agg = (
        opps.with_columns((pl.col("close_month") // 3).alias("quarter_key"))
        .group_by("seg", "quarter_key")
        .agg(deal_aggs())
        .collect()
    )
    grid = segs.labels.select("seg").join(
        pl.DataFrame({"quarter_key": pl.int_range(first_q, last_q + 1, eager=True).cast(pl.Int32)}),
        how="cross",
    )
    out = finish_deals(grid.join(agg, on=["seg", "quarter_key"], how="left")).sort(
        "seg", "quarter_key"
    )
    labels = pl.DataFrame(
        {
            "quarter_key": pl.Series(range(first_q, last_q + 1), dtype=pl.Int32),
            "quarter": [quarter_label(q) for q in range(first_q, last_q + 1)],
        }
    )
    out = out.join(labels, on="quarter_key", how="left")
    return segs.label_rows(
        out.select(
            "seg",
            "quarter",
            "quarter_key",
            "won",
            "lost",
            "win_rate",
            "avg_deal_size",
            "bookings",
            "days_to_close",
            "days_to_close_p25",
            "days_to_close_p75",
            "days_to_close_cv",
        ),
        ["quarter_key"],
    )
