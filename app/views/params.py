"""What a view is asked for, resolved once at the edge (URL or command line).

``ViewParams`` holds resolved values only: the as-of month as a month key, the
window as a number of months, the dimensions and the segment's conditions, and
what a list of the accounts behind a number picks (a movement of the as-of month,
a cohort cell, deal statuses). Defaults come from the settings and the data here, in :func:`resolve`, and
nowhere else: views and metrics take the values as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from app.views import query
from app.views.errors import ViewError
from app.views.query import DEPTHS
from metrics.accounts import DEAL_STATUSES
from metrics.months import label_period, month_label
from metrics.movements import MOVEMENTS

if TYPE_CHECKING:
    from app.views.context import Context

Conditions = tuple[tuple[str, tuple[str, ...]], ...]
# Conditions per discovery candidate when none is asked for (METRICS.md: 1 or 2, 3 settable).
DEFAULT_DEPTH = 2


@dataclass(frozen=True)
class ViewParams:
    """The resolved parameters of a view.

    ``filters`` are the conditions ``dimension in values`` that select the
    accounts (a segment); ``by`` the dimensions the rows are grouped by. The last
    four pick the list of accounts behind a number (``app.views.accounts``): the
    accounts of one ``movement`` in the as-of month, of the ``cohort`` cell at
    ``age`` months, or the deals of the given ``deals`` statuses.
    """

    as_of: int
    window: int
    by: tuple[str, ...] = ("vertical",)
    filters: Conditions = ()
    period: str = "quarter"
    movement: str | None = None
    cohort: str | None = None
    age: int | None = None
    deals: tuple[str, ...] = ()
    depth: int = DEFAULT_DEPTH

    @property
    def as_of_label(self) -> str:
        """The as-of month as ``YYYY-MM``."""
        return month_label(self.as_of)

    def filters_map(self) -> dict[str, list[str]] | None:
        """The conditions as the metrics layer takes them (None when there are none)."""
        return {d: list(v) for d, v in self.filters} or None

    def segment(self) -> dict[str, str]:
        """The conditions of a one-value-per-dimension segment: ``{dimension: value}``."""
        return {d: v[0] for d, v in self.filters if len(v) == 1}

    def key(self, used: Sequence[str]) -> dict[str, Any]:
        """The cache key of a view that reads only the fields ``used``."""
        return {f: getattr(self, f) for f in used}

    def with_(self, **changes: Any) -> ViewParams:
        """A copy with some fields changed (filters given as a mapping are normalised)."""
        if "filters" in changes:
            changes["filters"] = conditions(changes["filters"])
        if "by" in changes:
            changes["by"] = tuple(changes["by"])
        return replace(self, **changes)

    def describe(self, used: Sequence[str] | None = None) -> str:
        """One line naming the parameters ``used`` (default all): as-of, window, by, filters."""
        used = FIELDS if used is None else used
        parts = [f"as of {self.as_of_label}"]
        if "window" in used:
            parts.append(f"window {self.window} months")
        if "period" in used:
            parts.append(f"cohorts by {self.period}")
        if "by" in used and self.by:
            parts.append("by " + ", ".join(self.by))
        if "filters" in used:
            parts += [f"{d} = {', '.join(v)}" for d, v in self.filters]
        if "movement" in used and self.movement:
            parts.append(f"movement {self.movement}")
        if "cohort" in used and self.cohort:
            parts.append(f"cohort {self.cohort} at age {self.age} months")
        if "deals" in used and self.deals:
            parts.append("deals " + ", ".join(self.deals))
        if "depth" in used:
            parts.append(f"up to {self.depth} conditions a pocket")
        return "; ".join(parts)

    def to_store(self) -> dict[str, Any]:
        """The params as JSON for a page's ``dcc.Store`` (read back by :meth:`from_store`)."""
        return {
            "as_of": self.as_of,
            "window": self.window,
            "by": list(self.by),
            "filters": [[d, list(v)] for d, v in self.filters],
            "period": self.period,
            "movement": self.movement,
            "cohort": self.cohort,
            "age": self.age,
            "deals": list(self.deals),
            "depth": self.depth,
        }

    @classmethod
    def from_store(cls, data: Mapping[str, Any]) -> ViewParams:
        """The params a page stored with :meth:`to_store`."""
        return cls(
            as_of=int(data["as_of"]),
            window=int(data["window"]),
            by=tuple(data["by"]),
            filters=tuple((d, tuple(v)) for d, v in data["filters"]),
            period=str(data["period"]),
            movement=data.get("movement"),
            cohort=data.get("cohort"),
            age=data.get("age"),
            deals=tuple(data.get("deals") or ()),
            depth=int(data.get("depth", DEFAULT_DEPTH)),
        )

    def slug(self, used: Sequence[str] | None = None) -> str:
        """The parameters ``used`` (default all) in a file name:
        ``2026-11-w12-vertical-healthcare``."""
        used = FIELDS if used is None else used
        words = [self.as_of_label]
        words += [f"w{self.window}"] if "window" in used else []
        words += [*self.by] if "by" in used else []
        words += [v for _d, values in self.filters for v in values] if "filters" in used else []
        words += [f"depth{self.depth}"] if "depth" in used else []
        words += [w for w in (self.movement, self.cohort) if w]
        words += [f"age{self.age}"] if self.age is not None else []
        words += list(self.deals)
        text = "-".join(words).lower()
        return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


