"""The prepared dataset: frames cleaned once per data version, MRR runs computed once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from metrics.attributes import (
    MAX_DIMENSION_VALUES,
    UNSPECIFIED,
    band_name,
    banded,
    dimension_attributes,
)
from metrics.errors import MetricsError
from metrics.frames import ACCOUNT_COLUMNS, Frames, size_band_of
from metrics.months import month_key, month_key_expr, month_label
from metrics.mrr import (
    cents,
    empty_runs,
    expand_runs,
    runs_from_snapshot,
    runs_from_subscriptions,
    snapshot_from_monthly,
)
from metrics.settings import MetricSettings

DIMENSIONS: tuple[str, ...] = (
    "vertical",
    "sub_industry",
    "size_band",
    "region",
    "use_case",
    "lead_source",
)
"""The built-in dimensions; a dataset's own (``Dataset.dimensions``) add its custom ones."""
# Account columns of the prepared dataset that are neither dimensions nor custom attributes.
ACCOUNT_FIELDS = ("idx", "account_id", "account_name", "employees", "first_month", "first_mrr")
Filters = Mapping[str, Sequence[str]] | None


@dataclass(frozen=True)
class Dataset:
    """Frames prepared for the metrics: account numbers, cents, month keys, MRR runs.

    ``accounts``: ``idx, account_id, account_name, <DIMENSIONS>, employees, <custom
    attributes>, first_month, first_mrr`` sorted by ``account_id`` (``idx`` is the row
    number); text attributes filled like the dimensions, numeric ones Float64.
    ``runs``: the MRR snapshot run-length encoded, ``idx, start, end, mrr`` (cents,
    > 0): one row per maximal stretch of months (``start..end`` inclusive) an
    account pays the same MRR, sorted by (idx, start). The metrics read these.
    ``snapshot``: the same expanded, ``idx, month, mrr`` sorted by (idx, month), one
    row per active account-month; computed on first use.
    ``opportunities``: ``idx, opportunity_id, opportunity_type, status, created_date,
    close_date, created_month, close_month, days_to_close, amount`` (cents).
    """

    accounts: pl.DataFrame
    runs: pl.DataFrame
    opportunities: pl.DataFrame
    first_month: int
    last_month: int
    default_as_of: int
    spend: pl.DataFrame | None = None
    """Spend rows (``metrics.economics.prepare_spend``); None without a spend file."""

    @cached_property
    def custom_attributes(self) -> tuple[str, ...]:
        """The accounts' custom attributes (extra columns of the accounts file), in order."""
        known = {*ACCOUNT_FIELDS, *DIMENSIONS}
        return tuple(c for c in self.accounts.columns if c not in known)

    @cached_property
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension a segment can be named by: the built-in six, then the custom
        text attributes with few enough values (``metrics.attributes``)."""
        return (*DIMENSIONS, *dimension_attributes(self.accounts, self.custom_attributes))

    def check_dimensions(self, by: Sequence[str]) -> tuple[str, ...]:
        """Validate a ``by`` argument: zero, one or two of this dataset's dimensions."""
        by = tuple(by)
        unknown = [d for d in by if d not in self.dimensions]
        if unknown:
            raise MetricsError(
                f"unknown segment dimension {unknown[0]!r}; use one of "
                f"{', '.join(self.dimensions)}{self._not_segmentable(unknown[0])}"
            )
        if len(by) > 2 or len(set(by)) != len(by):
            raise MetricsError("segment by one or two different dimensions")
        return by

    @cached_property
    def numeric_attributes(self) -> tuple[str, ...]:
        """The custom attributes holding numbers (bandable in the settings)."""
        return tuple(c for c in self.custom_attributes if self.accounts.schema[c] == pl.Float64)

    def _not_segmentable(self, name: str) -> str:
        if name not in self.custom_attributes:
            return ""
        if self.accounts.schema[name] != pl.String:
            bands = band_name(name)
            if bands in self.dimensions:
                return f" ({name} is a number: segment by its bands, {bands})"
            return (
                f" ({name} is a number: band it in the settings to segment by its bands, {bands})"
            )
        return (
            f" ({name} has more than {MAX_DIMENSION_VALUES} values: kept, not a dimension)"
        )

    @cached_property
    def snapshot(self) -> pl.DataFrame:
        """One row per active account-month, expanded from the runs on first use."""
        return expand_runs(self.runs)

    def month(self, key: int) -> int:
        """A resolved month key, checked against the data (metrics take these)."""
        if key > self.last_month:
            raise MetricsError(self._after_the_data(key))
        return key

    def as_of(self, value: str | int | dt.date | None) -> int:
        """Month key of an as-of argument (``None`` = the default as-of month)."""
        if value is None:
            return self.default_as_of
        return self.month(month_key(value))

    def _after_the_data(self, key: int) -> str:
        complete = month_label(self.default_as_of)
        partial = (
            f" ({month_label(self.last_month)} has data but is not complete)"
            if self.last_month > self.default_as_of
            else ""
        )
        return (
            f"as-of month {month_label(key)} is after the data: its last complete month is "
            f"{complete}{partial}"
        )


