"""ICP tiers and Accidental ICP flags."""

from __future__ import annotations

import polars as pl
import pytest

from metrics.icp import accidental_icp_flags, tier_of
from metrics.settings import MetricSettings

S = MetricSettings()


@pytest.mark.parametrize(
    ("nrr", "grr", "n", "tier"),
    [
        (1.20, 0.90, 10, "core_icp"),
        (1.35, 0.89, 10, "healthy"),
        (1.00, 0.80, 10, "healthy"),
        (0.9999, 0.95, 10, "watch"),
        (0.90, 0.90, 10, "watch"),
        (0.8999, 0.85, 10, "accidental_icp"),
        (1.50, 0.99, 9, "insufficient_data"),
        (None, None, 10, "insufficient_data"),
    ],
)
def test_tiers_at_their_thresholds(nrr, grr, n, tier):
    assert tier_of(nrr, grr, n, S) == tier


def test_tier_thresholds_are_settable():
    custom = MetricSettings(core_nrr=1.1, core_grr=0.85, min_accounts=3)
    assert tier_of(1.12, 0.86, 3, custom) == "core_icp"
    assert tier_of(1.12, 0.86, 2, custom) == "insufficient_data"


def _row(
    name, tier, nrr, logo, win, days, bookings_share, new_share, base_share, accounts=40, deals=100
):
    won = round(win * deals)
    return {
        "vertical": name,
        "tier": tier,
        "accounts": accounts,
        "retained": round(logo * accounts),
        "nrr": nrr,
        "nrr_low": nrr - 0.08,
        "nrr_high": nrr + 0.08,
        "grr": min(nrr, 0.95),
        "logo_retention": logo,
        "win_rate": win,
        "won": won,
        "lost": deals - won,
        "days_to_close": days,
        "bookings_share": bookings_share,
        "new_logo_share": new_share,
        "base_share": base_share,
    }


def _scorecard(*extra):
    return pl.DataFrame(
        [
            _row("Insurance", "accidental_icp", 0.74, 0.70, 0.41, 38.0, 0.30, 0.30, 0.20),
            _row("Retail", "watch", 0.95, 0.75, 0.20, 80.0, 0.10, 0.25, 0.10, accounts=120),
            _row("Banks", "core_icp", 1.30, 0.95, 0.25, 70.0, 0.40, 0.20, 0.40),
            _row("Media", "healthy", 1.05, 0.80, 0.30, 60.0, 0.10, 0.05, 0.20),
            _row("Tiny", "insufficient_data", 0.40, 0.30, 0.90, 10.0, 0.10, 0.20, 0.10, 3),
            _row("Slow", "accidental_icp", 0.86, 0.85, 0.10, 90.0, 0.0, 0.0, 0.0),
            # Keeps fewer logos than the company while bringing more new ones, but 12 of
            # 15 against 498 of 585 is no evidence (Fisher p = 0.40).
            _row("Fresh", "healthy", 1.02, 0.80, 0.20, 80.0, 0.02, 0.10, 0.05, accounts=15),
            *extra,
        ]
    )


COMPANY = {
    "win_rate": 0.28,
    "days_to_close": 64.0,
    "logo_retention": 0.85,
    "nrr": 1.05,
    "accounts": 600,
    "retained": 510,
}


def _flags(*extra):
    return [f.to_dict() for f in accidental_icp_flags(_scorecard(*extra), COMPANY, S, ["vertical"])]


def test_flags_who_and_why():
    by_name = {f["segment_label"]: f for f in _flags()}
    # Accidental ICP tiers are flagged; Retail because it keeps fewer logos than the
    # company while bringing more new logos than its share of the base; Media keeps
    # fewer logos but brings fewer new ones; Tiny is too small to flag; Fresh's gap
    # is not significant.
    assert set(by_name) == {"Insurance", "Retail", "Slow"}
    assert by_name["Insurance"]["reason"] == "accidental_icp"
    assert by_name["Retail"]["reason"] == "logo_retention_below_company"
    assert by_name["Insurance"]["segment"] == {"vertical": "Insurance"}


def test_logo_retention_flag_carries_its_test_and_q_value():
    retail = next(f for f in _flags() if f["segment_label"] == "Retail")
    ev = retail["evidence"]
    assert "Fisher" in ev["test"]
    # Kept 90 of 120 against the rest's 420 of 480, one-sided: p = 0.000844, odds 0.43.
    assert ev["p_value"] == pytest.approx(0.000843596, rel=1e-5)
    assert ev["statistic"] == pytest.approx((90 / 30) / (420 / 60))
    # Two segments tested (Retail and Fresh, p = 0.396): q = min(2p, 0.396) = 2p.
    assert ev["q_value"] == pytest.approx(2 * ev["p_value"])


def test_flag_severity_order_and_evidence():
    flags = _flags()
    # Insurance looks attractive on all three counts; at equal attractiveness an
    # Accidental ICP tier (Slow) ranks above a logo-retention flag (Retail).
    assert [f["segment_label"] for f in flags] == ["Insurance", "Slow", "Retail"]
    assert [f["severity"] for f in flags] == ["high", "low", "low"]
    ev = flags[0]["evidence"]
    assert ev["win_rate_above_company"] and ev["closes_faster_than_company"]
    assert ev["bookings_share_above_base_share"]
    assert ev["interval_includes_threshold"] is False
    assert ev["interval_excludes_threshold"] is True
    assert flags[1]["evidence"]["interval_includes_threshold"] is True


def test_a_flag_whose_interval_includes_the_threshold_is_low():
    # As attractive as Insurance (three points), but NRR 86% with interval 78-94%.
    noisy = _row("Noisy", "accidental_icp", 0.86, 0.70, 0.41, 38.0, 0.30, 0.30, 0.20)
    flag = next(f for f in _flags(noisy) if f["segment_label"] == "Noisy")
    assert flag["severity"] == "low"
    assert flag["evidence"]["interval_excludes_threshold"] is False
    assert flag["explanation"].endswith("includes the 90% threshold, so it may be noise.")


def test_a_win_rate_from_few_deals_drives_nothing():
    # Wins 3 of 4 deals (75%, company 28%) and closes fast: from fewer than min_deals
    # (10) closed deals neither counts, so only the bookings share makes it medium.
    few = _row("Few", "accidental_icp", 0.70, 0.70, 0.75, 20.0, 0.30, 0.30, 0.20, deals=4)
    flag = next(f for f in _flags(few) if f["segment_label"] == "Few")
    ev = flag["evidence"]
    assert (ev["won"], ev["lost"], ev["win_rate_from_enough_deals"]) == (3, 1, False)
    assert not ev["win_rate_above_company"] and not ev["closes_faster_than_company"]
    assert flag["severity"] == "medium"
    assert flag["explanation"].startswith("Few won 3 of 4 deals (too few to compare), but keeps")


def test_flag_sentence_for_a_cmo():
    flags = _flags()
    assert flags[0]["explanation"] == (
        "Insurance wins 41% of deals (company 28%) and closes in 38 days (company 64), "
        "but keeps 74% of its revenue (NRR 74%, 95% CI 66-82%)."
    )
    assert "includes the 90% threshold" in flags[1]["explanation"]
