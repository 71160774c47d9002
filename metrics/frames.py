"""The raw input frames of the metrics layer: the canonical columns of DATA_FORMAT.md."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MONEY = pl.Decimal(14, 2)
# The canonical columns of each kind of file, in warehouse order, with the polars type
# of the frames the warehouse and an export folder give (DATA_FORMAT.md). The
# importer's output, the warehouse queries and the test builders derive from this;
# a test pins db/schema.py to it.
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "accounts": {
        "account_id": pl.String,
        "account_name": pl.String,
        "vertical": pl.String,
        "sub_industry": pl.String,
        "size_band": pl.String,
        "employees": pl.Int64,
        "region": pl.String,
        "use_case": pl.String,
        "lead_source": pl.String,
        "created_date": pl.Date,
        # The custom attributes as a JSON object: the warehouse expands them into a column
        # each (db.queries), an export folder gives them as columns (ImportPlan.frames).
        "attributes": pl.String,
    },
    "subscriptions": {
        "subscription_id": pl.String,
        "account_id": pl.String,
        "product": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "mrr": MONEY,
    },
    "mrr_monthly": {"account_id": pl.String, "month": pl.Date, "mrr": MONEY},
    "opportunities": {
        "opportunity_id": pl.String,
        "account_id": pl.String,
        "opportunity_type": pl.String,
        "created_date": pl.Date,
        "close_date": pl.Date,
        "status": pl.String,
        "amount": MONEY,
        "lead_source": pl.String,
    },
    # Sales and marketing spend (optional). A row naming a dimension's value is spend on
    # that segment, one naming none is company-level. ``line`` is the row's number in
    # its file: spend rows have no id, and a file replaces the spend of its months.
    "spend": {
        "month": pl.Date,
        "line": pl.Int64,
        "amount": MONEY,
        "category": pl.String,
        "channel": pl.String,
        "vertical": pl.String,
        "sub_industry": pl.String,
        "size_band": pl.String,
        "region": pl.String,
        "use_case": pl.String,
        "lead_source": pl.String,
        "attributes": pl.String,
    },
}
SPEND_CATEGORIES = ("sales", "marketing")
COLUMNS: dict[str, tuple[str, ...]] = {kind: tuple(cols) for kind, cols in SCHEMAS.items()}
ACCOUNT_COLUMNS = COLUMNS["accounts"]
SUBSCRIPTION_COLUMNS = COLUMNS["subscriptions"]
MRR_MONTHLY_COLUMNS = COLUMNS["mrr_monthly"]
OPPORTUNITY_COLUMNS = COLUMNS["opportunities"]
SPEND_COLUMNS = COLUMNS["spend"]

SIZE_BANDS = ("SMB", "Mid-Market", "Enterprise")


def size_band_of(employees: pl.Expr, smb_below: int, mid_below: int) -> pl.Expr:
    """The size band of an employee count (DATA_FORMAT.md: < 200 SMB, < 2000 Mid-Market,
    else Enterprise; bounds from the settings); null stays null."""
    smb, mid, enterprise = SIZE_BANDS
    return (
        pl.when(employees.is_null())
        .then(None)
        .when(employees < smb_below)
        .then(pl.lit(smb))
        .when(employees < mid_below)
        .then(pl.lit(mid))
        .otherwise(pl.lit(enterprise))
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
    spend: pl.DataFrame | None = None
    """Sales and marketing spend (optional; ``SCHEMAS["spend"]``): unit economics need it."""

    def revenue_kind(self) -> str:
        """``"subscriptions"`` or ``"mrr_monthly"``: which frame carries the MRR."""
        if self.subscriptions is not None and self.subscriptions.height > 0:
            return "subscriptions"
        if self.mrr_monthly is not None and self.mrr_monthly.height > 0:
            return "mrr_monthly"
        return "subscriptions"
