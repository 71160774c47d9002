"""Metric settings: the defaults of METRICS.md, JSON round trip, validation."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from metrics.settings import MetricSettings


def test_defaults_are_the_contract():
    s = MetricSettings()
    assert (s.min_accounts, s.core_nrr, s.core_grr, s.healthy_nrr, s.watch_nrr) == (
        10,
        1.20,
        0.90,
        1.00,
        0.90,
    )
    assert (s.gross_margin, s.clv_horizon_months, s.cohort_clv_years) == (0.80, 120, 10)
    assert (s.discount_rate, s.window_months) == (0.10, 12)
    assert (s.size_band_smb_below, s.size_band_mid_below) == (200, 2000)
    assert s.declared_icp == {}


def test_json_round_trip_and_unknown_keys():
    s = MetricSettings(declared_icp={"vertical": ["Financial Services"]}, min_accounts=5)
    stored = json.loads(json.dumps(s.model_dump(mode="json")))
    stored["from_a_newer_version"] = 1
    assert MetricSettings.model_validate(stored) == s


def test_inconsistent_thresholds_are_refused():
    with pytest.raises(ValidationError):
        MetricSettings(watch_nrr=1.1, healthy_nrr=1.0)
    with pytest.raises(ValidationError):
        MetricSettings(gross_margin=1.5)


def test_margin_override_most_specific_first():
    s = MetricSettings(
        gross_margin_overrides={"vertical": {"FS": 0.7}, "sub_industry": {"Credit Unions": 0.9}}
    )
    assert s.margin_for({"vertical": "FS", "sub_industry": "Credit Unions"}) == 0.9
    assert s.margin_for({"vertical": "FS", "sub_industry": "Insurance"}) == 0.7
    assert s.margin_for({"vertical": "Retail"}) == 0.8


def test_evidence_defaults_and_the_legacy_significance_key():
    s = MetricSettings()
    assert (s.alpha, s.min_deals, s.grr_floor, s.logo_gap, s.acv_increase) == (
        0.05,
        10,
        0.90,
        0.10,
        0.20,
    )
    # A row saved before alpha existed called it "significance".
    assert MetricSettings.model_validate({"significance": 0.01}).alpha == 0.01
    assert MetricSettings.model_validate({"significance": 0.01, "alpha": 0.1}).alpha == 0.1
    with pytest.raises(ValidationError):
        MetricSettings(alpha=1.5)
