"""MRR snapshot: MRR(a, m) per account and month, the one step everything reads.

It is kept in two equivalent shapes: ``runs`` (run-length encoded: one row per
stretch of months an account pays the same MRR) and the expanded ``snapshot``
(one row per active account-month). The sums over account-months that cohorts,
CLV and movements need change only where a run starts or ends, so they read the
runs (about a tenth of the rows); point reads and per-row queries use either.
"""

from __future__ import annotations

import polars as pl

from metrics.months import month_key_expr, month_keys_of_days

# Combined sort key: account number shifted past the month offset (PERF_NOTES: one
# integer key sorts far faster than two columns).
MONTH_SPAN = 4096
# Key of an account-month, idx * KEY_SPAN + month: month keys (year * 12 + month - 1)
# stay below 2**17 through the year 9999, so the key tells account and month apart.
KEY_SPAN = 1 << 17

RUNS_SCHEMA = {"idx": pl.UInt32, "start": pl.Int32, "end": pl.Int32, "mrr": pl.Int64}


def cents(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Money column to integer cents (exact for Decimal, rounded for floats)."""
    if isinstance(dtype, pl.Decimal):
        return (col * 100).cast(pl.Int64)
    return (col.cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def runs_from_subscriptions(subs: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """MRR runs ``idx, start, end, mrr`` from subscriptions ``idx, start_date, end_date, mrr``.

    A subscription is active on the last day of month m when start <= that day <=
    end (inclusive, empty = open; cut at ``horizon``). Each subscription becomes a
    +mrr event at its first month and a -mrr event after its last; a running sum
    over events sorted by (account, month) gives each account's MRR as
    piecewise-constant stretches (overlapping subscriptions add up by
    construction). Runs are maximal: two adjacent runs of one account differ in MRR.
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
        .collect()
    )
    if iv.height == 0:
        return empty_runs()
    base = int(iv.get_column("first").min())
    events = pl.concat(
        [
            iv.lazy().select(
                (pl.col("idx") * MONTH_SPAN + (pl.col("first") - base)).alias("key"),
                pl.col("mrr").alias("delta"),
            ),
            iv.lazy().select(
                (pl.col("idx") * MONTH_SPAN + (pl.col("last") + 1 - base)).alias("key"),
                (-pl.col("mrr")).alias("delta"),
            ),
        ]
    )
    # Every account's deltas sum to zero, so a global running sum is per account; an
    # account's first level is positive and its last is zero, so a level equal to
    # the previous row's continues the same run (within the account).
    level = pl.col("level")
    return (
        events.sort("key")
        .with_columns(pl.col("delta").cum_sum().alias("level"))
        .filter(pl.col("key") != pl.col("key").shift(-1, fill_value=-1))
        .filter(level != level.shift(1, fill_value=0))
        .with_columns(pl.col("key").shift(-1).alias("next"))
        .filter(level > 0)
        .select(
            (pl.col("key") // MONTH_SPAN).cast(pl.UInt32).alias("idx"),
            ((pl.col("key") % MONTH_SPAN) + base).cast(pl.Int32).alias("start"),
            ((pl.col("next") % MONTH_SPAN) + base - 1).cast(pl.Int32).alias("end"),
            level.alias("mrr"),
        )
        .collect()
    )


def runs_from_snapshot(snapshot: pl.DataFrame) -> pl.DataFrame:
    """Maximal MRR runs of a snapshot sorted by (idx, month)."""
    key = pl.col("idx").cast(pl.Int64) * KEY_SPAN + pl.col("month")
    mrr = pl.col("mrr")
    starts = (key.shift(1) != key - 1) | (mrr.shift(1) != mrr)
    ends = (key.shift(-1) != key + 1) | (mrr.shift(-1) != mrr)
    lf = snapshot.lazy()
    first = lf.filter(starts.fill_null(True)).select(
        pl.col("idx").cast(pl.UInt32), pl.col("month").cast(pl.Int32).alias("start"), mrr
    )
    last = lf.filter(ends.fill_null(True)).select(pl.col("month").cast(pl.Int32).alias("end"))
    first, last = pl.collect_all([first, last])
    return first.hstack(last).select(list(RUNS_SCHEMA))


def months_of_runs(
    runs: pl.DataFrame | pl.LazyFrame, first: int | None = None, last: int | None = None
) -> pl.LazyFrame:
    """``idx, month, mrr`` of every active account-month of runs, only from ``first`` to
    ``last`` when given (runs outside are skipped, the others cut)."""
    lf = runs.lazy()
    lo, hi = pl.col("start"), pl.col("end")
    if first is not None:
        lf = lf.filter(hi >= first)
        lo = pl.max_horizontal(lo, pl.lit(first, pl.Int32))
    if last is not None:
        lf = lf.filter(pl.col("start") <= last)
        hi = pl.min_horizontal(hi, pl.lit(last, pl.Int32))
    return lf.select(
        "idx", pl.int_ranges(lo, hi + 1, dtype=pl.Int32).alias("month"), "mrr"
    ).explode("month")


def expand_runs(runs: pl.DataFrame) -> pl.DataFrame:
    """The snapshot ``idx, month, mrr`` (one row per active account-month) of runs."""
    return months_of_runs(runs).collect()


def snapshot_from_subscriptions(subs: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """MRR(a, m) > 0 rows from subscriptions ``idx, start_date, end_date, mrr`` (cents)."""
    return expand_runs(runs_from_subscriptions(subs, horizon))


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


def empty_runs() -> pl.DataFrame:
    """Runs with no rows."""
    return pl.DataFrame(schema=RUNS_SCHEMA)