FIELDS = tuple(f.name for f in fields(ViewParams))


def conditions(filters: Mapping[str, Sequence[str]] | Conditions | None) -> Conditions:
    """Canonical conditions: in a fixed order, values sorted (``resolve`` checks the
    dimensions against the data)."""
    items = dict(filters or {})
    return tuple((d, tuple(sorted(str(x) for x in items[d]))) for d in sorted(items))


def resolve(
    ctx: Context,
    *,
    as_of: str | None = None,
    window: int | None = None,
    by: Sequence[str] = ("vertical",),
    filters: Mapping[str, Sequence[str]] | None = None,
    period: str | None = None,
    movement: str | None = None,
    cohort: str | None = None,
    age: int | None = None,
    deals: Sequence[str] = (),
    depth: int | None = None,
) -> ViewParams:
    """Apply the defaults of the settings and the data: the one place they are decided.

    A cohort's period is the one its label is written in (2024Q1: quarter).
    """
    ds = ctx.dataset
    if ds is None:
        raise ViewError(
            "the warehouse holds no data yet: load the demo (`icp demo`) or import your "
            "exports (`icp import FILE...`)"
        )
    if cohort is not None:
        period = label_period(cohort)
    filters = conditions(filters)
    for d, _values in filters:
        ds.check_dimensions([d])
    return ViewParams(
        as_of=ds.as_of(as_of),
        window=window if window is not None else ctx.settings.window_months,
        by=ds.check_dimensions(by),
        filters=filters,
        period=period or ctx.settings.cohort_period,
        **picked(movement, cohort, age, deals),
        depth=check_depth(DEFAULT_DEPTH if depth is None else depth),
    )


def check_depth(depth: int) -> int:
    """A discovery depth: 1 to 3 conditions a candidate."""
    if depth not in DEPTHS:
        raise ViewError(f"depth {depth} is not one of {', '.join(map(str, DEPTHS))}")
    return depth


def picked(
    movement: str | None, cohort: str | None, age: int | None, deals: Sequence[str]
) -> dict[str, Any]:
    """The list of accounts a URL or command picks, checked: at most one list, known names."""
    if movement is not None and movement not in MOVEMENTS:
        raise ViewError(f"movement {movement!r}; use one of {', '.join(MOVEMENTS)}")
    unknown = [d for d in deals if d not in DEAL_STATUSES]
    if unknown:
        raise ViewError(f"deals {unknown[0]!r}; use {', '.join(DEAL_STATUSES)} (comma-separated)")
    if (cohort is None) != (age is None):
        raise ViewError("a cohort cell needs both a cohort (like 2024Q1) and an age in months")
    if age is not None and age < 0:
        raise ViewError(f"age {age} is not a number of months")
    if sum(x is not None and x != () for x in (movement, cohort, tuple(deals))) > 1:
        raise ViewError("pick one list: a movement, a cohort cell or deals")
    # Statuses in their canonical order, each once: the memo key and the file name agree.
    return {
        "movement": movement,
        "cohort": cohort.strip() if cohort else None,
        "age": age,
        "deals": tuple(d for d in DEAL_STATUSES if d in deals),
    }


def from_query(
    ctx: Context,
    params: Mapping[str, str],
    *,
    by: Sequence[str] | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> ViewParams:
    """The params a URL query names; ``by`` / ``filters`` override what the page reads itself."""
    return resolve(
        ctx,
        as_of=query.as_of(params),
        window=query.window(params),
        by=query.dimensions(params, ctx.dimensions) if by is None else by,
        filters=query.segment_filters(params, ctx.dimensions) if filters is None else filters,
        period=query.period(params),
        **query.accounts_pick(params),
        depth=query.depth(params),
    )


def from_cli(
    ctx: Context,
    *,
    as_of: str | None = None,
    window: int | None = None,
    by: str = "vertical",
    segment: str | None = None,
    period: str | None = None,
    depth: int | None = None,
    where: Mapping[str, str] | None = None,
    **pick: Any,
) -> ViewParams:
    """The params of ``icp report`` arguments (``--by a,b`` or ``--by company``; ``--segment``
    a value of ``--by``; ``where``: a segment named by one value per dimension, ``--vertical
    X``).

    ``pick`` names a list of accounts: ``movement``, ``cohort`` and ``age``, or ``deals``.
    """
    # ``--by company``: the whole company as one row (no dimension).
    dims = () if by.strip() == "company" else tuple(d.strip() for d in by.split(",") if d.strip())
    filters = {}
    for dimension, value in (where or {}).items():
        ctx.check_value(dimension, value)
        filters[dimension] = [value]
    if segment is not None:
        if len(dims) != 1:
            raise ViewError("--segment needs exactly one dimension in --by")
        ctx.check_value(dims[0], segment)
        filters[dims[0]] = [segment]
    return resolve(
        ctx, as_of=as_of, window=window, by=dims, filters=filters, period=period,
        depth=depth, **pick
    )
