"""ICP tiers and Accidental ICP flags (METRICS.md, "ICP tiers" and "Evidence")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from metrics.alerts import Candidate, Flag, significant
from metrics.model import segment_label
from metrics.settings import MetricSettings
from metrics.stats import fisher_exact

TIERS = ("core_icp", "healthy", "watch", "accidental_icp", "insufficient_data")
TIER_NAMES = {
    "core_icp": "Core ICP",
    "healthy": "Healthy",
    "watch": "Watch",
    "accidental_icp": "Accidental ICP",
    "insufficient_data": "Insufficient data",
}
RATED = ("core_icp", "healthy", "watch", "accidental_icp")
SEVERITIES = ("high", "medium", "low")


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
) -> list[Flag]:
    """Accidental ICP flags, most severe first, each with evidence and one sentence.

    Raised for a rated segment whose tier is Accidental ICP, or whose logo
    retention is below the company's while its share of new logos in the window
    is above its share of the starting base. The second rule is a test (Fisher
    exact, one-sided, logo retention against the rest of the company's) over
    every rated segment bringing more than its share of new logos, raised only
    when its Benjamini-Hochberg q <= ``alpha``. Severity rises with how attractive
    it looks at acquisition: win rate above the company's, days to close below
    (both only from at least ``min_deals`` closed deals), and its share of
    bookings (above its share of the base); a flag is "high" or "medium" only
    when its NRR interval excludes the threshold, else "low" ("may be noise").
    """
    flags: list[Flag] = []
    tested: list[Candidate] = []
    for row in scorecard.iter_rows(named=True):
        if row["tier"] not in RATED:
            continue
        if row["tier"] == "accidental_icp":
            flags.append(_flag(row, company, settings, by, True, {}))
            continue
        if not _above(row["new_logo_share"], row["base_share"]):
            continue
        test = _logo_test(row, company)
        if test is None:
            continue
        below = _below(row["logo_retention"], company.get("logo_retention"))
        evidence = {
            "test": "Fisher exact, one-sided (segment logo retention < rest of company)",
            "statistic": test["statistic"],
            "p_value": test["p_value"],
        }
        flag = _flag(row, company, settings, by, False, evidence) if below else None
        tested.append(Candidate(test["p_value"], flag))
    flags += significant(tested, settings.alpha)
    return sorted(flags, key=lambda f: (SEVERITIES.index(f.severity), -f.severity_score))


def _logo_test(row: Mapping[str, Any], company: Mapping[str, Any]) -> dict[str, Any] | None:
    """Fisher exact test of the segment's kept logos against the rest of the company's."""
    kept, lost = row["retained"], row["accounts"] - row["retained"]
    rest_kept = (company.get("retained") or 0) - kept
    rest_lost = (company.get("accounts") or 0) - (company.get("retained") or 0) - lost
    if rest_kept < 0 or rest_lost < 0:
        return None
    return fisher_exact(kept, lost, rest_kept, rest_lost, "less")


def _deals_enough(row: Mapping[str, Any], settings: MetricSettings) -> bool:
    """Whether a win rate (and days to close) rests on at least ``min_deals`` closed deals."""
    return (row.get("won") or 0) + (row.get("lost") or 0) >= settings.min_deals


def _flag(
    row: Mapping[str, Any],
    company: Mapping[str, Any],
    settings: MetricSettings,
    by: Sequence[str],
    accidental: bool,
    test: dict[str, Any],
) -> Flag:
    label = segment_label(row, by)
    enough = _deals_enough(row, settings)
    wins = enough and _above(row["win_rate"], company.get("win_rate"))
    fast = enough and _below(row["days_to_close"], company.get("days_to_close"))
    share = row["bookings_share"] or 0.0
    big = _above(share, row["base_share"])
    points = int(wins) + int(fast) + int(big)
    score = points + (0.5 if accidental else 0.0) + 0.4 * min(share, 1.0)
    low, high = row["nrr_low"], row["nrr_high"]
    threshold = settings.watch_nrr
    known = low is not None and high is not None
    includes = known and low <= threshold <= high
    excludes = known and not includes
    severity = "high" if points >= 2 else "medium" if points == 1 else "low"
    evidence = {
        "accounts": row["accounts"],
        "tier": row["tier"],
        "nrr": row["nrr"],
        "nrr_low": low,
        "nrr_high": high,
        "threshold": threshold,
        "interval_includes_threshold": includes,
        "interval_excludes_threshold": excludes,
        "grr": row["grr"],
        "logo_retention": row["logo_retention"],
        "company_logo_retention": company.get("logo_retention"),
        "company_nrr": company.get("nrr"),
        "win_rate": row["win_rate"],
        "company_win_rate": company.get("win_rate"),
        "won": row.get("won"),
        "lost": row.get("lost"),
        "win_rate_from_enough_deals": enough,
        "days_to_close": row["days_to_close"],
        "company_days_to_close": company.get("days_to_close"),
        "bookings_share": row["bookings_share"],
        "new_logo_share": row["new_logo_share"],
        "base_share": row["base_share"],
        "win_rate_above_company": wins,
        "closes_faster_than_company": fast,
        "bookings_share_above_base_share": big,
        **test,
    }
    return Flag(
        segment={d: row[d] for d in by},
        segment_label=label,
        reason="accidental_icp" if accidental else "logo_retention_below_company",
        severity=severity if excludes else "low",
        severity_score=round(score, 4),
        explanation=_sentence(label, row, company, accidental, enough, excludes, threshold),
        evidence=evidence,
    )


def _sentence(
    label: str,
    row: Mapping[str, Any],
    company: Mapping[str, Any],
    accidental: bool,
    enough_deals: bool,
    excludes: bool,
    threshold: float,
) -> str:
    acquisition = []
    if row["win_rate"] is not None and not enough_deals:
        closed = row["won"] + row["lost"]
        acquisition.append(f"won {row['won']} of {closed} deals (too few to compare)")
    elif row["win_rate"] is not None:
        acquisition.append(
            f"wins {pct(row['win_rate'])} of deals (company {pct(company.get('win_rate'))})"
        )
    if row["days_to_close"] is not None and enough_deals:
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
    if excludes:
        caveat = ""
    elif ci:
        caveat = (
            f", though that interval includes the {pct(threshold)} threshold, so it may be noise"
        )
    else:
        caveat = ", with no interval computed, so it may be noise"
    if acquisition:
        return f"{label} {' and '.join(acquisition)}, but {keeps}{caveat}."
    return f"{label} {keeps}{caveat}."
