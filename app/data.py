"""What the pages read: the metrics layer over the warehouse, memoized per data version.

The UI never computes a metric (STYLE.md). This module loads the warehouse frames
through ``db.queries``, builds the metrics dataset once per data version and
process, calls the metrics functions and caches their results (``app.cache``)
keyed by the data version and the view's parameters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl
import sqlalchemy as sa

from app.cache import current_version, memoized
from db.engine import get_engine
from db.queries import load_frames, load_settings
from db.schema import accounts as accounts_table
from metrics.cohorts import cohort_curves
from metrics.declared import declared_icp_diagnostic
from metrics.drift import drift_alerts
from metrics.icp import accidental_icp_flags
from metrics.model import Dataset, MetricsError, account_mask, build_dataset, check_dimensions
from metrics.months import month_label
from metrics.movements import mrr_movements
from metrics.scorecard import company_summary, segment_scorecard
from metrics.secondary import secondary_by_quarter
from metrics.settings import MetricSettings

# MetricsError is re-exported: pages catch it as data.MetricsError.
__all__ = [
    "Context",
    "MetricsError",
    "engine",
    "context",
    "cached_view",
    "months_available",
    "default_as_of",
    "dimension_values",
    "scorecard",
    "company",
    "flags",
    "alerts",
    "open_alert_count",
    "cohorts",
    "movements",
    "quarterly_secondary",
    "declared",
]

Filters = Mapping[str, Sequence[str]] | None
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """The warehouse at one data version: its settings and, when it holds data, the dataset."""

    version: int
    settings: MetricSettings
    dataset: Dataset | None

    @property
    def empty(self) -> bool:
        """True when the warehouse holds no account yet."""
        return self.dataset is None


_lock = threading.Lock()
_current: Context | None = None


def engine() -> sa.Engine:
    """The warehouse engine of this process."""
    return get_engine()


def _build(version: int) -> Context:
    eng = engine()
    settings = load_settings(eng)
    with eng.connect() as conn:
        has_accounts = conn.scalar(sa.select(sa.exists(sa.select(accounts_table.c.account_id))))
    if not has_accounts:
        return Context(version, settings, None)
    return Context(version, settings, build_dataset(load_frames(eng), settings))


def context() -> Context:
    """The dataset and settings of the current data version (built once per process)."""
    global _current
    version = current_version(engine())
    ctx = _current
    if ctx is not None and ctx.version == version:
        return ctx
    with _lock:
        if _current is None or _current.version != version:
            _current = _build(version)
        return _current


def _filters_key(filters: Filters) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in sorted((filters or {}).items())}


def _view(name: str, params: dict[str, Any], compute) -> Any:
    ctx = context()
    return memoized(name, ctx.version, params, lambda: compute(ctx), engine())


def cached_view(name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
    """Memoize a page's derived result (e.g. a figure as a dict) for this data version."""
    return memoized(name, context().version, params, compute, engine())


def months_available() -> list[str]:
    """As-of months the data supports, newest first (``YYYY-MM``)."""
    ds = context().dataset
    if ds is None:
        return []
    first = ds.first_month + 1
    return [month_label(k) for k in range(ds.default_as_of, first - 1, -1)]


def default_as_of() -> str | None:
    """The default as-of month: the last complete month in the data."""
    ds = context().dataset
    return month_label(ds.default_as_of) if ds is not None else None


def dimension_values(dimension: str, filters: Filters = None) -> list[str]:
    """The values of a segment dimension among the accounts kept by ``filters``."""
    check_dimensions([dimension])
    ds = context().dataset
    if ds is None:
        return []
    acc = ds.accounts.filter(account_mask(ds.accounts, filters))
    return sorted(acc.get_column(dimension).unique().to_list())


def scorecard(
    by: Sequence[str], as_of: str | None, window: int | None, filters: Filters = None
) -> pl.DataFrame:
    """Segment scorecard rows (metrics.scorecard.segment_scorecard) for this view."""
    params = {"by": list(by), "as_of": as_of, "window": window, "filters": _filters_key(filters)}
    return _view(
        "scorecard",
        params,
        lambda ctx: segment_scorecard(
            ctx.dataset, ctx.settings, as_of=as_of, window=window, by=tuple(by), filters=filters
        ),
    )


def company(as_of: str | None, window: int | None) -> dict[str, Any]:
    """Company headline numbers (metrics.scorecard.company_summary)."""
    return _view(
        "company",
        {"as_of": as_of, "window": window},
        lambda ctx: company_summary(ctx.dataset, ctx.settings, as_of=as_of, window=window),
    )


def flags(as_of: str | None, window: int | None, by: Sequence[str]) -> list[dict[str, Any]]:
    """Accidental ICP flags of the segments of ``by``, most severe first."""
    def compute(ctx: Context) -> list[dict[str, Any]]:
        board = scorecard(by, as_of, window)
        return accidental_icp_flags(board, company(as_of, window), ctx.settings, tuple(by))

    return _view("flags", {"as_of": as_of, "window": window, "by": list(by)}, compute)


def alerts(as_of: str | None, window: int | None, by: Sequence[str]) -> list[dict[str, Any]]:
    """ICP drift alerts of the segments of ``by``."""
    def compute(ctx: Context) -> list[dict[str, Any]]:
        board = scorecard(by, as_of, window)
        return drift_alerts(
            ctx.dataset, ctx.settings, as_of=as_of, window=window, by=tuple(by), scorecard=board
        )

    return _view("alerts", {"as_of": as_of, "window": window, "by": list(by)}, compute)


def open_alert_count() -> int:
    """Drift alerts at the default view (by vertical, latest month): the navigation badge."""
    if context().empty:
        return 0
    return len(alerts(None, None, ("vertical",)))


def cohorts(as_of: str | None, period: str, filters: Filters = None) -> pl.DataFrame:
    """Cohort curves (metrics.cohorts.cohort_curves) of the accounts kept by ``filters``."""
    return _view(
        "cohorts",
        {"as_of": as_of, "period": period, "filters": _filters_key(filters)},
        lambda ctx: cohort_curves(ctx.dataset, as_of=as_of, period=period, filters=filters),
    )


def movements(as_of: str | None, filters: Filters = None) -> pl.DataFrame:
    """MRR movements by month (metrics.movements.mrr_movements)."""
    return _view(
        "movements",
        {"as_of": as_of, "filters": _filters_key(filters)},
        lambda ctx: mrr_movements(ctx.dataset, as_of=as_of, filters=filters),
    )


def quarterly_secondary(as_of: str | None, filters: Filters = None) -> pl.DataFrame:
    """Win rate, deal size and days to close by quarter (last eight quarters)."""
    return _view(
        "secondary_by_quarter",
        {"as_of": as_of, "filters": _filters_key(filters)},
        lambda ctx: secondary_by_quarter(ctx.dataset, as_of=as_of, filters=filters),
    )


def declared(as_of: str | None, window: int | None) -> pl.DataFrame:
    """The declared-ICP diagnostic: inside against outside the declared ICP."""
    return _view(
        "declared",
        {"as_of": as_of, "window": window},
        lambda ctx: declared_icp_diagnostic(ctx.dataset, ctx.settings, as_of=as_of, window=window),
    )

