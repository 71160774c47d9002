"""Every column a view can show: its kind, label and definition, written once.

Labels and definitions of metrics come from :mod:`app.views.definitions` (worded
from METRICS.md); dimensions are labelled as in the URL and the controls.
"""

from __future__ import annotations

from app.views.definitions import DEFINITIONS
from app.views.query import dimension_label
from app.views.view import Column, Kind

KINDS: dict[str, Kind] = {
    # window retention, CLV, secondary metrics, market size
    "accounts": "count",
    "nrr": "ratio",
    "nrr_low": "ratio",
    "nrr_high": "ratio",
    "grr": "ratio",
    "logo_retention": "ratio",
    "arpa": "money",
    "clv": "money",
    "clv_low": "money",
    "clv_high": "money",
    "clv_simple": "money",
    "clv_multiple": "multiple",
    "win_rate": "ratio",
    "won": "count",
    "lost": "count",
    "avg_deal_size": "money",
    "days_to_close": "days",
    "days_to_close_p25": "days",
    "days_to_close_p75": "days",
    "days_to_close_cv": "number",
    "sales_velocity": "money",
    "expansion_rate": "ratio",
    "contraction_rate": "ratio",
    "churn_rate": "ratio",
    "prospects": "count",
    "tam": "money",
    "tier": "tier",
    "bookings": "money",
    "bookings_share": "ratio",
    "pipeline": "money",
    "pipeline_share": "ratio",
    "customers": "count",
    "group": "text",
    "quarter": "text",
    # company summary
    "mrr": "money",
    "arr": "money",
    "active_accounts": "count",
    "quick_ratio": "multiple",
    "quick_ratio_month": "multiple",
    "as_of": "text",
    "window": "months",
    # cohorts and movements
    "cohort": "text",
    "age": "count",
    "month": "text",
    "starting_mrr": "money",
    "new": "money",
    "reactivation": "money",
    "expansion": "money",
    "contraction": "money",
    "churn": "money",
    "ending_mrr": "money",
    # the accounts and deals behind a number
    "account_id": "text",
    "account_name": "text",
    "start_mrr": "money",
    "end_mrr": "money",
    "previous_mrr": "money",
    "movement": "text",
    "amount": "money",
    "first_month": "text",
    "mrr_at_age": "money",
    "opportunity_id": "text",
    "created_date": "text",
    "close_date": "text",
    # flags and alerts
    "type": "text",
    "kind": "text",
    "status": "text",
    "segment_label": "text",
    "reason": "text",
    "severity": "text",
    "severity_score": "number",
    "started": "text",
    "explanation": "text",
    "evidence": "text",
    # priority, discovery and targets
    "rank": "count",
    "segment": "text",
    "round": "count",
    "conditions": "conditions",
    "lift": "factor",
    "p_value": "probability",
    "q_value": "probability",
    "expected_value": "money",
    "fit_score": "number",
    "pocket": "text",
    "open_opportunity": "boolean",
    # unit economics
    "new_customers": "count",
    "new_arpa": "money",
    "spend": "money",
    "spend_direct": "money",
    "spend_allocated": "money",
    "spend_lagged": "money",
    "mrr_change": "money",
    "cac": "money",
    "ltv_cac": "multiple",
    "payback_months": "months",
    "allowable_cac": "money",
    "magic_number": "factor",
    # tier history: the change since an earlier record
    "previous_tier": "tier",
    "tier_change": "text",
    "previous_nrr": "ratio",
    "nrr_change": "points",
    "previous_grr": "ratio",
    "previous_clv": "money",
    "previous_as_of": "text",
    "recorded": "text",
}
LABELS = {
    "nrr_low": "NRR low (95%)",
    "nrr_high": "NRR high (95%)",
    "clv_low": "CLV low (95%)",
    "clv_high": "CLV high (95%)",
    "won": "Won deals",
    "lost": "Lost deals",
    "segment_label": "Segment",
    "severity_score": "Severity score",
    "starting_mrr": "Starting MRR",
    "quick_ratio_month": "Quick ratio (month)",
    "days_to_close_p25": "Days to close p25",
    "days_to_close_p75": "Days to close p75",
    "days_to_close_cv": "Days to close CV",
    "account_id": "Account ID",
    "account_name": "Account",
    "previous_mrr": "Previous MRR",
    "first_month": "First month",
    "opportunity_id": "Opportunity",
    "created_date": "Created",
    "close_date": "Closed",
    "p_value": "p",
    "q_value": "q",
    "spend_direct": "Spend on the segment",
    "spend_allocated": "Company spend allocated",
    "spend_lagged": "Spend, months M-5 to M-3",
    "mrr_change": "MRR change (3 months)",
    "previous_tier": "Tier before",
    "previous_nrr": "NRR before",
    "previous_grr": "GRR before",
    "previous_clv": "CLV before",
    "previous_as_of": "Compared with",
}


def column(key: str) -> Column:
    """The column ``key``: a metric of :data:`KINDS`, else a dimension (text), built-in or
    a custom attribute of the data."""
    if key not in KINDS:
        return Column(key, dimension_label(key), "text")
    name, definition = DEFINITIONS.get(key, ("", ""))
    label = LABELS.get(key) or name or key.replace("_", " ").capitalize()
    return Column(key, label, KINDS[key], definition)


def columns(*keys: str) -> tuple[Column, ...]:
    """The columns of ``keys``, in that order."""
    return tuple(column(k) for k in keys)
