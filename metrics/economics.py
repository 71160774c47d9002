"""Unit economics per segment (METRICS.md, "Unit economics"; needs the optional spend file).

- **New customers** of a segment in the window: its accounts whose first active month
  lies in (M-W, M]. **New ARPA**: their mean MRR in that first month.
- **Spend of a segment** in a period: the spend rows that name the segment (every
  dimension it is segmented by, with its values), plus its share of the rows that do
  not name that dimension (company-level spend), allocated in proportion to new
  customers in the window. A row naming one of two dimensions (``--by vertical,region``,
  a row for one vertical) is shared among the segments of that vertical the same way.
  Dimensions a row names that the view is not segmented by are ignored.
- **CAC** = spend in the window / new customers; **LTV:CAC** = cohort CLV / CAC;
  **CAC payback** = CAC / (new ARPA x gross margin) months; **allowable CAC** = CLV /
  target LTV:CAC (no spend needed); **magic number** = (MRR(M) - MRR(M-3)) x 12 / spend
  in months (M-6, M-3].
- With filters, a segment is its accounts that pass them, and its spend is the spend of
  the whole segment times its filtered share of the segment's new customers.

Money is in currency units. A segment with no new customers has no CAC, LTV:CAC or
payback (null: "no new customers", never a division by zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.clv import segment_cohort_clv
from metrics.model import Dataset, Filters, Segments, segments
from metrics.retention import ratio
from metrics.settings import MetricSettings

ECONOMICS_KEYS = (
    "new_customers",
    "new_arpa",
    "spend",
    "cac",
    "ltv_cac",
    "payback_months",
    "allowable_cac",
    "magic_number",
)
"""The JSON keys of the economics report, after the segment's dimensions."""
EXTRA_KEYS = ("clv", "spend_direct", "spend_allocated", "spend_lagged", "mrr_change")
"""What the spend is made of and what the ratios divide (for the page and the CSV)."""


def has_spend(ds: Dataset) -> bool:
    """True when the dataset holds spend rows (unit economics can be computed)."""
    return ds.spend is not None and ds.spend.height > 0


def _new_customers(ds: Dataset, as_of: int, window: int, segs: Segments) -> pl.DataFrame:
    """``seg, <dims>, new_customers, new_arpa`` per segment (new in (M-W, M])."""
    fresh = pl.col("first_month").is_between(as_of - window + 1, as_of)
    counts = (
        segs.attach(ds.accounts.select("idx", "first_month", "first_mrr"))
        .filter(fresh)
        .group_by("seg")
        .agg(
            pl.len().cast(pl.Int64).alias("new_customers"),
            (pl.col("first_mrr").mean() / 100.0).alias("new_arpa"),
        )
    )
    return (
        segs.labels.join(counts, on="seg", how="left")
        .with_columns(pl.col("new_customers").fill_null(0))
    )


