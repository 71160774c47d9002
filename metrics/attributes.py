"""Custom attributes: the extra columns of the accounts file (DATA_FORMAT.md).

A text attribute with at most ``MAX_DIMENSION_VALUES`` distinct values is a segment
dimension like the built-in six; a text attribute with more, and a numeric one, is
kept with its account but not segmented by. The importer names and types them; the
dataset decides which are dimensions (``Dataset.dimensions``) from these rules.
"""

from __future__ import annotations

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
