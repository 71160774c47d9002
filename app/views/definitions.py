"""What each metric means, worded from METRICS.md: the text of every tooltip.

One dictionary, keyed by the metric's column name in the metrics layer, so a
header, a KPI card and a chart axis explain the same number the same way.
"""

from __future__ import annotations

DEFINITIONS: dict[str, tuple[str, str]] = {
    # key: (display name, definition)
    "mrr": (
        "MRR",
        "Sum of mrr of the subscriptions active on the last day of the month "
        "(start_date <= D and end_date empty or >= D).",
    ),
    "arr": ("ARR", "12 × MRR at the as-of month."),
    "nrr": (
        "NRR",
        "Net revenue retention over the window: Σ MRR at the as-of month / Σ MRR at the "
        "window start, over the starting cohort (accounts active at the window start).",
    ),
    "grr": (
        "GRR",
        "Gross revenue retention: Σ min(end MRR, start MRR) / Σ start MRR over the "
        "starting cohort, so GRR <= 1 and GRR <= NRR.",
    ),
    "logo_retention": (
        "Logo retention",
        "#{accounts of the starting cohort still active at the as-of month} / "
        "#{starting cohort}.",
    ),
    "clv": (
        "CLV",
        "Cohort CLV: a shifted-beta-geometric model fitted to the segment's cohort logo "
        "survival; GM × Σ 12 × ARPA_t × S(t) / (1+d)^t over H = 10 years, d = 10% "
        "(both settable), with a 95% bootstrap interval.",
    ),
    "clv_simple": (
        "Simple CLV",
        "ARPA × GM / c, with the lifetime 1/c capped at clv_horizon_months "
        "(default 120). The textbook formula, shown for comparison.",
    ),
    "clv_multiple": (
        "CLV multiple",
        "The segment's CLV / the lowest CLV among rated segments.",
    ),
    "arpa": ("ARPA", "Σ MRR at the as-of month / #{accounts active at the as-of month}."),
    "quick_ratio": (
        "Quick ratio",
        "(new + reactivation + expansion) / (contraction + churn) MRR.",
    ),
    "win_rate": (
        "Win rate",
        "won / (won + lost), new-business opportunities closed in the window.",
    ),
    "avg_deal_size": (
        "Avg deal size",
        "Mean amount of won new-business deals closed in the window (ACV).",
    ),
    "days_to_close": (
        "Days to close",
        "Median of (close_date - created_date) in days over won new-business deals "
        "closed in the window.",
    ),
    "sales_velocity": (
        "Sales velocity",
        "Open opportunities × win rate × average deal size / days to close, per day.",
    ),
    "days_to_close_p25": (
        "Days to close p25–p75",
        "The 25th and 75th percentiles of (close_date - created_date) in days over won "
        "new-business deals closed in the window: half the deals close within this span.",
    ),
    "days_to_close_cv": (
        "Days to close CV",
        "Coefficient of variation of days to close (standard deviation / mean) over won "
        "new-business deals closed in the window: the lower, the more consistent the cycle.",
    ),
    "expansion_rate": (
        "Expansion rate",
        "Expansion MRR of the starting cohort over the window / its starting MRR.",
    ),
    "contraction_rate": (
        "Contraction rate",
        "Contraction MRR of the starting cohort over the window / its starting MRR "
        "(NRR = 1 + expansion rate - contraction rate - churn rate).",
    ),
    "accounts": (
        "Accounts (n)",
        "The segment's starting cohort: its accounts active at the window start. "
        "Below min_accounts (default 10) the segment is rated insufficient data.",
    ),
    "prospects": ("Prospects", "The segment's accounts that have never been active."),
    "tam": (
        "TAM",
        "Average deal size × prospects of the segment (average selling price × prospect "
        "accounts matching the profile).",
    ),
    "tier": (
        "Tier",
        "Core ICP: NRR >= 120% and GRR >= 90%. Healthy: NRR >= 100%. Watch: 90% <= NRR < "
        "100%. Accidental ICP: NRR < 90%. Insufficient data: n < min_accounts.",
    ),
    "new_customers": (
        "New customers",
        "The segment's accounts whose first active month lies in the window (M-W, M].",
    ),
    "new_arpa": ("New ARPA", "The new customers' mean MRR in their first active month."),
    "spend": (
        "Spend",
        "Spend in the window: the spend rows that name the segment, plus its share of the "
        "rows that do not name that dimension (company-level spend), allocated in "
        "proportion to new customers in the window.",
    ),
    "cac": ("CAC", "Spend of the segment in the window / its new customers."),
    "ltv_cac": ("LTV:CAC", "CLV / CAC (the segment's cohort CLV). 3× or more is healthy."),
    "payback_months": (
        "CAC payback",
        "CAC / (new ARPA × gross margin): months of a new customer's margin to earn back "
        "what it cost to acquire.",
    ),
    "allowable_cac": (
        "Allowable CAC",
        "CLV / target LTV:CAC (default 3): what a new customer of the segment may cost "
        "to acquire. Needs no spend.",
    ),
    "magic_number": (
        "Magic number",
        "(MRR(M) - MRR(M-3)) × 12 / spend in months (M-6, M-3]: new ARR per unit of "
        "spend a quarter earlier.",
    ),
    "new": ("New", "MRR(m) of an account with MRR(m-1) = 0 that was never active before m."),
    "reactivation": (
        "Reactivation",
        "MRR(m) of an account with MRR(m-1) = 0 that was active in some month before m-1.",
    ),
    "expansion": ("Expansion", "MRR(m) - MRR(m-1) where both are > 0 and MRR(m) is higher."),
    "contraction": ("Contraction", "MRR(m-1) - MRR(m) where both are > 0 and MRR(m) is lower."),
    "churn": ("Churn", "MRR(m-1) of an account with MRR(m) = 0."),
    "ending_mrr": (
        "Ending MRR",
        "Starting MRR + new + reactivation + expansion - contraction - churn.",
    ),
    "cohort_nrr": (
        "Cohort NRR",
        "Σ MRR(a, f_a+k) / Σ MRR(a, f_a) over the cohort's accounts with f_a + k <= the "
        "as-of month (f_a: first active month, k: age in months).",
    ),
    "cohort_grr": (
        "Cohort GRR",
        "Σ min(MRR(a, f_a+k), MRR(a, f_a)) / Σ MRR(a, f_a) over the cohort's accounts "
        "with f_a + k <= the as-of month.",
    ),
    "cohort_logo_retention": (
        "Cohort logo retention",
        "#{accounts active in f_a+k} / #{cohort}, counting accounts with f_a + k <= the "
        "as-of month.",
    ),
    "start_mrr": (
        "Start MRR",
        "The account's MRR at the window start (window retention, s_a) or in its first "
        "active month (a cohort).",
    ),
    "end_mrr": (
        "End MRR",
        "The account's MRR at the as-of month (e_a), 0 when it is no longer active.",
    ),
    "mrr_at_age": (
        "MRR at age",
        "The account's MRR at its first active month + the cohort age, 0 when not active.",
    ),
    "previous_mrr": ("Previous MRR", "The account's MRR in the month before (MRR(a, m-1))."),
    "amount": (
        "Amount",
        "A movement: |MRR(a, m) - MRR(a, m-1)|; a deal: the opportunity's amount.",
    ),
    "bookings_share": (
        "Share of bookings",
        "The segment's share of new-business bookings (won amount) in the window.",
    ),
    "new_logo_share": (
        "Share of new logos",
        "The segment's share of the accounts that became customers in the window.",
    ),
    "rank": (
        "Rank",
        "ICP priority: rated segments ranked by CLV, then NRR, then logo retention "
        "(highest first); TAM breaks the remaining ties.",
    ),
    "round": (
        "Round",
        "The greedy round that found the pocket: each round takes the strongest significant "
        "candidate and removes its accounts from the pool.",
    ),
    "conditions": (
        "Conditions",
        "The pocket's attributes, dimension = value, all of them met (1 to the depth asked).",
    ),
    "lift": ("Lift", "The pocket's NRR / the company's NRR over the same window."),
    "p_value": (
        "p",
        "Two-sided p-value of the permutation z-test on NRR residuals of the pocket's "
        "accounts against the rest of the round's pool.",
    ),
    "q_value": (
        "q",
        "Benjamini-Hochberg adjusted p-value over every candidate of the round; a pocket "
        "needs q <= alpha (default 0.05).",
    ),
    "segment": (
        "Segment",
        "The segment's values joined by ' / '. On the target list, the segment used: the "
        "most specific one rated for targeting that holds the account (its sub-industry, "
        "else its vertical, else the company).",
    ),
    "expected_value": (
        "Expected value",
        "Win rate × CLV of the segment used: what pursuing the account is worth.",
    ),
    "fit_score": (
        "Fit score",
        "ICP fit 0-100: 100 × expected value / the highest expected value among the "
        "sub-industries and verticals rated for targeting.",
    ),
    "pocket": ("Pocket", "The first discovered pocket whose conditions the account meets."),
    "open_opportunity": (
        "Open opportunity",
        "The account holds a new-business opportunity open on the as-of month's last day.",
    ),
    "accidental_icp_flag": (
        "Accidental ICP flag",
        "Raised for an Accidental-ICP segment and for any segment whose logo retention is "
        "below the company's while its share of new logos in the window is above its "
        "share of the starting base; severity rises with how attractive it looks at "
        "acquisition.",
    ),
    "tier_change": (
        "Tier change",
        "How the tier moved since the record compared with: up or down (Accidental ICP, "
        "Watch, Healthy, Core ICP, worst to best), same, or changed (to or from "
        "insufficient data); empty where the segment was not recorded.",
    ),
    "nrr_change": (
        "NRR change",
        "NRR now minus the NRR recorded then, in percentage points.",
    ),
    "previous_as_of": (
        "Compared with",
        "The as-of month of the record compared with: the latest month recorded before "
        "this as-of month, at the same window, as the newest import of it stated it.",
    ),
    "recorded": (
        "Recorded",
        "What recorded the row and when: an import (its batch), a rollback, the demo "
        "load or a backfill; 'now' for the as-of month as the data gives it today.",
    ),
}

