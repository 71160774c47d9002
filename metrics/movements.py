"""MRR movements per month: new, reactivation, expansion, contraction, churn."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.model import Dataset, Filters, Segments, segments
from metrics.months import month_label_expr
from metrics.mrr import KEY_SPAN
from metrics.retention import money, ratio

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")


def run_movements(runs: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Per MRR run (with ``seg``): the movements it causes, in cents.

    A run starts with one movement in month ``start``: ``new`` (the account's first
    run), ``reactivation`` (after a gap), or ``expansion`` / ``contraction`` (the
    change from the run just before it). It ends with ``churn`` (its MRR) in month
    ``churn_month`` = end + 1 unless the next run follows at once. Runs are sorted
    by (idx, start), so plain shifts give each run its account's neighbours
    (PERF_NOTES); the key ``idx * KEY_SPAN + month`` answers "same account?" and
    "adjacent month?" in one comparison.
    """
    idx = pl.col("idx").cast(pl.Int64) * KEY_SPAN
    first, last, mrr = idx + pl.col("start"), idx + pl.col("end"), pl.col("mrr")
    same_prev = pl.col("idx").shift(1) == pl.col("idx")
    contiguous = last.shift(1) == first - 1
    continues = first.shift(-1) == last + 1
    delta = mrr - mrr.shift(1)
    zero = pl.lit(0, pl.Int64)
    return runs.lazy().select(
        "seg",
        "idx",
        pl.col("start").alias("month"),
        pl.when(same_prev).then(zero).otherwise(mrr).alias("new"),
        pl.when(same_prev & ~contiguous).then(mrr).otherwise(zero).alias("reactivation"),
        pl.when(contiguous).then(delta.clip(lower_bound=0)).otherwise(zero).alias("expansion"),
        pl.when(contiguous).then((-delta).clip(lower_bound=0)).otherwise(zero).alias("contraction"),
        (pl.col("end") + 1).alias("churn_month"),
        pl.when(continues).then(zero).otherwise(mrr).alias("churn"),
    )


def mrr_movements(
    ds: Dataset,
    as_of: int,
    by: Sequence[str] = (),
    filters: Filters = None,
    start: int | None = None,
    segs: Segments | None = None,
) -> pl.DataFrame:
    """Monthly MRR movements per segment from ``start`` (default: first data month) to ``as_of``.

    Columns: ``<by>, month, month_key, starting_mrr, new, reactivation, expansion,
    contraction, churn, ending_mrr, quick_ratio``. Movements are summed from the
    runs; ending MRR is the running sum of the net movements since the first data
    month (MRR changes only by them), so ending = starting + new + reactivation +
    expansion - contraction - churn holds exactly (in cents) by construction, and
    the unit tests check it against a sum over the snapshot.
    """
    m = ds.month(as_of)
    segs = segs or segments(ds, by, filters)
    first = ds.first_month if start is None else min(ds.month(start), m)
    origin = min(first, ds.first_month) - 1
    # A segment holds whole accounts, so dropping filtered ones keeps each account's runs.
    rows = run_movements(segs.attach(ds.runs))
    # One integer key (segment, month) groups and joins faster than two columns.
    seg = pl.col("seg").cast(pl.Int64) * KEY_SPAN
    gains = (
        rows.filter(pl.col("month") <= m)
        .group_by((seg + pl.col("month")).alias("key"))
        .agg(pl.col("new", "reactivation", "expansion", "contraction").sum())
    )
    losses = (
        rows.filter((pl.col("churn") > 0) & (pl.col("churn_month") <= m))
        .group_by((seg + pl.col("churn_month")).alias("key"))
        .agg(pl.col("churn").sum())
    )
    gains, losses = pl.collect_all([gains, losses])
    grid = (
        segs.labels.select("seg")
        .join(
            pl.DataFrame({"month": pl.int_range(origin, m + 1, eager=True).cast(pl.Int32)}),
            how="cross",
        )
        .with_columns((seg + pl.col("month")).alias("key"))
    )
    cols = ("new", "reactivation", "expansion", "contraction", "churn")
    net = pl.col("new") + pl.col("reactivation") + pl.col("expansion") - pl.col("contraction")
    out = (
        grid.join(gains, on="key", how="left")
        .join(losses, on="key", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in cols)
        .sort("key")
        .with_columns((net - pl.col("churn")).cum_sum().over("seg").alias("ending_mrr"))
        .with_columns(pl.col("ending_mrr").shift(1).over("seg").alias("starting_mrr"))
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
