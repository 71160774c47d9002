"""Segment scorecard and company summary: every metric of a segment in one row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from metrics.clv import segment_cohort_clv, simple_clv
from metrics.icp import RATED, tier_expr
from metrics.model import Dataset, Filters, Segments, segments
from metrics.months import month_label
from metrics.movements import mrr_movements
from metrics.retention import decomposition_rates, ratio, window_pairs, window_retention
from metrics.secondary import secondary_metrics
from metrics.settings import MetricSettings
from metrics.stats import ratio_interval, segment_rng

REPORT_KEYS = (
    "accounts",
    "nrr",
    "grr",
    "logo_retention",
    "arpa",
    "clv",
    "clv_low",
    "clv_high",
    "clv_simple",
    "win_rate",
    "avg_deal_size",
    "days_to_close",
    "sales_velocity",
    "prospects",
    "tam",
    "tier",
)


def _with_seg(df: pl.DataFrame, segs: Segments) -> pl.DataFrame:
    """Back from labelled rows to segment numbers (labels are unique per segment)."""
    if not segs.by:
        return df.with_columns(pl.lit(0, pl.UInt32).alias("seg"))
    return df.join(segs.labels, on=list(segs.by), how="left").drop(list(segs.by))


def _nrr_intervals(
    ds: Dataset, settings: MetricSettings, as_of: int, window: int, segs: Segments
) -> pl.DataFrame:
    """``seg, nrr_low, nrr_high``: each keyed by the segment's starting accounts only."""
    pairs = segs.attach(window_pairs(ds, as_of - window, as_of)).sort("seg", "idx")
    rows = []
    for (seg,), part in pairs.group_by("seg", maintain_order=True):
        s = part.get_column("s").to_numpy().astype(np.float64)
        e = part.get_column("e").to_numpy().astype(np.float64)
        rng = segment_rng(settings.bootstrap_seed, "nrr", part.get_column("idx").to_numpy())
        low, high = ratio_interval(e, s, settings.bootstrap_samples, rng, settings.confidence)
        rows.append((int(seg), low, high))
    return pl.DataFrame(
        rows,
        schema={"seg": pl.UInt32, "nrr_low": pl.Float64, "nrr_high": pl.Float64},
        orient="row",
    )


def _new_logos(ds: Dataset, as_of: int, window: int, segs: Segments) -> pl.DataFrame:
    return (
        segs.attach(ds.accounts.select("idx", "first_month"))
        .filter(pl.col("first_month").is_between(as_of - window + 1, as_of))
        .group_by("seg")
        .agg(pl.len().cast(pl.Int64).alias("new_logos"))
    )


def segment_scorecard(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    by: Sequence[str] = ("vertical",),
    filters: Filters = None,
    intervals: bool = True,
) -> pl.DataFrame:
    """One row per segment: the report keys (``REPORT_KEYS``) and the extras of the API doc.

    ``intervals=False`` skips the bootstrap (``nrr_low/high`` and ``clv_low/high``
    are then null).
    """
    m = ds.month(as_of)
    segs = segments(ds, by, filters)
    labels = segs.labels
    margins = {
        int(r["seg"]): settings.margin_for({d: r[d] for d in segs.by})
        for r in labels.iter_rows(named=True)
    }
    ret = _with_seg(window_retention(ds, m, window, segs=segs), segs)
    sec = _with_seg(secondary_metrics(ds, m, window, segs=segs), segs)
    clv = segment_cohort_clv(ds, settings, m, segs, margins, intervals)
    if intervals and settings.bootstrap_samples > 0:
        boot = _nrr_intervals(ds, settings, m, window, segs)
    else:
        boot = pl.DataFrame(
            schema={"seg": pl.UInt32, "nrr_low": pl.Float64, "nrr_high": pl.Float64}
        )
    margin = pl.DataFrame(
        {"seg": list(margins), "gross_margin": list(margins.values())},
        schema={"seg": pl.UInt32, "gross_margin": pl.Float64},
    )
    out = (
        labels.select("seg")
        .join(ret, on="seg", how="left")
        .join(sec, on="seg", how="left")
        .join(clv, on="seg", how="left")
        .join(boot, on="seg", how="left")
        .join(margin, on="seg", how="left")
        .join(_new_logos(ds, m, window, segs), on="seg", how="left")
        .with_columns(pl.col("new_logos").fill_null(0))
    )
    churn, lifetime, clv_simple = simple_clv(
        pl.col("arpa"),
        pl.col("logo_retention"),
        window,
        pl.col("gross_margin"),
        settings.clv_horizon_months,
    )
    out = out.with_columns(
        churn.alias("monthly_churn"),
        lifetime.alias("lifetime_months"),
        clv_simple.alias("clv_simple"),
        tier_expr(settings).alias("tier"),
        ratio(pl.col("bookings"), pl.col("bookings").sum()).alias("bookings_share"),
        ratio(pl.col("new_logos"), pl.col("new_logos").sum()).alias("new_logo_share"),
        ratio(pl.col("accounts"), pl.col("accounts").sum()).alias("base_share"),
    )
    rated = pl.col("tier").is_in(list(RATED)) & (pl.col("clv") > 0)
    out = out.with_columns(
        (pl.col("clv") / pl.col("clv").filter(rated).min()).alias("clv_multiple"),
        *decomposition_rates(),
    )
    extras = [c for c in out.columns if c not in (*REPORT_KEYS, "seg")]
    return segs.label_rows(out.select("seg", *REPORT_KEYS, *extras))


def company_summary(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    intervals: bool = True,
) -> dict[str, Any]:
    """The company as one segment, plus MRR, ARR and quick ratios (window and month)."""
    m = ds.month(as_of)
    row = segment_scorecard(ds, settings, m, window, by=(), intervals=intervals).row(0, named=True)
    mov = mrr_movements(ds, m, start=max(m - window + 1, ds.first_month))
    sums = mov.select(pl.col("new", "reactivation", "expansion", "contraction", "churn").sum())
    gained = sums["new"][0] + sums["reactivation"][0] + sums["expansion"][0]
    lost = sums["contraction"][0] + sums["churn"][0]
    last = mov.filter(pl.col("month_key") == m)
    return {
        "as_of": month_label(m),
        "window": window,
        **row,
        "arr": row["mrr"] * 12 if row["mrr"] is not None else None,
        "quick_ratio": gained / lost if lost > 0 else None,
        "quick_ratio_month": last["quick_ratio"][0] if last.height else None,
    }
