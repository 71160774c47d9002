"""Custom attributes: the extra columns of the accounts file (DATA_FORMAT.md).

A text attribute with at most ``MAX_DIMENSION_VALUES`` distinct values is a segment
dimension like the built-in six; a text attribute with more, and a numeric one, is
kept with its account but not segmented by. A numeric attribute banded in the
settings (``attribute_bands``) adds the dimension ``<attribute>_band`` whose values
are its bands (``banded``). The importer names and types them; the dataset decides
which are dimensions (``Dataset.dimensions``) from these rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

import polars as pl

MAX_DIMENSION_VALUES = 50
UNSPECIFIED = "Unspecified"

# Names an attribute may not take: the account columns, the columns the metrics add
# beside the dimensions (a dimension shares a frame with them), the URL parameters a
# page reads beside ``<dimension>=<value>`` and the command line's options.
RESERVED = frozenset(
    {
        # accounts and the prepared dataset
        "account_id", "account_name", "vertical", "sub_industry", "size_band", "employees",
        "region", "use_case", "lead_source", "created_date", "attributes", "idx",
        "first_month", "first_mrr", "seg", "group", "segment", "segment_label", "company",
        # URL parameters and options
        "as_of", "window", "by", "and", "period", "metric", "months", "month", "cohort",
        "age", "movement", "deals", "depth", "sort", "format", "data", "next", "page",
        # metric columns the scorecard, flags and alerts put beside the dimensions
        "accounts", "nrr", "nrr_low", "nrr_high", "nrr_rest", "grr", "logo_retention",
        "arpa", "clv", "clv_low", "clv_high", "clv_simple", "clv_multiple", "win_rate",
        "won", "lost", "avg_deal_size", "days_to_close", "days_to_close_p25",
        "days_to_close_p75", "days_to_close_cv", "sales_velocity", "expansion_rate",
        "contraction_rate", "churn_rate", "prospects", "tam", "tier", "bookings",
        "bookings_share", "pipeline", "pipeline_share", "customers", "quarter", "mrr",
        "arr", "active_accounts", "type", "kind", "status", "reason", "severity",
        "evidence", "explanation", "started", "lift", "z", "p_value", "q_value", "round",
        "conditions", "pocket", "account_ids", "start_mrr", "end_mrr", "fit_score",
        "expected_value", "open_opportunity", "n",
    }
)  # fmt: skip


def dimension_attributes(accounts: pl.DataFrame, custom: tuple[str, ...]) -> tuple[str, ...]:
    """The ``custom`` attributes of ``accounts`` that are dimensions: text columns with at
    most MAX_DIMENSION_VALUES distinct values besides empty (``Unspecified``)."""
    text = [c for c in custom if accounts.schema[c] == pl.String]
    if not text:
        return ()
    counts = accounts.select(
        pl.col(c).filter(pl.col(c) != UNSPECIFIED).n_unique().alias(c) for c in text
    ).row(0, named=True)
    return tuple(c for c in text if counts[c] <= MAX_DIMENSION_VALUES)


BAND_SUFFIX = "_band"


def band_name(attribute: str) -> str:
    """The dimension of a banded numeric attribute: ``seats`` -> ``seats_band``."""
    return f"{attribute}{BAND_SUFFIX}"


def _bound_text(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:,}"


def band_labels(bounds: Sequence[float]) -> list[str]:
    """The bands' names, lowest first: bounds 10, 50 give ``< 10``, ``10–50``, ``≥ 50``.

    A band holds its lower bound, not its upper one: 10 is in ``10–50``, 50 in ``≥ 50``.
    """
    texts = [_bound_text(b) for b in bounds]
    return [f"< {texts[0]}", *(f"{lo}–{hi}" for lo, hi in pairwise(texts)), f"≥ {texts[-1]}"]


def banded(column: str, bounds: Sequence[float]) -> pl.Expr:
    """Each value of numeric ``column`` as its band (``band_labels``); empty: Unspecified."""
    value = pl.col(column)
    labels = band_labels(bounds)
    chain = pl.when(value.is_null()).then(pl.lit(UNSPECIFIED))
    for bound, label in zip(bounds, labels, strict=False):
        chain = chain.when(value < bound).then(pl.lit(label))
    return chain.otherwise(pl.lit(labels[-1]))


def parse_bounds(text: str | None) -> list[float]:
    """Bounds as typed in a field, commas, semicolons or spaces between them (empty: none);
    ValueError naming the first entry that is not a number."""
    bounds = []
    for entry in re.split(r"[,;\s]+", (text or "").strip()):
        if not entry:
            continue
        try:
            value = float(entry)
        except ValueError:
            raise ValueError(f"{entry!r} is not a number") from None
        bounds.append(value)
    return bounds


def bounds_text(bounds: Sequence[float]) -> str:
    """Bounds as typed back into a field, every digit kept: ``parse_bounds`` reads them
    again exactly (a form saved unchanged changes nothing)."""
    return ", ".join(str(int(b)) if float(b).is_integer() else repr(float(b)) for b in bounds)
