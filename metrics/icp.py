"""ICP tiers and Accidental ICP flags (METRICS.md, "ICP tiers")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from metrics.model import segment_label
from metrics.settings import MetricSettings

TIERS = ("core_icp", "healthy", "watch", "accidental_icp", "insufficient_data")
TIER_NAMES = {
    "core_icp": "Core ICP",
    "healthy": "Healthy",
    "watch": "Watch",
    "accidental_icp": "Accidental ICP",
    "insufficient_data": "Insufficient data",
}
RATED = ("core_icp", "healthy", "watch", "accidental_icp")


def tier_expr(settings: MetricSettings) -> pl.Expr:
    """Tier of each row from its ``accounts``, ``nrr`` and ``grr`` columns."""
    nrr, grr = pl.col("nrr"), pl.col("grr")
    return (
        pl.when((pl.col("accounts") < settings.min_accounts) | nrr.is_null())
        .then(pl.lit("insufficient_data"))
        .when((nrr >= settings.core_nrr) & (grr >= settings.core_grr))
        .then(pl.lit("core_icp"))
        .when(nrr >= settings.healthy_nrr)
        .then(pl.lit("healthy"))
        .when(nrr >= settings.watch_nrr)
        .then(pl.lit("watch"))
        .otherwise(pl.lit("accidental_icp"))
    )


def tier_of(nrr: float | None, grr: float | None, accounts: int, settings: MetricSettings) -> str:
    """Tier of one segment."""
    df = pl.DataFrame(
        {"accounts": [accounts], "nrr": [nrr], "grr": [grr]},
        schema={"accounts": pl.Int64, "nrr": pl.Float64, "grr": pl.Float64},
    )
    return df.select(tier_expr(settings)).item()


def pct(x: float | None) -> str:
    """A fraction as a whole percentage ("74%"), "n/a" when undefined."""
    return "n/a" if x is None else f"{x * 100:.0f}%"


def days(x: float | None) -> str:
    """Days as a whole number."""
    return "n/a" if x is None else f"{x:.0f}"


def _above(x: float | None, ref: float | None) -> bool:
    return x is not None and ref is not None and x > ref


def _below(x: float | None, ref: float | None) -> bool:
    return x is not None and ref is not None and x < ref


def accidental_icp_flags(
    scorecard: pl.DataFrame,
    company: Mapping[str, Any],
    settings: MetricSettings,
    by: Sequence[str],
) -> list[dict[str, Any]]:
    """Accidental ICP flags, most severe first, each with evidence and one sentence.

    Raised for a rated segment whose tier is Accidental ICP, or whose logo
    retention is below the company's while its share of new logos in the window
    is above its share of the starting base. Severity rises with how attractive it
    looks at acquisition: win rate above the company's, days to close below, and
    its share of bookings (above its share of the base).
    """
    flags = []
    for row in scorecard.iter_rows(named=True):
        if row["tier"] not in RATED:
            continue
        accidental = row["tier"] == "accidental_icp"
        logo_gap = _below(row["logo_retention"], company.get("logo_retention")) and _above(
            row["new_logo_share"], row["base_share"]
        )
        if not (accidental or logo_gap):
            continue
        flags.append(_flag(row, company, settings, by, accidental))
    return sorted(flags, key=lambda f: -f["severity_score"])


def _flag(
    row: Mapping[str, Any],
    company: Mapping[str, Any],
    settings: MetricSettings,
    by: Sequence[str],
    accidental: bool,
) -> dict[str, Any]:
    label = segment_label(row, by)
    wins = _above(row["win_rate"], company.get("win_rate"))
    fast = _below(row["days_to_close"], company.get("days_to_close"))
    share = row["bookings_share"] or 0.0
    big = _above(share, row["base_share"])
    points = int(wins) + int(fast) + int(big)
    score = points + (0.5 if accidental else 0.0) + 0.4 * min(share, 1.0)
    low, high = row["nrr_low"], row["nrr_high"]
    threshold = settings.watch_nrr
    includes = low is not None and high is not None and low <= threshold <= high
    evidence = {
        "accounts": row["accounts"],
        "tier": row["tier"],
        "nrr": row["nrr"],
        "nrr_low": low,
        "nrr_high": high,
        "threshold": threshold,
        "interval_includes_threshold": includes,
        "grr": row["grr"],
        "logo_retention": row["logo_retention"],
        "company_logo_retention": company.get("logo_retention"),
        "company_nrr": company.get("nrr"),
        "win_rate": row["win_rate"],
        "company_win_rate": company.get("win_rate"),
        "days_to_close": row["days_to_close"],
        "company_days_to_close": company.get("days_to_close"),
        "bookings_share": row["bookings_share"],
        "new_logo_share": row["new_logo_share"],
        "base_share": row["base_share"],
        "win_rate_above_company": wins,
        "closes_faster_than_company": fast,
        "bookings_share_above_base_share": big,
    }
    return {
        "segment": {d: row[d] for d in by},
        "segment_label": label,
        "reason": "accidental_icp" if accidental else "logo_retention_below_company",
        "severity": "high" if points >= 2 else "medium" if points == 1 else "low",
        "severity_score": round(score, 4),
        "explanation": _sentence(label, row, company, accidental, includes, threshold),
        "evidence": evidence,
    }


def _sentence(
    label: str,
    row: Mapping[str, Any],
    company: Mapping[str, Any],
    accidental: bool,
    includes: bool,
    threshold: float,
) -> str:
    acquisition = []
    if row["win_rate"] is not None:
        acquisition.append(
            f"wins {pct(row['win_rate'])} of deals (company {pct(company.get('win_rate'))})"
        )
    if row["days_to_close"] is not None:
        acquisition.append(
            f"closes in {days(row['days_to_close'])} days "
            f"(company {days(company.get('days_to_close'))})"
        )
    if row["nrr_low"] is not None:
        ci = f", 95% CI {pct(row['nrr_low'])[:-1]}-{pct(row['nrr_high'])}"
    else:
        ci = ""
    if accidental:
        keeps = f"keeps {pct(row['nrr'])} of its revenue (NRR {pct(row['nrr'])}{ci})"
    else:
        keeps = (
            f"keeps only {pct(row['logo_retention'])} of its customers "
            f"(company {pct(company.get('logo_retention'))}) while bringing "
            f"{pct(row['new_logo_share'])} of new logos against {pct(row['base_share'])} "
            f"of the customer base (NRR {pct(row['nrr'])}{ci})"
        )
    caveat = (
        f", though that interval includes the {pct(threshold)} threshold, so it may be noise"
        if includes
        else ""
    )
    if acquisition:
        return f"{label} {' and '.join(acquisition)}, but {keeps}{caveat}."
    return f"{label} {keeps}{caveat}."
