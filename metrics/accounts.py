"""Accounts behind a number (METRICS.md): the accounts or deals each segment number sums.

Each list names its segment by conditions ``{dimension: value}`` (none = the
company) and carries ``account_id, account_name`` and the conditions' dimensions
first; its sums equal the number it explains (tests/unit/test_accounts.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.conditions import Conditions, condition_segments
from metrics.model import Dataset, MetricsError, Segments
from metrics.months import PERIOD_MONTHS, month_label_expr, period_start
from metrics.movements import MOVEMENTS
from metrics.retention import money, mrr_at, window_pairs_lazy
from metrics.secondary import closed_between, month_end, new_business_lazy

STATUSES = ("retained", "expanded", "contracted", "churned")
DEAL_STATUSES = ("won", "lost", "open")


def account_status(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """``churned`` (end = 0), ``expanded``, ``contracted`` or ``retained`` (end = start)."""
    return (
        pl.when(end <= 0)
        .then(pl.lit("churned"))
        .when(end > start)
        .then(pl.lit("expanded"))
        .when(end < start)
        .then(pl.lit("contracted"))
        .otherwise(pl.lit("retained"))
    )


def _named(ds: Dataset, segs: Segments, rows: pl.LazyFrame, order: Sequence[str]) -> pl.DataFrame:
    """Rows holding ``idx`` with the account's id, name and segment dimensions in front.

    Account columns are gathered by index (accounts are numbered in id order).
    """
    acc = ds.accounts
    front = ["account_id", "account_name", *segs.by]
    out = rows.with_columns(pl.lit(acc.get_column(c)).gather(pl.col("idx")) for c in front)
    rest = [c for c in out.collect_schema().names() if c not in (*front, "idx", "seg")]
    return out.sort(*order).select(*front, *rest).collect()


def retention_accounts(
    ds: Dataset, conditions: Conditions, as_of: int, window: int
) -> pl.DataFrame:
    """The segment's starting cohort at ``as_of - window``, one row per account.

    Columns: ``account_id, account_name, <condition dimensions>, start_mrr
    (s_a), end_mrr (e_a, 0 when no longer active), status`` (``retained``,
    ``expanded``, ``contracted``, ``churned``). NRR = Σ end_mrr / Σ start_mrr.
    """
    return segment_retention_accounts(ds, condition_segments(ds, conditions), as_of, window)


def segment_retention_accounts(
    ds: Dataset, segs: Segments, as_of: int, window: int
) -> pl.DataFrame:
    """``retention_accounts`` of the accounts of ``segs`` (one segment, any accounts)."""
    s, e = pl.col("s"), pl.col("e")
    rows = segs.attach_lazy(window_pairs_lazy(ds, as_of - window, as_of)).select(
        "idx",
        money(s).alias("start_mrr"),
        money(e).alias("end_mrr"),
        account_status(s, e).alias("status"),
    )
    return _named(ds, segs, rows, ["idx"])


def movement_accounts(
    ds: Dataset, conditions: Conditions, month: int, movement: str | None
) -> pl.DataFrame:
    """The accounts moving MRR in ``month`` (against month - 1), optionally of one movement.

    Columns: ``account_id, account_name, <condition dimensions>, month
    (YYYY-MM), movement, previous_mrr, mrr, amount``, read from MRR(a, m-1) and
    MRR(a, m) as METRICS.md defines each movement; amounts sum to the month's
    movements (``metrics.movements.mrr_movements``).
    """
    if movement is not None and movement not in MOVEMENTS:
        raise MetricsError(f"movement must be one of {', '.join(MOVEMENTS)}, not {movement!r}")
    segs = condition_segments(ds, conditions)
    before = mrr_at(ds, month - 1).rename({"mrr": "_prev"})
    both = before.join(mrr_at(ds, month), on="idx", how="full", coalesce=True)
    prev, now = pl.col("_prev").fill_null(0), pl.col("mrr").fill_null(0)
    first = pl.lit(ds.accounts.get_column("first_month")).gather(pl.col("idx"))
    kind = (
        pl.when((prev == 0) & (now > 0))
        .then(pl.when(first == month).then(pl.lit("new")).otherwise(pl.lit("reactivation")))
        .when((prev > 0) & (now == 0))
        .then(pl.lit("churn"))
        .when(now > prev)
        .then(pl.lit("expansion"))
        .when(now < prev)
        .then(pl.lit("contraction"))
    )
    rows = (
        segs.attach_lazy(both)
        .select(
            "idx",
            month_label_expr(pl.lit(month, pl.Int32)).alias("month"),
            kind.alias("movement"),
            money(prev).alias("previous_mrr"),
            money(now).alias("mrr"),
            money((now - prev).abs()).alias("amount"),
        )
        .filter(pl.col("movement").is_not_null())
    )
    if movement is not None:
        rows = rows.filter(pl.col("movement") == movement)
    return _named(ds, segs, rows, ["idx"])


def cohort_accounts(
    ds: Dataset, conditions: Conditions, as_of: int, period: str, cohort: str, age: int
) -> pl.DataFrame:
    """The accounts of one cohort cell: first active in ``cohort`` and seen at ``age`` months.

    Columns: ``account_id, account_name, <condition dimensions>, cohort,
    first_month (YYYY-MM), start_mrr (MRR in the first month), mrr_at_age, status``.
    At age k only accounts with first month + k <= as_of count, as in the cohort
    curves: cohort NRR(k) = Σ mrr_at_age / Σ start_mrr, logo retention = share
    with mrr_at_age > 0.
    """
    start = period_start(cohort, period)
    last = start + PERIOD_MONTHS[period] - 1
    segs = condition_segments(ds, conditions)
    first, target = pl.col("first_month"), pl.col("first_month") + age
    members = (
        segs.attach_lazy(ds.accounts.lazy().select("idx", "first_month", "first_mrr"))
        .filter(first.is_between(start, last) & (target <= as_of))
        .with_columns(target.alias("_at"))
    )
    at_age = (
        ds.runs.lazy()
        .join(members.select("idx", "_at"), on="idx", how="inner")
        .filter(pl.col("_at").is_between(pl.col("start"), pl.col("end")))
        .select("idx", pl.col("mrr").alias("_mrr"))
    )
    s, k = pl.col("first_mrr"), pl.col("_mrr").fill_null(0)
    rows = members.join(at_age, on="idx", how="left").select(
        "idx",
        pl.lit(cohort.strip()).alias("cohort"),
        month_label_expr(first).alias("first_month"),
        money(s).alias("start_mrr"),
        money(k).alias("mrr_at_age"),
        account_status(s, k).alias("status"),
    )
    return _named(ds, segs, rows, ["idx"])


def deal_list(
    ds: Dataset, conditions: Conditions, as_of: int, window: int, status: str | None
) -> pl.DataFrame:
    """The segment's new-business deals behind its win rate, deal size and pipeline.

    ``won`` and ``lost``: closed in the window (as_of - window < close month <=
    as_of); ``open``: open on the as-of month's last day (created by then, not
    closed by then; its close date and days to close are left empty). ``status``
    None lists all three. Columns: ``account_id, account_name, <condition
    dimensions>, opportunity_id, status, created_date, close_date, days_to_close,
    amount``.
    """
    if status is not None and status not in DEAL_STATUSES:
        raise MetricsError(f"deals must be one of {', '.join(DEAL_STATUSES)}, not {status!r}")
    segs = condition_segments(ds, conditions)
    end = month_end(as_of)
    opps = new_business_lazy(ds, segs)
    cols = ["idx", "opportunity_id", "status", "created_date", "close_date", "days_to_close"]
    closed = opps.filter(closed_between(as_of - window + 1, as_of)).select(
        *cols, money(pl.col("amount")).alias("amount")
    )
    still_open = opps.filter(
        (pl.col("created_date") <= end)
        & (pl.col("close_date").is_null() | (pl.col("close_date") > end))
    ).select(
        "idx",
        "opportunity_id",
        pl.lit("open").alias("status"),
        "created_date",
        pl.lit(None, pl.Date).alias("close_date"),
        pl.lit(None, pl.Int64).alias("days_to_close"),
        money(pl.col("amount")).alias("amount"),
    )
    rows = pl.concat([closed, still_open], how="vertical_relaxed")
    if status is not None:
        rows = rows.filter(pl.col("status") == status)
    return _named(ds, segs, rows, ["idx", "opportunity_id"])
