"""The data a view reads: settings and dataset of one data version, built once.

The warehouse's context is rebuilt when its data version changes (every import,
rollback and settings change bumps it) and shared by every view of the process;
``icp report --data DIR`` builds one from a folder of export files instead.
Results are memoized per data version in :mod:`app.views.memo`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from app.views import memo
from app.views.errors import ViewError
from metrics.model import DIMENSIONS, Dataset, account_mask, build_dataset
from metrics.months import month_label
from metrics.settings import MetricSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """The settings and dataset of one data version (``dataset`` None: no data yet)."""

    version: str
    settings: MetricSettings
    dataset: Dataset | None
    demo: bool = False
    """True while the data is the demo company (pages show a ribbon, tables a line)."""
    history: pl.DataFrame | None = None
    """What the scorecard said at each data version up to this one (``db.history``); None
    when there is no record to read (a folder of files, frames in memory)."""
    data_version: int | None = None
    """The warehouse's data version this context was built from (None for files or frames)."""

    @property
    def empty(self) -> bool:
        """True when there is no account to compute anything from."""
        return self.dataset is None

    def memo(self, name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """The memoized result of ``compute()`` for this view, parameters and data version."""
        return memo.memoized(name, self.version, params, compute)

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions a segment can be named by (the built-in ones before any data)."""
        return DIMENSIONS if self.dataset is None else self.dataset.dimensions

    def months_available(self) -> list[str]:
        """As-of months the data supports, newest first (``YYYY-MM``): from the default down
        to the month after the first month with revenue, and always the default itself
        (data whose revenue starts in its last, partial month still has one to show)."""
        ds = self.dataset
        if ds is None:
            return []
        last = min(ds.first_month + 1, ds.default_as_of)
        return [month_label(k) for k in range(ds.default_as_of, last - 1, -1)]

    def dimension_values(
        self, dimension: str, filters: Mapping[str, Sequence[str]] | None = None
    ) -> list[str]:
        """The values of a segment dimension among the accounts kept by ``filters``."""
        ds = self.dataset
        if ds is None:
            return []
        ds.check_dimensions([dimension])
        acc = ds.accounts.filter(account_mask(ds, filters))
        return sorted(acc.get_column(dimension).unique().to_list())

    def check_value(self, dimension: str, value: str) -> None:
        """A segment value no account has is a typo: the error names the values there are."""
        values = self.dimension_values(dimension)
        if value not in values:
            raise ViewError(
                f"no account has {dimension} {value!r}; the values are: {', '.join(values)}"
            )


def _warehouse_version(engine: Any) -> int:
    from db.queries import read_data_version

    return read_data_version(engine)


_read_version: Callable[[Any], int] = _warehouse_version
_lock = threading.Lock()
_current: Context | None = None


def install_version_reader(reader: Callable[[Any], int]) -> None:
    """Read the data version with ``reader`` (the web app reads it once per request)."""
    global _read_version
    _read_version = reader


def _warehouse_tag(engine: Any, version: int) -> str:
    """The version tag views are memoized under: the data version and which warehouse
    (a process that reads two warehouses, such as the test suite, must not mix them)."""
    where = engine.url.render_as_string(hide_password=True)
    return f"v{version}@{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def _build_warehouse(engine: Any, version: int) -> Context:
    # Imported here: a report on a folder of files (--data) never loads the warehouse code.
    from db.history import load_tier_history
    from db.importer import holds_demo
    from db.queries import has_accounts, load_frames, load_settings

    settings = load_settings(engine)
    tag = _warehouse_tag(engine, version)
    if not has_accounts(engine):
        return Context(tag, settings, None, data_version=version)
    dataset = build_dataset(load_frames(engine), settings)
    # Up to this version: a later one may commit while this context is built. This
    # version's own record is written just after its commit; views compare the as-of
    # month with earlier months only, so of it they read only the months a demo load
    # backfills, written by the same command.
    history = load_tier_history(engine, through=version)
    return Context(
        tag, settings, dataset, demo=holds_demo(engine), history=history, data_version=version
    )


def current_tag(engine: Any | None = None) -> str:
    """The tag the views of the warehouse's current data version are memoized under
    (``Context.version``), read without building the context."""
    engine = engine if engine is not None else warehouse_engine()
    return _warehouse_tag(engine, _read_version(engine))


def warehouse_context(engine: Any | None = None) -> Context:
    """The warehouse's context at its current data version (built once per process)."""
    global _current
    if engine is None:
        engine = warehouse_engine()
    version = _read_version(engine)
    tag = _warehouse_tag(engine, version)
    ctx = _current
    if ctx is not None and ctx.version == tag:
        return ctx
    with _lock:
        if _current is None or _current.version != tag:
            _current = _build_warehouse(engine, version)
        return _current


def reread_history(engine: Any) -> None:
    """Read the tier history again into this process's context of ``engine``'s warehouse:
    the recorder calls it once it has added its version's record, which the context,
    built before, does not hold."""
    global _current
    from db.history import load_tier_history

    with _lock:
        ctx = _current
        if ctx is None or ctx.data_version is None:
            return
        if ctx.version != _warehouse_tag(engine, ctx.data_version):
            return
        _current = replace(ctx, history=load_tier_history(engine, through=ctx.data_version))


def folder_context(path: Path) -> Context:
    """A context from a folder of export files, validated like an upload."""
    from db.importer import ImportRefused
    from db.queries import read_export_folder

    settings = MetricSettings()
    try:
        frames = read_export_folder(path, settings)
    except ImportRefused as exc:
        # The exception's text is the full report of every problem.
        raise ViewError(f"{path} is not a valid export folder\n{exc}") from None
    stamp = max((p.stat().st_mtime_ns for p in Path(path).iterdir()), default=0)
    return Context(f"folder:{Path(path).resolve()}:{stamp}", settings, build_dataset(frames, settings))


def frame_context(frames: Any, settings: MetricSettings | None = None, version: str = "") -> Context:
    """A context over frames already in memory (tests, benchmarks)."""
    settings = settings or MetricSettings()
    tag = version or f"frames:{id(frames)}"
    return Context(tag, settings, build_dataset(frames, settings))



def warehouse_engine() -> Any:
    """The warehouse engine of this process (commands and the import history take it)."""
    from db.engine import get_engine

    return get_engine()
