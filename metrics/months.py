"""Integer month keys (year*12 + month - 1) and their labels."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import polars as pl

from metrics.errors import MetricsError

_LABEL = re.compile(r"^(\d{4})-(\d{1,2})$")


def month_key_expr(date: pl.Expr) -> pl.Expr:
    """Month key of a date expression."""
    return (date.dt.year().cast(pl.Int32) * 12 + date.dt.month().cast(pl.Int32) - 1).cast(pl.Int32)


def month_key(value: str | int | dt.date) -> int:
    """Month key of ``"YYYY-MM"``, a date, or a key (returned as is)."""
    if isinstance(value, bool):
        raise MetricsError(f"not a month: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.date):
        return value.year * 12 + value.month - 1
    m = _LABEL.match(value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise MetricsError(f"not a month (expected YYYY-MM): {value!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(key: int) -> str:
    """``"YYYY-MM"`` of a month key."""
    return f"{key // 12:04d}-{key % 12 + 1:02d}"


def month_label_expr(key: pl.Expr) -> pl.Expr:
    """``"YYYY-MM"`` of a month-key expression."""
    return pl.format(
        "{}-{}",
        (key // 12).cast(pl.String).str.zfill(4),
        (key % 12 + 1).cast(pl.String).str.zfill(2),
    )


def quarter_label(qkey: int) -> str:
    """``"YYYYQn"`` of a quarter key."""
    return f"{qkey // 4:04d}Q{qkey % 4 + 1}"


def period_label_expr(start: pl.Expr, period: str) -> pl.Expr:
    """Label of a cohort period from its first month key: 2024-03, 2024Q1 or 2024."""
    if period == "month":
        return month_label_expr(start)
    year = (start // 12).cast(pl.String).str.zfill(4)
    if period == "quarter":
        return pl.format("{}Q{}", year, ((start % 12) // 3 + 1).cast(pl.String))
    if period == "year":
        return year
    raise ValueError(f"period must be month, quarter or year, not {period!r}")


_PERIOD_LABELS = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_start(label: str, period: str) -> int:
    """First month key of a cohort period from its label (2024-03, 2024Q1 or 2024)."""
    if period not in _PERIOD_LABELS:
        raise MetricsError(f"period must be month, quarter or year, not {period!r}")
    m = _PERIOD_LABELS[period].match(label.strip())
    if not m or (period == "month" and not 1 <= int(m.group(2)) <= 12):
        examples = {"month": "2024-03", "quarter": "2024Q1", "year": "2024"}
        raise MetricsError(f"not a {period} cohort (like {examples[period]}): {label!r}")
    year = int(m.group(1)) * 12
    return year if period == "year" else year + (int(m.group(2)) - 1) * PERIOD_MONTHS[period]


def label_period(label: str) -> str:
    """The cohort period a label is written in: 2024-03 month, 2024Q1 quarter, 2024 year."""
    for period, pattern in _PERIOD_LABELS.items():
        if pattern.match(label.strip()):
            return period
    raise MetricsError(f"not a cohort label (like 2024-03, 2024Q1 or 2024): {label!r}")


def period_start_expr(month: pl.Expr, period: str) -> pl.Expr:
    """First month key of the period (month, quarter, year) holding ``month``."""
    if period == "month":
        return month
    if period == "quarter":
        return month - month % 3
    if period == "year":
        return month - month % 12
    raise ValueError(f"period must be month, quarter or year, not {period!r}")


def last_complete_quarter_end(as_of: int) -> int:
    """Month key of the last month of the last calendar quarter complete at ``as_of``."""
    return as_of if as_of % 3 == 2 else as_of - as_of % 3 - 1


@lru_cache(maxsize=8)
def _month_starts(first_year: int, last_year: int) -> pl.Series:
    epoch = dt.date(1970, 1, 1)
    return pl.Series(
        [
            (dt.date(y, m, 1) - epoch).days
            for y in range(first_year, last_year + 1)
            for m in range(1, 13)
        ],
        dtype=pl.Int32,
    )


DAY_TABLE_LIMIT = 200_000  # days (about 550 years)


@lru_cache(maxsize=8)
def _day_table(lo: int, hi: int) -> pl.Series:
    """Month key of every day number from ``lo`` to ``hi``."""
    days = pl.int_range(lo, hi + 1, dtype=pl.Int32, eager=True).cast(pl.Date)
    return pl.select(
        days.dt.year().cast(pl.Int32) * 12 + days.dt.month().cast(pl.Int32) - 1
    ).to_series()


def month_keys_of_days(days: pl.Series) -> pl.Series:
    """Month keys of day numbers (days since 1970-01-01); nulls stay null.

    Dates of a usual span are looked up in a table of each day's month key (a gather
    from a few thousand cache-resident entries); a span of more than
    ``DAY_TABLE_LIMIT`` days (an outlier date such as 9999-12-31) uses a binary
    search in the table of month starts instead. Both are several times faster than
    extracting year and month from millions of dates.
    """
    lo, hi = days.min(), days.max()
    if lo is None:
        return pl.Series(days.name, [None] * days.len(), dtype=pl.Int32)
    if hi - lo < DAY_TABLE_LIMIT:
        return _day_table(int(lo), int(hi)).gather((days - lo).cast(pl.UInt32)).alias(days.name)
    first_year = (dt.date(1970, 1, 1) + dt.timedelta(days=int(lo))).year
    last_year = (dt.date(1970, 1, 1) + dt.timedelta(days=int(hi))).year
    starts = _month_starts(first_year, last_year)
    keys = starts.search_sorted(days, side="right").cast(pl.Int32) + (first_year * 12 - 1)
    return pl.select(pl.when(days.is_not_null()).then(keys)).to_series().alias(days.name)