def _size_band(settings: MetricSettings) -> pl.Expr:
    derived = size_band_of(
        pl.col("employees"), settings.size_band_smb_below, settings.size_band_mid_below
    )
    return pl.coalesce(pl.col("size_band"), derived)


def _with_columns(df: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    return df.with_columns(pl.lit(None, pl.String).alias(c) for c in missing) if missing else df


def _filled(column: str) -> pl.Expr:
    """A text column trimmed, with empty values ``Unspecified``."""
    return pl.col(column).cast(pl.String).str.strip_chars().replace("", None).fill_null(UNSPECIFIED)


def prepare_accounts(accounts: pl.DataFrame, settings: MetricSettings) -> pl.DataFrame:
    """Unique accounts sorted by id, with every dimension filled (missing = Unspecified).

    Columns beyond the canonical ones are custom attributes: numeric ones are kept as
    Float64, any other as text filled like a dimension. A numeric one banded in the
    settings (``attribute_bands``) is followed by its bands, ``<attribute>_band``.
    """
    df = _with_columns(accounts, ("account_name", "size_band", "employees", *DIMENSIONS))
    df = df.with_columns(pl.col("employees").cast(pl.Int64, strict=False))
    custom = [c for c in df.columns if c not in ACCOUNT_COLUMNS]
    df = (
        df.unique("account_id", keep="last", maintain_order=False)
        .sort("account_id")
        .with_columns(_size_band(settings).alias("size_band"))
        .with_columns(_filled(d) for d in DIMENSIONS)
    )
    numeric = [c for c in custom if df.schema[c].is_numeric()]
    # A banded numeric attribute adds its bands as a text attribute (a dimension); a
    # column of the file already bearing that name keeps it.
    bands = {
        c: settings.attribute_bands[c]
        for c in numeric
        if c in settings.attribute_bands and band_name(c) not in df.columns
    }
    return df.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"),
        pl.col("account_id").cast(pl.String),
        pl.col("account_name").cast(pl.String),
        *DIMENSIONS,
        "employees",
        *(pl.col(c).cast(pl.Float64) if c in numeric else _filled(c) for c in custom),
    ).with_columns(
        banded(c, bounds).alias(band_name(c)) for c, bounds in bands.items()
    )


