"""Window retention per segment: NRR, GRR, logo retention, ARPA and the NRR decomposition."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from metrics.model import Dataset, Filters, MetricsError, Segments, segments
from metrics.months import month_label_expr
from metrics.mrr import months_of_runs
from metrics.stats import ratio_change_z


def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den, null when den is 0 or null."""
    return pl.when(den > 0).then(num / den)


def money(col: pl.Expr) -> pl.Expr:
    """Cents to currency units."""
    return col / 100.0


def nrr(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Net revenue retention of summed cents."""
    return ratio(end.sum(), start.sum())


def grr(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Gross revenue retention: retained revenue capped at each account's start."""
    return ratio(pl.min_horizontal(start, end).sum(), start.sum())


def mrr_at(ds: Dataset, month: int) -> pl.LazyFrame:
    """``idx, mrr`` of the accounts active in ``month``, sorted by idx (read from the runs:
    an account has at most one run covering a month)."""
    return (
        ds.runs.lazy()
        .filter((pl.col("start") <= month) & (pl.col("end") >= month))
        .select("idx", "mrr")
    )


def window_pairs_lazy(ds: Dataset, start: int, end: int) -> pl.LazyFrame:
    """Starting cohort of ``start`` with ``idx, s, e`` (cents; e = 0 when not active)."""
    s = mrr_at(ds, start).rename({"mrr": "s"})
    e = mrr_at(ds, end).rename({"mrr": "e"})
    return s.join(e, on="idx", how="left", maintain_order="left").with_columns(
        pl.col("e").fill_null(0)
    )


def window_pairs(ds: Dataset, start: int, end: int) -> pl.DataFrame:
    """``window_pairs_lazy`` collected."""
    return window_pairs_lazy(ds, start, end).collect()


def _window_aggs() -> list[pl.Expr]:
    s, e = pl.col("s"), pl.col("e")
    retained = e > 0
    return [
        pl.len().cast(pl.Int64).alias("accounts"),
        retained.sum().cast(pl.Int64).alias("retained"),
        s.sum().alias("starting_mrr"),
        e.sum().alias("ending_mrr"),
        pl.min_horizontal(s, e).sum().alias("_grr_num"),
        pl.when(retained).then((e - s).clip(lower_bound=0)).otherwise(0).sum().alias("expansion"),
        pl.when(retained).then((s - e).clip(lower_bound=0)).otherwise(0).sum().alias("contraction"),
        pl.when(retained).then(0).otherwise(s).sum().alias("churned"),
    ]


def _finish(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        ratio(pl.col("ending_mrr"), pl.col("starting_mrr")).alias("nrr"),
        ratio(pl.col("_grr_num"), pl.col("starting_mrr")).alias("grr"),
        ratio(pl.col("retained"), pl.col("accounts")).alias("logo_retention"),
    ).drop("_grr_num")


def window_retention(
    ds: Dataset,
    as_of: int,
    window: int,
    by: Sequence[str] = (),
    filters: Filters = None,
    segs: Segments | None = None,
) -> pl.DataFrame:
    """NRR, GRR, logo retention, ARPA and the decomposition per segment over the window.

    One row per segment (every segment among the accounts, 0 accounts where the
    starting cohort is empty): ``accounts, retained, starting_mrr, ending_mrr,
    nrr, grr, logo_retention, expansion, contraction, churned, active_accounts,
    mrr, arpa`` (money in currency units).
    """
    m = ds.month(as_of)
    if window < 1:
        raise MetricsError("the window must be at least one month")
    segs = segs or segments(ds, by, filters)
    agg = segs.attach_lazy(window_pairs_lazy(ds, m - window, m)).group_by("seg").agg(_window_aggs())
    now = (
        segs.attach_lazy(mrr_at(ds, m))
        .group_by("seg")
        .agg(pl.len().cast(pl.Int64).alias("active_accounts"), pl.col("mrr").sum())
    )
    agg, now = pl.collect_all([agg, now])
    out = (
        segs.labels.select("seg")
        .join(agg, on="seg", how="left")
        .join(now, on="seg", how="left")
        .with_columns(
            pl.col(
                "accounts",
                "retained",
                "active_accounts",
                "starting_mrr",
                "ending_mrr",
                "_grr_num",
                "expansion",
                "contraction",
                "churned",
                "mrr",
            ).fill_null(0)
        )
    )
    out = _finish(out).with_columns(
        ratio(pl.col("mrr"), pl.col("active_accounts")).alias("arpa"),
    )
    out = out.with_columns(
        money(pl.col(c))
        for c in ("starting_mrr", "ending_mrr", "expansion", "contraction", "churned", "mrr")
    ).with_columns(money(pl.col("arpa")).alias("arpa"))
    return segs.label_rows(
        out.select(
            "seg",
            "accounts",
            "retained",
            "starting_mrr",
            "ending_mrr",
            "nrr",
            "grr",
            "logo_retention",
            "expansion",
            "contraction",
            "churned",
            "active_accounts",
            "mrr",
            "arpa",
        )
    )


def nrr_decomposition(
    ds: Dataset,
    as_of: int,
    window: int,
    by: Sequence[str] = (),
    filters: Filters = None,
) -> pl.DataFrame:
    """NRR = 1 + expansion_rate - contraction_rate - churn_rate, per segment."""
    wr = window_retention(ds, as_of, window, by, filters)
    return wr.select(
        *by,
        "starting_mrr",
        "expansion",
        "contraction",
        "churned",
        "ending_mrr",
        "nrr",
        *decomposition_rates(),
    )


def decomposition_rates() -> list[pl.Expr]:
    """``expansion_rate, contraction_rate, churn_rate``: fractions of starting MRR."""
    start = pl.col("starting_mrr")
    return [
        ratio(pl.col("expansion"), start).alias("expansion_rate"),
        ratio(pl.col("contraction"), start).alias("contraction_rate"),
        ratio(pl.col("churned"), start).alias("churn_rate"),
    ]


def trailing_nrr(
    ds: Dataset,
    as_of: int,
    window: int,
    months: int = 12,
    by: Sequence[str] = (),
    filters: Filters = None,
    segs: Segments | None = None,
) -> pl.DataFrame:
    """Trailing-window NRR, GRR and logo retention at each of the last ``months`` months."""
    m = ds.month(as_of)
    segs = segs or segments(ds, by, filters)
    first_end = m - months + 1
    starts = months_of_runs(ds.runs, first_end - window, m - window).select(
        "idx", (pl.col("month") + window).alias("month"), pl.col("mrr").alias("s")
    )
    ends = months_of_runs(ds.runs, first_end, m).select("idx", "month", pl.col("mrr").alias("e"))
    pairs = (
        starts.join(ends, on=["idx", "month"], how="left")
        .with_columns(pl.col("e").fill_null(0))
        .collect()
    )
    agg = segs.attach(pairs).group_by("seg", "month").agg(_window_aggs())
    grid = segs.labels.select("seg").join(
        pl.DataFrame({"month": pl.int_range(first_end, m + 1, eager=True).cast(pl.Int32)}),
        how="cross",
    )
    out = grid.join(agg, on=["seg", "month"], how="left").with_columns(
        pl.col("accounts", "retained", "starting_mrr", "ending_mrr", "_grr_num").fill_null(0)
    )
    out = _finish(out).sort("seg", "month")
    return segs.label_rows(
        out.select(
            "seg",
            month_label_expr(pl.col("month")).alias("month"),
            pl.col("month").alias("month_key"),
            "nrr",
            "grr",
            "logo_retention",
            "accounts",
        ),
        ["month_key"],
    )


def nrr_change_z(
    ds: Dataset, window: int, first: int, last: int, segs: Segments
) -> dict[int, float]:
    """Per segment, the z statistic of trailing NRR at ``last`` minus trailing NRR at ``first``.

    Both moments' starting cohorts, aligned by account (an account in both counts
    once, its two terms paired); see ``metrics.stats.ratio_change_z``. Segments
    where the change has no variance estimate are left out.
    """
    a = window_pairs(ds, first - window, first).rename({"s": "s0", "e": "e0"})
    b = window_pairs(ds, last - window, last).rename({"s": "s1", "e": "e1"})
    both = segs.attach(a.join(b, on="idx", how="full", coalesce=True).fill_null(0))
    out = {}
    for (seg,), part in both.partition_by("seg", as_dict=True).items():
        cols = [part.get_column(c).to_numpy().astype(np.float64) for c in ("s0", "e0", "s1", "e1")]
        z = ratio_change_z(*cols)
        if z is not None:
            out[int(seg)] = z
    return out
