"""MRR movements per month: new, reactivation, expansion, contraction, churn."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.model import Dataset, Filters, Segments, segments
from metrics.months import month_label_expr
from metrics.retention import money, ratio

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")
# Row key idx * KEY_SPAN + month: month keys (year * 12 + month - 1) stay below 2**17
# through the year 9999, so the key tells the account and the month apart.
KEY_SPAN = 1 << 17


def account_movements(snapshot: pl.DataFrame) -> pl.LazyFrame:
    """Per account-month row of a snapshot with ``seg``: the movement amounts it causes (cents).

    The snapshot is sorted by (idx, month) once, so plain shifts give each row its
    account's previous and next active months (PERF_NOTES). One combined key
    ``idx * KEY_SPAN + month`` answers both "same account?" and "adjacent month?"
    with a single shift each way. ``churn_next`` is the churn this row's MRR causes
    in the following month when the account is not active then.
    """
    key, mrr = pl.col("_key"), pl.col("mrr")
    contiguous, same_prev, continues, delta = (
        pl.col("_contiguous"), pl.col("_same_prev"), pl.col("_continues"), pl.col("_delta")
    )
    zero = pl.lit(0, pl.Int64)
    return (
        snapshot.lazy()
        .with_columns((pl.col("idx").cast(pl.Int64) * KEY_SPAN + pl.col("month")).alias("_key"))
        .with_columns(
            (key.shift(1, fill_value=-2) == key - 1).alias("_contiguous"),
            (key.shift(1, fill_value=-KEY_SPAN) // KEY_SPAN == key // KEY_SPAN).alias("_same_prev"),
            (key.shift(-1, fill_value=-2) == key + 1).alias("_continues"),
            (mrr - mrr.shift(1, fill_value=0)).alias("_delta"),
        )
        .select(
            "seg",
            "idx",
            "month",
            "mrr",
            pl.when(same_prev).then(zero).otherwise(mrr).alias("new"),
            pl.when(same_prev & ~contiguous).then(mrr).otherwise(zero).alias("reactivation"),
            pl.when(contiguous).then(delta.clip(lower_bound=0)).otherwise(zero).alias("expansion"),
            pl.when(contiguous).then((-delta).clip(lower_bound=0)).otherwise(zero).alias("contraction"),
            pl.when(continues).then(zero).otherwise(mrr).alias("churn_next"),
        )
    )


def mrr_movements(
    ds: Dataset,
    as_of: str | int | None = None,
    by: Sequence[str] = (),
    filters: Filters = None,
    start: str | int | None = None,
    segs: Segments | None = None,
) -> pl.DataFrame:
    """Monthly MRR movements per segment from ``start`` (default: first data month) to ``as_of``.

    Columns: ``<by>, month, month_key, starting_mrr, new, reactivation, expansion,
    contraction, churn, ending_mrr, quick_ratio``. Ending = starting + new +
    reactivation + expansion - contraction - churn holds exactly (summed in cents).
    """
    m = ds.as_of(as_of)
    segs = segs or segments(ds, by, filters)
    first = ds.first_month if start is None else min(ds.as_of(start), m)
    snap = ds.snapshot
    if segs.by or segs.codes.null_count():
        # A segment holds whole accounts, so filtering before the shifts keeps them exact.
        snap = segs.attach(snap)
    else:
        snap = snap.with_columns(pl.lit(0, pl.UInt32).alias("seg"))
    rows = account_movements(snap)
    # Churn of month m is booked on the row of m-1: aggregate from the month before.
    rows = rows.filter(pl.col("month").is_between(first - 1, m))
    # One integer key (segment, month) groups faster than two columns.
    agg = (
        rows.group_by((pl.col("seg").cast(pl.Int64) * 65536 + pl.col("month")).alias("key"))
        .agg(
            pl.col("mrr").sum().alias("ending_mrr"),
            *(pl.col(c).sum() for c in ("new", "reactivation", "expansion", "contraction")),
            pl.col("churn_next").sum(),
        )
        .with_columns(
            (pl.col("key") // 65536).cast(pl.UInt32).alias("seg"),
            (pl.col("key") % 65536).cast(pl.Int32).alias("month"),
        )
        .drop("key")
        .collect()
    )
    grid = segs.labels.select("seg").join(
        pl.DataFrame({"month": pl.int_range(first - 1, m + 1, eager=True).cast(pl.Int32)}),
        how="cross",
    )
    cols = ("ending_mrr", "new", "reactivation", "expansion", "contraction", "churn_next")
    out = (
        grid.join(agg, on=["seg", "month"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in cols)
        .sort("seg", "month")
        .with_columns(
            pl.col("ending_mrr").shift(1).over("seg").alias("starting_mrr"),
            pl.col("churn_next").shift(1).over("seg").alias("churn"),
        )
        .filter(pl.col("month") >= first)
    )
    gained = pl.col("new") + pl.col("reactivation") + pl.col("expansion")
    lost = pl.col("contraction") + pl.col("churn")
    out = out.select(
        "seg",
        month_label_expr(pl.col("month")).alias("month"),
        pl.col("month").alias("month_key"),
        *(money(pl.col(c)) for c in ("starting_mrr", *MOVEMENTS, "ending_mrr")),
        ratio(gained, lost).alias("quick_ratio"),
    )
    return segs.label_rows(out, ["month_key"])