def _attach_idx(df: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    return df.join(accounts.select("account_id", "idx"), on="account_id", how="inner")


def _max_date(frames: Sequence[tuple[pl.DataFrame | None, str]]) -> dt.date | None:
    best: dt.date | None = None
    for df, col in frames:
        if df is None or col not in df.columns or df.height == 0:
            continue
        value = df.get_column(col).max()
        if value is not None and (best is None or value > best):
            best = value
    return best


def build_dataset(
    frames: Frames, settings: MetricSettings | None = None, today: dt.date | None = None
) -> Dataset:
    """Prepare frames for the metrics: dedupe by id, cents, month keys and the snapshot.

    The data ends at the latest start, creation or close date, or end date on or before
    ``today`` (default: the clock's): a cancellation that has happened is an event, an
    end date still in the future is not. The default as-of month is the last complete
    month by then. Identical rows uploaded twice collapse by their id.
    """
    settings = settings or MetricSettings()
    today = today or dt.date.today()
    accounts = prepare_accounts(frames.accounts, settings)
    opps = _prepare_opportunities(frames.opportunities, accounts)
    kind = frames.revenue_kind()
    opp_dates = [(opps, "created_date"), (opps, "close_date"), (frames.accounts, "created_date")]
    if kind == "subscriptions" and frames.subscriptions is not None:
        subs = frames.subscriptions.unique("subscription_id", keep="last")
        subs = _attach_idx(subs, accounts).with_columns(
            cents(pl.col("mrr"), subs.schema["mrr"]).alias("mrr")
        )
        ended = subs.filter(pl.col("end_date") <= today)
        end = _max_date([(subs, "start_date"), (ended, "end_date"), *opp_dates])
        if end is None:
            raise MetricsError("the data holds no dates: nothing to compute")
        last = month_key(end)
        default = last if end == _month_end(end) else last - 1
        runs = runs_from_subscriptions(subs, last)
    else:
        monthly = frames.mrr_monthly
        if monthly is None or monthly.height == 0:
            runs = empty_runs()
            end = _max_date(opp_dates)
            if end is None:
                raise MetricsError("the data holds no dates: nothing to compute")
            last = month_key(end)
            default = last if end == _month_end(end) else last - 1
        else:
            monthly = _attach_idx(monthly, accounts).with_columns(
                cents(pl.col("mrr"), monthly.schema["mrr"]).alias("mrr"),
                month_key_expr(pl.col("month")).alias("_m"),
            )
            monthly = monthly.unique(["account_id", "_m"], keep="last").drop("_m")
            runs = runs_from_snapshot(snapshot_from_monthly(monthly))
            data_end = monthly.get_column("month").max()
            default = month_key(data_end)
            other = _max_date(opp_dates)
            last = max(default, month_key(other)) if other is not None else default
    return assemble_dataset(accounts, opps, runs, last, default, spend=prepare_spend(frames.spend))


def prepare_spend(spend: pl.DataFrame | None) -> pl.DataFrame | None:
    """Spend rows as the metrics read them: ``month`` (key), ``amount`` (currency units,
    Float64), ``category``, ``channel`` and every dimension column; None without spend."""
    if spend is None or spend.height == 0:
        return None
    return spend.with_columns(
        month_key_expr(pl.col("month")).alias("month"),
        pl.col("amount").cast(pl.Float64),
    ).drop("line", "attributes", strict=False)


def assemble_dataset(
    accounts: pl.DataFrame,
    opportunities: pl.DataFrame,
    runs: pl.DataFrame,
    last: int,
    default_as_of: int,
    spend: pl.DataFrame | None = None,
) -> Dataset:
    """A dataset from prepared accounts and opportunities and MRR runs sorted by (idx, start)."""
    accounts = accounts.drop("first_month", "first_mrr", strict=False).with_columns(
        _firsts(runs, accounts.height)
    )
    first = runs.get_column("start").min()
    return Dataset(
        accounts=accounts,
        runs=runs,
        opportunities=opportunities,
        first_month=int(first) if first is not None else default_as_of,
        last_month=last,
        default_as_of=default_as_of,
        spend=spend,
    )


def _firsts(runs: pl.DataFrame, n: int) -> list[pl.Series]:
    """``first_month`` and ``first_mrr`` of accounts 0..n-1 (null without an active month).

    An account's first row in the (idx, start)-sorted runs starts its first active
    month: a binary search per account finds it without a pass over the runs.
    """
    ids = pl.int_range(n, dtype=pl.UInt32, eager=True)
    if runs.height == 0:
        return [
            pl.repeat(None, n, dtype=runs.schema[c], eager=True).alias(name)
            for c, name in (("start", "first_month"), ("mrr", "first_mrr"))
        ]
    col = runs.get_column("idx").cast(pl.UInt32)
    # numpy's search exploits the sorted needles (twice as fast as Series.search_sorted here).
    pos = pl.Series(np.searchsorted(col.to_numpy(), ids.to_numpy(), side="left"), dtype=pl.UInt32)
    row = pos.clip(upper_bound=runs.height - 1)
    found = (pos < runs.height) & (col.gather(row) == ids)
    return [
        pl.select(pl.when(found).then(runs.get_column(c).gather(row))).to_series().alias(name)
        for c, name in (("start", "first_month"), ("mrr", "first_mrr"))
    ]


def _month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _prepare_opportunities(opps: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    df = _with_columns(opps, ("opportunity_type", "close_date"))
    df = df.unique("opportunity_id", keep="last")
    df = _attach_idx(df, accounts)
    return df.select(
        "idx",
        pl.col("opportunity_id").cast(pl.String),
        pl.col("opportunity_type").fill_null("new_business"),
        pl.col("status").cast(pl.String).str.to_lowercase(),
        pl.col("created_date").cast(pl.Date),
        pl.col("close_date").cast(pl.Date),
        month_key_expr(pl.col("created_date")).alias("created_month"),
        month_key_expr(pl.col("close_date")).alias("close_month"),
        (pl.col("close_date") - pl.col("created_date")).dt.total_days().alias("days_to_close"),
        cents(pl.col("amount"), df.schema["amount"]).alias("amount"),
    )


@dataclass(frozen=True)
class Segments:
    """Segment number per account (null = filtered out) and each segment's labels."""

    by: tuple[str, ...]
    codes: pl.Series
    labels: pl.DataFrame

    def attach(self, df: pl.DataFrame, idx: str = "idx") -> pl.DataFrame:
        """Add the ``seg`` column to rows holding an account number, dropping filtered ones."""
        out = df.with_columns(self.codes.gather(df.get_column(idx)).alias("seg"))
        return out.filter(pl.col("seg").is_not_null()) if self.codes.null_count() else out

    def attach_lazy(self, lf: pl.LazyFrame, idx: str = "idx") -> pl.LazyFrame:
        """``attach`` inside a lazy query (the gather runs after the query's filters)."""
        out = lf.with_columns(pl.lit(self.codes).gather(pl.col(idx)).alias("seg"))
        return out.filter(pl.col("seg").is_not_null()) if self.codes.null_count() else out

    def label_rows(self, df: pl.DataFrame, order: Sequence[str] = ()) -> pl.DataFrame:
        """Replace ``seg`` by the dimension columns; rows sorted by segment, then ``order``."""
        out = self.labels.join(df, on="seg", how="inner").sort("seg", *order).drop("seg")
        cols = list(self.by) + [c for c in out.columns if c not in self.by]
        return out.select(cols)


def account_mask(ds: Dataset, filters: Filters) -> pl.Expr:
    """Expression keeping accounts whose dimensions match every filter."""
    expr = pl.lit(True)
    for dim, values in (filters or {}).items():
        ds.check_dimensions([dim])
        expr = expr & pl.col(dim).is_in(list(values))
    return expr


def segments(ds: Dataset, by: Sequence[str], filters: Filters = None) -> Segments:
    """Number the segments of ``by`` (after ``filters``); ``by=()`` is one segment."""
    by = ds.check_dimensions(by)
    keep = account_mask(ds, filters)
    used = dict.fromkeys((*by, *(filters or {})))
    acc = ds.accounts.select("idx", *used).with_columns(keep.alias("_keep"))
    if by:
        labels = acc.filter("_keep").select(by).unique().sort(by)
        labels = labels.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("seg"))
        codes = (
            acc.join(labels, on=list(by), how="left", maintain_order="left")
            .select(pl.when(pl.col("_keep")).then(pl.col("seg")))
            .to_series()
        )
    else:
        labels = pl.DataFrame({"seg": pl.Series([0], dtype=pl.UInt32)})
        codes = acc.select(pl.when(pl.col("_keep")).then(pl.lit(0, pl.UInt32))).to_series()
    return Segments(by=by, codes=codes.rename("seg"), labels=labels)


def segment_label(row: Mapping[str, object], by: Sequence[str]) -> str:
    """A segment's display name: its values joined by ' / ' ('Company' for none)."""
    return " / ".join(str(row[d]) for d in by) if by else "Company"
