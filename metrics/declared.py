"""Declared-ICP diagnostic: how the ICP the company declares performs against the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from metrics.model import Dataset, MetricsError, Segments
from metrics.retention import money, ratio, window_retention
from metrics.secondary import new_business, secondary_metrics
from metrics.settings import MetricSettings

GROUPS = ("inside", "outside")


def declared_segments(ds: Dataset, declared: Mapping[str, Sequence[str]]) -> Segments:
    """Two segments: accounts inside the declared ICP (every listed dimension matches) and out."""
    if not declared or not any(declared.values()):
        raise MetricsError("no declared ICP is set: choose its segment values in Settings")
    for dim in declared:
        ds.check_dimensions([dim])
    inside = pl.lit(True)
    for dim, values in declared.items():
        inside = inside & pl.col(dim).is_in(list(values))
    codes = ds.accounts.select(
        pl.when(inside).then(pl.lit(0, pl.UInt32)).otherwise(pl.lit(1, pl.UInt32)).alias("seg")
    ).to_series()
    labels = pl.DataFrame({"group": list(GROUPS), "seg": pl.Series([0, 1], dtype=pl.UInt32)})
    return Segments(by=("group",), codes=codes, labels=labels)


def declared_icp_diagnostic(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    declared: Mapping[str, Sequence[str]] | None = None,
) -> pl.DataFrame:
    """Rows ``inside`` / ``outside`` the declared ICP over the window.

    Columns: ``group, accounts, customers, pipeline, pipeline_share, bookings,
    bookings_share, won, lost, win_rate, avg_deal_size, days_to_close, nrr, grr,
    logo_retention``. Pipeline is the amount of new-business opportunities created
    in the window; bookings the amount won and closed in it.
    """
    m = ds.month(as_of)
    segs = declared_segments(ds, declared if declared is not None else settings.declared_icp)
    ret = window_retention(ds, m, window, segs=segs)
    sec = secondary_metrics(ds, m, window, segs=segs)
    pipe = (
        new_business(ds, segs)
        .filter(pl.col("created_month").is_between(m - window + 1, m))
        .group_by("seg")
        .agg(pl.col("amount").sum().alias("pipeline"))
    )
    pipe = segs.label_rows(
        segs.labels.select("seg")
        .join(pipe, on="seg", how="left")
        .with_columns(money(pl.col("pipeline").fill_null(0)))
    )
    out = ret.join(sec, on="group").join(pipe, on="group")
    return out.select(
        "group",
        "accounts",
        pl.col("active_accounts").alias("customers"),
        "pipeline",
        ratio(pl.col("pipeline"), pl.col("pipeline").sum()).alias("pipeline_share"),
        "bookings",
        ratio(pl.col("bookings"), pl.col("bookings").sum()).alias("bookings_share"),
        "won",
        "lost",
        "win_rate",
        "avg_deal_size",
        "days_to_close",
        "nrr",
        "grr",
        "logo_retention",
    ).sort(pl.col("group").replace_strict({g: i for i, g in enumerate(GROUPS)}))
