"""What a view returns: a polars frame, what each column means, and the params it used.

Every renderer (Dash pages, ``icp report`` table / CSV / JSON, CSV downloads and the
JSON API) reads a :class:`View`; how a value is shown follows its column's kind, so
no renderer decides a format of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl

from app.views.params import ViewParams

# ratio: a fraction (1.07 = 107%); money: account currency; multiple: 3.5×; factor: a
# multiple near 1 (lift 1.15×); probability: a p- or q-value; days / months: durations;
# count: whole numbers; number: any other number; tier: an ICP tier key shown by its
# label; boolean: yes / no; conditions: a segment's {dimension: value} (the frame holds
# a list of {dimension, value} structs); points: a difference of ratios (+6 pts); text:
# as it is.
Kind = Literal[
    "ratio", "money", "multiple", "factor", "probability", "days", "months", "count", "number",
    "points", "tier", "boolean", "conditions", "text",
]
NUMERIC_KINDS = frozenset(
    {
        "ratio", "money", "multiple", "factor", "probability", "days", "months", "count",
        "number", "points",
    }
)


@dataclass(frozen=True)
class Column:
    """One column of a view: its key in the frame and JSON, label, kind and definition."""

    key: str
    label: str
    kind: Kind
    definition: str = ""

    @property
    def numeric(self) -> bool:
        """True when the column holds numbers (right-aligned, raw in CSV and JSON)."""
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class View:
    """The result of one view function.

    ``frame`` holds one row per line of the view, its columns described by
    ``columns`` in display order. Views whose rows carry nested evidence (flags,
    alerts) also keep the records as they are in ``items``: JSON renders those.
    ``heading`` formats a record's one-line summary for text output; ``uses`` names
    the parameters the view reads (what its outputs say they used); ``brief`` the
    columns a text table shows (default all) and ``sort`` the column it sorts by
    (best first). ``note`` says in one line what total the rows add up to (the
    lists of accounts behind a number: "NRR 84% = $412K / $490K over 37 accounts").
    """

    name: str
    params: ViewParams
    frame: pl.DataFrame
    columns: tuple[Column, ...]
    items: tuple[Mapping[str, Any], ...] | None = None
    heading: str = ""
    uses: tuple[str, ...] = ()
    brief: tuple[str, ...] = ()
    sort: str | None = None
    note: str = ""

    @property
    def keys(self) -> list[str]:
        """The column keys in display order."""
        return [c.key for c in self.columns]

    def describe(self) -> str:
        """One line naming the parameters the view used."""
        return self.params.describe(self.uses or None)

    def column(self, key: str) -> Column:
        """The column named ``key``."""
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def rows(self) -> list[dict[str, Any]]:
        """The frame's rows restricted to the columns, undefined numbers (NaN, inf) as None."""
        keys = self.keys
        nested = {c.key for c in self.columns if c.kind == "conditions"}
        return [
            {k: clean(as_conditions(r[k]) if k in nested else r[k]) for k in keys}
            for r in self.frame.select(keys).iter_rows(named=True)
        ]

    def with_sort(self, key: str) -> View:
        """The view whose text table sorts by ``key``."""
        return replace(self, sort=key)

    def sorted_by(self, key: str) -> View:
        """The view with its rows sorted by ``key``: numbers largest first, text A to Z,
        undefined values last."""
        col = self.column(key)
        order = pl.col(key)
        if self.frame.schema[key].is_float():
            order = order.fill_nan(None)
        frame = self.frame.sort(order, descending=col.numeric, nulls_last=True, maintain_order=True)
        return replace(self, frame=frame)

    def records(self) -> list[Any]:
        """What JSON holds: the nested items when the view has them, else the rows."""
        if self.items is not None:
            return [clean(dict(i)) for i in self.items]
        return self.rows()


def as_conditions(value: list[dict[str, str]] | None) -> dict[str, str] | None:
    """A conditions cell (a list of ``{dimension, value}``) as ``{dimension: value}``."""
    return None if value is None else {c["dimension"]: c["value"] for c in value}


def clean(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value
