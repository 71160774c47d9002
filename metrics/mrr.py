"""MRR snapshot: MRR(a, m) per account and month, the one expansion everything reads."""

from __future__ import annotations

import polars as pl

from metrics.months import month_key_expr, month_keys_of_days

# Combined sort key: account number shifted past the month offset (PERF_NOTES: one
# integer key sorts far faster than two columns).
MONTH_SPAN = 4096


def cents(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Money column to integer cents (exact for Decimal, rounded for floats)."""
    if isinstance(dtype, pl.Decimal):
        return (col * 100).cast(pl.Int64)
    return (col.cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def snapshot_from_subscriptions(subs: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """MRR(a, m) > 0 rows from subscriptions ``idx, start_date, end_date, mrr`` (cents).

    A subscription is active on the last day of month m when start <= that day <=
    end (inclusive, empty = open). Each subscription becomes a +mrr event at its
    first month and a -mrr event after its last; a running sum over events sorted
    by (account, month) gives each account's MRR as piecewise-constant stretches,
    which are then expanded with ``int_ranges`` (no group-by over account-months,
    overlapping subscriptions add up by construction).
    """
    start = subs.get_column("start_date").cast(pl.Int32)
    # The day after a month's last day falls in the next month.
    end_next = subs.get_column("end_date").cast(pl.Int32) + 1
    iv = (
        subs.lazy()
        .select(
            pl.col("idx").cast(pl.Int64),
            pl.lit(month_keys_of_days(start)).alias("first"),
            pl.lit(month_keys_of_days(end_next) - 1)
            .fill_null(horizon)
            .clip(upper_bound=horizon)
            .cast(pl.Int32)
            .alias("last"),
            pl.col("mrr"),
        )
        .filter((pl.col("last") >= pl.col("first")) & (pl.col("mrr") > 0))
    )
    base = iv.select(pl.col("first").min()).collect().item()
    if base is None:
        return empty_snapshot()
    base = int(base)
    events = pl.concat(
        [
            iv.select(
                (pl.col("idx") * MONTH_SPAN + (pl.col("first") - base)).alias("key"),
                pl.col("mrr").alias("delta"),
            ),
            iv.select(
                (pl.col("idx") * MONTH_SPAN + (pl.col("last") + 1 - base)).alias("key"),
                (-pl.col("mrr")).alias("delta"),
            ),
        ]
    )
    # Every account's deltas sum to zero, so a global running sum is per account.
    stretches = (
        events.sort("key")
        .with_columns(pl.col("delta").cum_sum().alias("level"))
        .filter(pl.col("key") != pl.col("key").shift(-1, fill_value=-1))
        .with_columns(pl.col("key").shift(-1).alias("next"))
        .filter(pl.col("level") > 0)
    )
    return (
        stretches.select(
            (pl.col("key") // MONTH_SPAN).cast(pl.UInt32).alias("idx"),
            pl.int_ranges(
                (pl.col("key") % MONTH_SPAN).cast(pl.Int32) + base,
                (pl.col("next") % MONTH_SPAN).cast(pl.Int32) + base,
                dtype=pl.Int32,
            ).alias("month"),
            pl.col("level").alias("mrr"),
        )
        .explode("month")
        .collect()
    )


def snapshot_from_monthly(rows: pl.DataFrame) -> pl.DataFrame:
    """MRR(a, m) > 0 rows from monthly rows ``idx, month (date), mrr`` (cents)."""
    return (
        rows.lazy()
        .select(
            pl.col("idx").cast(pl.UInt32),
            month_key_expr(pl.col("month")).alias("month"),
            pl.col("mrr"),
        )
        .filter(pl.col("mrr") > 0)
        .group_by("idx", "month")
        .agg(pl.col("mrr").sum())
        .sort(pl.col("idx").cast(pl.Int64) * MONTH_SPAN + (pl.col("month") - pl.col("month").min()))
        .collect()
    )


def empty_snapshot() -> pl.DataFrame:
    """A snapshot with no rows."""
    return pl.DataFrame(schema={"idx": pl.UInt32, "month": pl.Int32, "mrr": pl.Int64})