# (title, what it means) per alert type, in the order of METRICS.md: the drift page's
# groups, the board pack's and the digest's alerts.
ALERT_TYPES: dict[str, tuple[str, str]] = {
    "sales_cycle_lengthening": (
        "Sales cycle lengthening",
        "Days to close of the last two quarters against the four before: up by 20% or more "
        "and significant (Mann-Whitney, p < 0.05).",
    ),
    "recent_cohorts_worse": (
        "Recent cohorts retaining worse",
        "Cohorts of the last two quarters below the installed base at the same age (logo "
        "retention or NRR at 3 and 6 months).",
    ),
    "bookings_mix_off_icp": (
        "Bookings mix moving off ICP",
        "The share of new-business bookings from Core ICP segments falls quarter over quarter "
        "for two quarters.",
    ),
    "nrr_trending_down": (
        "NRR trending down",
        "Trailing NRR, computed monthly, falls for 3 months running and by 5 points or more.",
    ),
    "contraction_rising": (
        "Contraction rising",
        "Contraction MRR / starting MRR of the last quarter at least 1.5× its four-quarter "
        "average (contraction precedes churn).",
    ),
    "win_rate_trap": (
        "Win-rate trap",
        "Win rate above the company's in a segment rated Watch or Accidental ICP (Fisher "
        "exact, one-sided, from at least min_deals closed deals).",
    ),
    "grr_warning": (
        "GRR warning",
        "GRR below 90% whatever the NRR, its 95% interval below 90% too: expansion is masking "
        "a leaky base.",
    ),
    "masked_churn": (
        "Masked churn",
        "NRR at or above 100% while logo retention is 10 points or more below the company's "
        "(its 95% interval too): a few expanding accounts hide many lost ones.",
    ),
    "pricing_signal": (
        "Pricing signal",
        "Logo retention at or above the company's while GRR is below 90% (its 95% interval "
        "too): customers stay but pay less.",
    ),
    "acv_up_nrr_down": (
        "ACV up, NRR down",
        "Average deal size of the last two quarters up 20% or more on the four before while "
        "trailing NRR fell 5 points or more.",
    ),
    "rising_segment": (
        "Rising segments (opportunities)",
        "Trailing NRR rising 3 months running and by 5 points or more: a candidate for more "
        "ICP investment.",
    ),
}


def name(key: str) -> str:
    """Display name of a metric."""
    return DEFINITIONS[key][0]


def definition(key: str) -> str:
    """Definition of a metric, from METRICS.md."""
    return DEFINITIONS[key][1]
