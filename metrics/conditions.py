"""Segments named by conditions ``{dimension: value}``, over any account dimension.

The scorecard segments by one or two dimensions; accounts lists, discovery pockets
and targets name a segment by a set of conditions instead, over the same dimensions
of the dataset (``Dataset.dimensions``: the built-in ones and the custom attributes
with few enough values).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from metrics.model import Dataset, MetricsError, Segments

Conditions = Mapping[str, str]


def check_conditions(ds: Dataset, conditions: Conditions) -> dict[str, str]:
    """The conditions in dimension order, after checking each names a value some account has.

    Raises ``MetricsError`` naming the dimensions or values to choose from.
    """
    dims = ds.dimensions
    unknown = [d for d in conditions if d not in dims]
    if unknown:
        raise MetricsError(f"unknown dimension {unknown[0]!r}; use one of {', '.join(dims)}")
    for dim, value in conditions.items():
        values = ds.accounts.get_column(dim).cast(pl.String).unique().sort()
        if value not in values:
            shown = ", ".join(values.head(20).to_list())
            more = f" (and {values.len() - 20} more)" if values.len() > 20 else ""
            raise MetricsError(f"no account has {dim} = {value!r}; values are {shown}{more}")
    return {d: conditions[d] for d in dims if d in conditions}


def conditions_expr(conditions: Conditions) -> pl.Expr:
    """True for the accounts meeting every condition (all accounts for none)."""
    expr = pl.lit(True)
    for dim, value in conditions.items():
        expr = expr & (pl.col(dim).cast(pl.String) == value)
    return expr


def conditions_label(conditions: Conditions) -> str:
    """A segment's display name, as the scorecard writes it: values joined by ' / '."""
    return " / ".join(conditions.values()) if conditions else "Company"


def condition_segments(ds: Dataset, conditions: Conditions) -> Segments:
    """One segment (number 0) of the accounts meeting ``conditions``, labelled by them."""
    conditions = check_conditions(ds, conditions)
    codes = ds.accounts.select(
        pl.when(conditions_expr(conditions)).then(pl.lit(0, pl.UInt32)).alias("seg")
    ).to_series()
    labels = pl.DataFrame(
        {**{d: [v] for d, v in conditions.items()}, "seg": [0]},
        schema={**{d: pl.String for d in conditions}, "seg": pl.UInt32},
    )
    return Segments(by=tuple(conditions), codes=codes, labels=labels)
