"""ICP priority by hand: CLV, then NRR, then logo retention, TAM breaking ties and filtering."""

from __future__ import annotations

import polars as pl

from metrics.months import month_key
from metrics.priority import icp_priority
from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings
from tests.unit.test_accounts import hand_ds


def scorecard() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "vertical": ["A", "B", "C", "D", "E", "F", "G"],
            "tier": ["healthy", "core_icp", "watch", "insufficient_data", "accidental_icp"]
            + ["watch", "watch"],
            "clv": [50_000.0, 50_000.0, 20_000.0, 99_999.0, None, 20_000.0, 20_000.0],
            "nrr": [1.10, 1.25, 0.95, 2.0, 0.80, 0.95, 0.95],
            "logo_retention": [0.90, 0.95, 0.80, 1.0, 0.70, 0.80, 0.85],
            "tam": [1_000_000.0, 200_000.0, 3_000.0, 1.0, 0.0, 5_000.0, 0.0],
        }
    )


def test_priority_order_and_reasons_by_hand():
    got = icp_priority(scorecard(), ["vertical"])
    # D is insufficient data: never ranked. B beats A on NRR (same CLV); G beats F and C
    # on logo retention; F beats C on TAM; E has no CLV and comes last.
    assert got.get_column("vertical").to_list() == ["B", "A", "G", "F", "C", "E"]
    assert got.get_column("rank").to_list() == [1, 2, 3, 4, 5, 6]
    assert got.columns == [
        "rank",
        "vertical",
        "segment",
        "tier",
        "clv",
        "nrr",
        "logo_retention",
        "tam",
        "reason",
    ]
    reasons = got.get_column("reason").to_list()
    assert reasons[0] == "Ranks 1 of 6: ahead of A on NRR (125% against 110%)."
    assert reasons[1] == (
        "Ranks 2 of 6: behind B on NRR (110% against 125%), ahead of G on CLV ($50K against $20K)."
    )
    assert reasons[3] == (
        "Ranks 4 of 6: behind G on logo retention (80% against 85%), "
        "ahead of C on TAM ($5K against $3K)."
    )
    assert reasons[5] == "Ranks 6 of 6: behind C on CLV (n/a against $20K)."


def test_min_tam_filters_and_a_single_segment_says_so():
    got = icp_priority(scorecard(), ["vertical"], min_tam=100_000)
    assert got.get_column("vertical").to_list() == ["B", "A"]
    one = icp_priority(scorecard().filter(pl.col("vertical") == "C"), ["vertical"])
    assert one.get_column("reason").to_list() == ["Ranks 1 of 1: the only rated segment"]


def test_priority_reads_a_real_scorecard():
    settings = MetricSettings(min_accounts=4, bootstrap_samples=0)
    sc = segment_scorecard(hand_ds(), settings, month_key("2024-07"), 6, by=["vertical"], intervals=False)
    got = icp_priority(sc, ["vertical"])
    # Y has one account in its starting cohort: insufficient data at min_accounts 4.
    assert got.select("rank", "segment", "tier").rows() == [(1, "X", "accidental_icp")]
