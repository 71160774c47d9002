"""Cohort curves: NRR, GRR and logo retention by cohort and age in months."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.model import Dataset, Filters, MetricsError, Segments, segments
from metrics.months import period_label_expr, period_start_expr
from metrics.retention import ratio

PERIODS = ("month", "quarter", "year")


def account_runs(ds: Dataset, as_of: int, segs: Segments) -> pl.DataFrame:
    """MRR runs up to ``as_of`` of the accounts in ``segs``, in ages since each account's
    first month: ``idx, seg, mrr, first_month, s, a0, a1``, sorted by (idx, a0).

    ``s`` is the account's MRR in its first active month; ``a0`` and ``a1`` are the
    ages (months since the first month) of the run's first and last month, the last
    cut at ``as_of``. Per-account columns are gathered by index (PERF_NOTES).
    """
    acc = ds.accounts
    i = pl.col("idx")
    lf = ds.runs.lazy()
    if as_of < ds.last_month:
        lf = lf.filter(pl.col("start") <= as_of)
    lf = segs.attach_lazy(lf)
    first = pl.col("first_month")
    return (
        lf.with_columns(
            pl.lit(acc.get_column("first_month")).gather(i).alias("first_month"),
            pl.lit(acc.get_column("first_mrr")).gather(i).alias("s"),
        )
        .select(
            "idx",
            "seg",
            "mrr",
            "first_month",
            "s",
            (pl.col("start") - first).alias("a0"),
            (pl.min_horizontal("end", pl.lit(as_of, pl.Int32)) - first).alias("a1"),
        )
        .collect()
    )


def cohort_members(ds: Dataset, as_of: int, segs: Segments) -> pl.DataFrame:
    """Accounts first active by ``as_of``: ``seg, idx, first_month, s``."""
    acc = segs.attach(ds.accounts.select("idx", "first_month", "first_mrr"))
    return acc.filter(pl.col("first_month") <= as_of).rename({"first_mrr": "s"})


def cohort_table(
    runs: pl.DataFrame | pl.LazyFrame,
    members: pl.DataFrame,
    as_of: int,
    period: str | None,
    keys: Sequence[str],
) -> pl.DataFrame:
    """Curves per ``keys + cohort_start + age``: accounts, nrr, grr, logo_retention.

    ``runs`` are ``account_runs`` (``idx, mrr, first_month, s, a0, a1``) of the
    accounts to count; ``members`` (``idx, first_month, s`` and the ``keys``) say
    which cohort each belongs to. ``keys`` group the accounts; ``period=None`` pools
    every first month into one cohort (cohort_start 0). At age k a cohort counts only
    its accounts with first month + k <= as_of.
    """
    keys = list(keys)
    start = (
        pl.lit(0, pl.Int32) if period is None else period_start_expr(pl.col("first_month"), period)
    ).alias("cohort_start")
    mem = members.with_columns(start)
    cohorts = (
        mem.select(*keys, "cohort_start").unique().sort(*keys, "cohort_start").with_row_index("cid")
    )
    mem = mem.join(cohorts, on=[*keys, "cohort_start"], how="left")
    size = int(mem.get_column("idx").max() or 0) + 1
    cid_of = pl.repeat(None, size, dtype=pl.UInt32, eager=True).scatter(
        mem.get_column("idx"), mem.get_column("cid")
    )
    # A run adds its MRR, its MRR capped at s and one active account from age a0
    # through a1: +values at a0, -values after a1 (also when a1 is cut at as_of: older
    # accounts of the cohort reach later ages), then running sums over ages. One
    # integer key (cohort, age) groups far faster than two columns.
    cid = pl.lit(cid_of).gather(pl.col("idx")).cast(pl.Int64) * 4096
    g = pl.min_horizontal("mrr", "s")
    lf = runs.lazy().filter(pl.col("idx") < size)
    starts = lf.select(
        (cid + pl.col("a0")).alias("key"),
        pl.col("mrr").alias("_e"),
        g.alias("_g"),
        pl.lit(1, pl.Int64).alias("_active"),
    )
    stops = lf.select(
        (cid + pl.col("a1") + 1).alias("key"),
        (-pl.col("mrr")).alias("_e"),
        (-g).alias("_g"),
        pl.lit(-1, pl.Int64).alias("_active"),
    )
    num = (
        pl.concat([starts, stops])
        .drop_nulls("key")
        .group_by("key")
        .agg(pl.col("_e", "_g", "_active").sum())
        .select(
            (pl.col("key") // 4096).cast(pl.UInt32).alias("cid"),
            (pl.col("key") % 4096).cast(pl.Int32).alias("age"),
            "_e",
            "_g",
            "_active",
        )
        .collect()
    )
    # Ages reached by each first month, summed per cohort: the denominators.
    den = (
        mem.group_by("cid", "first_month")
        .agg(pl.len().alias("_n"), pl.col("s").sum().alias("_s"))
        .with_columns(
            pl.int_ranges(0, as_of - pl.col("first_month") + 1, dtype=pl.Int32).alias("age")
        )
        .explode("age")
        .group_by("cid", "age")
        .agg(pl.col("_n").sum().alias("accounts"), pl.col("_s").sum().alias("_s"))
    )
    out = (
        den.join(num, on=["cid", "age"], how="left")
        .with_columns(pl.col("_e", "_g", "_active").fill_null(0))
        .sort("cid", "age")
        .with_columns(pl.col("_e", "_g", "_active").cum_sum().over("cid"))
        .join(cohorts, on="cid", how="left")
    )
    return out.select(
        *keys,
        "cohort_start",
        "age",
        pl.col("accounts").cast(pl.Int64),
        ratio(pl.col("_e"), pl.col("_s")).alias("nrr"),
        ratio(pl.col("_g"), pl.col("_s")).alias("grr"),
        ratio(pl.col("_active"), pl.col("accounts")).alias("logo_retention"),
    ).sort(*keys, "cohort_start", "age")


def cohort_curves(
    ds: Dataset,
    as_of: int,
    period: str,
    by: Sequence[str] = (),
    filters: Filters = None,
) -> pl.DataFrame:
    """Cohort NRR, GRR and logo retention per (segment,) cohort and age in months.

    Columns: ``<by>, cohort, cohort_start, age, accounts, nrr, grr, logo_retention``.
    """
    if period not in PERIODS:
        raise MetricsError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    m = ds.month(as_of)
    segs = segments(ds, by, filters)
    table = cohort_table(account_runs(ds, m, segs), cohort_members(ds, m, segs), m, period, ["seg"])
    table = table.with_columns(
        period_label_expr(pl.col("cohort_start"), period).alias("cohort")
    ).select("seg", "cohort", "cohort_start", "age", "accounts", "nrr", "grr", "logo_retention")
    return segs.label_rows(table, ["cohort_start", "age"])


def complete_ages(frame: pl.DataFrame, by: Sequence[str] = ("cohort",)) -> pl.DataFrame:
    """The rows of a cohort table at ages every account of its cohort has reached.

    A cohort's later ages count only its earliest accounts (METRICS.md: at age k, the
    accounts with ``f_a + k <= M``), so one or two accounts can drag a curve to 0% or
    200% at its tip. Charts show the full-cohort triangle: the rows whose ``accounts``
    equal the cohort's size (its count at age 0, the largest).
    """
    if frame.height == 0:
        return frame
    return frame.filter(pl.col("accounts") == pl.col("accounts").max().over(list(by)))