def _spend_dims(spend: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Spend rows with a text column per ``by`` dimension (null where the row names none)."""
    missing = [d for d in by if d not in spend.columns]
    return spend.with_columns(pl.lit(None, pl.String).alias(d) for d in missing)


def allocate_spend(
    spend: pl.DataFrame, by: Sequence[str], new: pl.DataFrame, lo: int, hi: int
) -> pl.DataFrame:
    """``seg, direct, allocated`` spend of months lo..hi per segment of ``new``.

    ``new`` holds ``seg, <by>, new_customers`` over every segment (no filter). A row
    naming every ``by`` dimension is direct spend of its segment; a row naming a subset
    is shared among the segments matching that subset in proportion to new customers
    (the whole company for a row naming none); what has no segment to go to is left out.
    """
    rows = _spend_dims(spend, by).filter(pl.col("month").is_between(lo, hi))
    out = new.select("seg").with_columns(
        pl.lit(0.0).alias("direct"), pl.lit(0.0).alias("allocated")
    )
    if rows.height == 0:
        return out
    named = pl.concat_str(
        [pl.col(d).is_not_null().cast(pl.Int8).cast(pl.String) for d in by] or [pl.lit("")]
    )
    groups = rows.group_by(*by).agg(pl.col("amount").sum()).with_columns(named.alias("_named"))
    parts = []
    for pattern in groups.get_column("_named").unique().to_list():
        keys = [d for d, bit in zip(by, pattern, strict=False) if bit == "1"]
        part = groups.filter(pl.col("_named") == pattern).select(*keys, "amount")
        if len(keys) == len(by) and by:
            parts.append(
                part.join(new.select("seg", *by), on=list(by), how="inner")
                .select("seg", pl.col("amount").alias("direct"), pl.lit(0.0).alias("allocated"))
            )
            continue
        matches = (
            new.select("seg", *keys, "new_customers").join(part, on=keys, how="inner")
            if keys
            else new.select("seg", "new_customers").join(part, how="cross")
        )
        total = pl.col("new_customers").sum()
        share = ratio(
            pl.col("new_customers").cast(pl.Float64),
            (total.over(keys) if keys else total).cast(pl.Float64),
        )
        parts.append(
            matches.select(
                "seg",
                pl.lit(0.0).alias("direct"),
                (pl.col("amount") * share).fill_null(0.0).alias("allocated"),
            )
        )
    summed = (
        pl.concat([out, *parts], how="vertical_relaxed")
        .group_by("seg")
        .agg(pl.col("direct").sum(), pl.col("allocated").sum())
    )
    return new.select("seg").join(summed, on="seg", how="left")


def _mrr_at(ds: Dataset, month: int, segs: Segments) -> pl.DataFrame:
    """``seg, mrr`` (currency units) of each segment's accounts in ``month``."""
    active = ds.runs.filter((pl.col("start") <= month) & (pl.col("end") >= month))
    return (
        segs.attach(active.select("idx", "mrr"))
        .group_by("seg")
        .agg((pl.col("mrr").sum() / 100.0).alias("mrr"))
    )


def segment_economics(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    window: int,
    by: Sequence[str] = ("vertical",),
    filters: Filters = None,
) -> pl.DataFrame:
    """One row per segment: ``<by>``, :data:`ECONOMICS_KEYS`, then :data:`EXTRA_KEYS`.

    ``by=()`` is the company as one row. Without spend, ``spend``, ``cac``, ``ltv_cac``,
    ``payback_months`` and ``magic_number`` are null; ``allowable_cac`` needs none.
    """
    m = ds.month(as_of)
    segs = segments(ds, by, filters)
    everyone = segments(ds, by) if filters else segs
    new = _new_customers(ds, m, window, segs)
    margins = {
        int(r["seg"]): settings.margin_for({d: r[d] for d in segs.by})
        for r in segs.labels.iter_rows(named=True)
    }
    clv = segment_cohort_clv(ds, settings, m, segs, margins, intervals=False).select("seg", "clv")
    change = (
        segs.labels.select("seg")
        .join(_mrr_at(ds, m, segs), on="seg", how="left")
        .join(_mrr_at(ds, m - 3, segs).rename({"mrr": "mrr_before"}), on="seg", how="left")
        .select("seg", (pl.col("mrr").fill_null(0.0) - pl.col("mrr_before").fill_null(0.0))
                .alias("mrr_change"))
    )
    margin = pl.DataFrame(
        {"seg": list(margins), "gross_margin": list(margins.values())},
        schema={"seg": pl.UInt32, "gross_margin": pl.Float64},
    )
    out = new.join(clv, on="seg", how="left").join(change, on="seg", how="left").join(
        margin, on="seg", how="left"
    )
    if has_spend(ds):
        spent = _spend_of(ds, m, window, segs, everyone, new)
        out = out.join(spent, on="seg", how="left")
    else:
        out = out.with_columns(
            pl.lit(None, pl.Float64).alias(c)
            for c in ("spend", "spend_direct", "spend_allocated", "spend_lagged")
        )
    new_customers = pl.col("new_customers").cast(pl.Float64)
    cac = pl.when(pl.col("new_customers") > 0).then(pl.col("spend") / new_customers)
    out = out.with_columns(cac.alias("cac")).with_columns(
        pl.when(pl.col("cac") > 0).then(pl.col("clv") / pl.col("cac")).alias("ltv_cac"),
        pl.when(pl.col("new_arpa") > 0)
        .then(pl.col("cac") / (pl.col("new_arpa") * pl.col("gross_margin")))
        .alias("payback_months"),
        (pl.col("clv") / settings.target_ltv_cac).alias("allowable_cac"),
        pl.when(pl.col("spend_lagged") > 0)
        .then(pl.col("mrr_change") * 12 / pl.col("spend_lagged"))
        .alias("magic_number"),
    )
    return segs.label_rows(out.select("seg", *ECONOMICS_KEYS, *EXTRA_KEYS))


def _spend_of(
    ds: Dataset, m: int, window: int, segs: Segments, everyone: Segments, new: pl.DataFrame
) -> pl.DataFrame:
    """``seg, spend, spend_direct, spend_allocated, spend_lagged`` of ``segs``' segments."""
    assert ds.spend is not None
    by = segs.by
    all_new = _new_customers(ds, m, window, everyone)
    window_spend = allocate_spend(ds.spend, by, all_new, m - window + 1, m)
    lagged = allocate_spend(ds.spend, by, all_new, m - 5, m - 3).select(
        "seg", (pl.col("direct") + pl.col("allocated")).alias("spend_lagged")
    )
    whole = (
        all_new.select("seg", *by, pl.col("new_customers").alias("new_all"))
        .join(window_spend, on="seg", how="left")
        .join(lagged, on="seg", how="left")
        .drop("seg")
    )
    def joined(left: pl.DataFrame) -> pl.DataFrame:
        return left.join(whole, on=list(by), how="left") if by else left.join(whole, how="cross")

    if segs is everyone:
        scaled = joined(new.select("seg", *by)).with_columns(pl.lit(1.0).alias("_share"))
    else:
        # A filtered segment carries its share of the whole segment's new customers.
        scaled = joined(new.select("seg", *by, "new_customers"))
        scaled = scaled.with_columns(
            ratio(
                pl.col("new_customers").cast(pl.Float64), pl.col("new_all").cast(pl.Float64)
            ).fill_null(0.0).alias("_share")
        )
    return scaled.select(
        "seg",
        ((pl.col("direct") + pl.col("allocated")) * pl.col("_share")).alias("spend"),
        (pl.col("direct") * pl.col("_share")).alias("spend_direct"),
        (pl.col("allocated") * pl.col("_share")).alias("spend_allocated"),
        (pl.col("spend_lagged") * pl.col("_share")).alias("spend_lagged"),
    )


def company_magic_number(ds: Dataset, as_of: int) -> float | None:
    """(MRR(M) - MRR(M-3)) x 12 / all spend in months (M-6, M-3]; None without spend."""
    if not has_spend(ds):
        return None
    assert ds.spend is not None
    lagged = ds.spend.filter(pl.col("month").is_between(as_of - 5, as_of - 3))
    spent = float(lagged.get_column("amount").sum())
    if spent <= 0:
        return None
    one = segments(ds, ())
    now = _mrr_at(ds, as_of, one).get_column("mrr").sum()
    before = _mrr_at(ds, as_of - 3, one).get_column("mrr").sum()
    return (float(now) - float(before)) * 12 / spent

