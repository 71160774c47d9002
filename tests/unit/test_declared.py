"""Declared-ICP diagnostic: inside against outside the ICP the company declares."""

from __future__ import annotations

import pytest

from metrics.declared import declared_icp_diagnostic
from metrics.model import MetricsError
from metrics.months import month_key
from metrics.settings import MetricSettings
from tests.unit.test_secondary import sales_ds


def test_inside_against_outside():
    settings = MetricSettings(declared_icp={"vertical": ["X"]})
    diag = declared_icp_diagnostic(sales_ds(), settings, month_key("2024-06"), 3)
    assert diag.get_column("group").to_list() == ["inside", "outside"]
    inside, outside = diag.row(0, named=True), diag.row(1, named=True)
    # Pipeline created April-June: o2 3000, o3 9999, o5 700, o6 800 inside; none outside.
    assert inside["pipeline"] == 3000 + 9999 + 700 + 800 and outside["pipeline"] == 0
    assert inside["pipeline_share"] == 1.0
    assert inside["bookings"] == 4000 and inside["bookings_share"] == 1.0
    assert inside["win_rate"] == pytest.approx(2 / 3) and outside["win_rate"] == 0.0
    assert inside["nrr"] == 1.0 and outside["nrr"] is None
    assert inside["customers"] == 2 and outside["customers"] == 0


def test_no_declared_icp_is_a_user_error():
    with pytest.raises(MetricsError, match="declared ICP"):
        declared_icp_diagnostic(sales_ds(), MetricSettings(), month_key("2024-06"), 3)
