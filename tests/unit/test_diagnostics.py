"""Diagnostics 7-11 of METRICS.md: one small planted scenario each, raised or possible."""

from __future__ import annotations

import pytest

from metrics.drift import drift_alerts
from metrics.settings import MetricSettings
from tests.unit.builders import accounts, dataset, monthly, opportunities, series
from tests.unit.test_drift import AS_OF, _deal, _flat

S = MetricSettings()


def _by_type(ds):
    alerts = drift_alerts(ds, S, AS_OF, 12, by=["vertical"])
    out: dict[str, dict[str, object]] = {}
    for a in alerts:
        out.setdefault(a.type, {})[a.segment_label] = a
    return out


def _leaky_world():
    # G: 40 accounts of 100; 20 leave in 2025-06 and the 20 who stay grow to 220:
    # NRR 4400/4000 = 110%, GRR 2000/4000 = 50%, logo retention 50%.
    # H: 80 accounts flat at 100. P: 12 accounts, two cut to 30 in 2025-06:
    # GRR (1000 + 60)/1200 = 88.3%, every logo kept.
    rows = _flat("h", 80)
    for i in range(40):
        tail = [0.0] * 7 if i < 20 else [220.0] * 7
        rows += series(f"g{i:02d}", "2023-01", [100.0] * 29 + tail)
    for i in range(12):
        rows += series(f"p{i:02d}", "2023-01", [100.0] * 29 + [30.0 if i < 2 else 100.0] * 7)
    ids = [(f"h{i:02d}", "H") for i in range(80)] + [(f"g{i:02d}", "G") for i in range(40)]
    ids += [(f"p{i:02d}", "P") for i in range(12)]
    return dataset(accounts(ids), mrr=monthly(rows))


def test_grr_warning_and_masked_churn_raised_when_the_interval_excludes():
    found = _by_type(_leaky_world())
    grr = found["grr_warning"]["G"]
    assert grr.raised and grr.kind == "warning"
    ev = grr.evidence
    assert ev["grr"] == pytest.approx(0.5)
    assert ev["grr_high"] < 0.90 and ev["interval_excludes_threshold"] is True
    masked = found["masked_churn"]["G"]
    assert masked.raised
    ev = masked.evidence
    # Company logo retention (20 + 80 + 12) / 132; the line is 10 points below it.
    assert ev["company_logo_retention"] == pytest.approx(112 / 132)
    assert ev["threshold"] == pytest.approx(112 / 132 - 0.10)
    # Wilson interval of 20 of 40: 35.2%-64.8%, below the line.
    assert (ev["logo_retention_low"], ev["logo_retention_high"]) == pytest.approx(
        (0.3520, 0.6480), abs=1e-4
    )
    assert "hide many lost ones" in masked.explanation
    assert "H" not in found.get("grr_warning", {})
    assert "G" not in found.get("pricing_signal", {})  # it loses logos


def test_threshold_rules_are_possible_when_the_interval_includes_the_threshold():
    found = _by_type(_leaky_world())
    for kind in ("grr_warning", "pricing_signal"):
        alert = found[kind]["P"]
        assert alert.status == "possible" and not alert.raised
        assert alert.evidence["grr"] == pytest.approx(1060 / 1200)
        assert alert.evidence["grr_low"] < 0.90 <= alert.evidence["grr_high"]
        assert alert.evidence["interval_excludes_threshold"] is False
        assert alert.explanation.endswith("may be noise.")
    assert found["pricing_signal"]["P"].evidence["logo_retention"] == 1.0


def test_rising_segment_is_an_opportunity():
    # R: 20 accounts of 100; five grow to 150 in each of Oct, Nov and Dec 2025.
    # Trailing NRR: Sep 100%, Oct 112.5%, Nov 125%, Dec 137.5%. F stays flat.
    rows = _flat("f", 20)
    for i in range(20):
        grow = 33 + i // 5  # month index 33 = 2025-10
        rows += series(f"r{i:02d}", "2023-01", [150.0 if m >= grow else 100.0 for m in range(36)])
    ids = [(f"f{i:02d}", "F") for i in range(20)] + [(f"r{i:02d}", "R") for i in range(20)]
    found = _by_type(dataset(accounts(ids), mrr=monthly(rows)))
    rising = found["rising_segment"]
    assert set(rising) == {"R"}
    alert = rising["R"]
    assert alert.kind == "opportunity" and alert.raised
    assert list(alert.evidence["nrr"].values()) == pytest.approx([1.0, 1.125, 1.25, 1.375])
    assert alert.started == "2025-10"
    # Delta method: 15 accounts at (150 - 137.5)/2000, 5 at (100 - 137.5)/2000 (the
    # September cohort has no spread): z = 0.375 / sqrt(0.00234375) = 7.746.
    assert alert.evidence["statistic"] == pytest.approx(0.375 / 0.00234375**0.5)
    assert alert.evidence["q_value"] == pytest.approx(alert.evidence["p_value"])
    assert "nrr_trending_down" not in found


def test_acv_up_while_nrr_down():
    # A: 30 accounts of 100; 10 leave in 2025-09. Won deals: three of 1,000 a quarter
    # in 2024Q3-2025Q2, three of 1,500 a quarter in 2025Q3-Q4 (+50%).
    rows = _flat("b", 20)
    for i in range(30):
        rows += series(f"a{i:02d}", "2023-01", [100.0] * (32 if i < 10 else 36))
    deals, k = [], 0
    for q in ("2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        amount = 1500.0 if q >= "2025Q3" else 1000.0
        for _ in range(3):
            deals.append(_deal(f"o{k}", f"a{k % 30:02d}", q, 30, amount=amount))
            k += 1
    ids = [(f"b{i:02d}", "B") for i in range(20)] + [(f"a{i:02d}", "A") for i in range(30)]
    found = _by_type(dataset(accounts(ids), mrr=monthly(rows), opps=opportunities(deals)))
    alert = found["acv_up_nrr_down"]["A"]
    ev = alert.evidence
    assert (ev["avg_deal_size_recent"], ev["avg_deal_size_base"]) == (1500, 1000)
    assert ev["increase"] == pytest.approx(0.5)
    # Trailing NRR at the end of 2025Q2 (June) 100%, at the end of 2025Q4 20/30.
    assert (ev["nrr_start"], ev["nrr_end"]) == pytest.approx((1.0, 20 / 30))
    # The test is the larger p of its two parts.
    assert ev["p_value"] == max(ev["deal_size_p_value"], ev["nrr_p_value"])
    assert ev["p_value"] < 0.01 and ev["q_value"] <= S.alpha
    assert alert.started == "2025Q3"
    assert [r["quarter"] for r in alert.series][-2:] == ["2025Q3", "2025Q4"]
    assert "B" not in found["acv_up_nrr_down"]
