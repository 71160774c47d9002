"""Scorecard rows carry the numbers the segment page shows beside the report keys."""

from __future__ import annotations

import pytest

from metrics.months import month_key
from metrics.scorecard import REPORT_KEYS, segment_scorecard
from metrics.settings import MetricSettings
from tests.unit.test_accounts import hand_ds

EXTRAS = (
    "sales_velocity",
    "days_to_close_p25",
    "days_to_close_p75",
    "days_to_close_cv",
    "expansion_rate",
    "contraction_rate",
    "churn_rate",
    "arpa",
    "clv_simple",
)


def test_scorecard_carries_rates_velocity_spread_arpa_and_simple_clv_by_hand():
    settings = MetricSettings(min_accounts=1, bootstrap_samples=0)
    sc = segment_scorecard(hand_ds(), settings, month_key("2024-07"), 6, by=["vertical"], intervals=False)
    assert list(sc.columns[1 : len(REPORT_KEYS) + 1]) == list(REPORT_KEYS)
    assert set(EXTRAS) <= set(sc.columns)
    x = sc.filter(vertical="X").row(0, named=True)
    # Starting cohort a, b, c, e (450): a +50, c -50, b churned 100.
    assert x["expansion_rate"] == pytest.approx(50 / 450)
    assert x["contraction_rate"] == pytest.approx(50 / 450)
    assert x["churn_rate"] == pytest.approx(100 / 450)
    # Active in July: a 150, c 150, e 50.
    assert x["arpa"] == pytest.approx(350 / 3)
    churn = 1 - (3 / 4) ** (1 / 6)
    assert x["clv_simple"] == pytest.approx(350 / 3 * 0.8 / churn)
    # One won deal (46 days, 720) and one lost in the window; two open at July's end.
    assert x["sales_velocity"] == pytest.approx(2 * 0.5 * 720 / 46)
    assert (x["days_to_close_p25"], x["days_to_close_p75"]) == (46, 46)
    assert x["days_to_close_cv"] is None
