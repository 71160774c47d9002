"""The raw input frames of the metrics layer: the canonical columns of DATA_FORMAT.md."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ACCOUNT_COLUMNS = (
    "account_id",
    "account_name",
    "vertical",
    "sub_industry",
    "size_band",
    "employees",
    "region",
    "use_case",
    "lead_source",
    "created_date",
)
SUBSCRIPTION_COLUMNS = ("subscription_id", "account_id", "product", "start_date", "end_date", "mrr")
MRR_MONTHLY_COLUMNS = ("account_id", "month", "mrr")
OPPORTUNITY_COLUMNS = (
    "opportunity_id",
    "account_id",
    "opportunity_type",
    "created_date",
    "close_date",
    "status",
    "amount",
    "lead_source",
)


@dataclass(frozen=True)
class Frames:
    """Canonical frames as loaded from the warehouse or an export folder.

    Dates are ``pl.Date``; money is Decimal or Float64. Either ``subscriptions`` or
    ``mrr_monthly`` carries the revenue (subscriptions win when both are non-empty).
    """

    accounts: pl.DataFrame
    opportunities: pl.DataFrame
    subscriptions: pl.DataFrame | None = None
    mrr_monthly: pl.DataFrame | None = None

    def revenue_kind(self) -> str:
        """``"subscriptions"`` or ``"mrr_monthly"``: which frame carries the MRR."""
        if self.subscriptions is not None and self.subscriptions.height > 0:
            return "subscriptions"
        if self.mrr_monthly is not None and self.mrr_monthly.height > 0:
            return "mrr_monthly"
        return "subscriptions"
