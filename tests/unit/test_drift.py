"""ICP drift alerts: one small planted scenario per alert type, plus quiet controls."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.drift import ALERT_TYPES, drift_alerts
from metrics.months import month_key
from metrics.settings import MetricSettings
from tests.unit.builders import accounts, dataset, monthly, opportunities, series

S = MetricSettings()
AS_OF = month_key("2025-12")  # last complete quarter 2025Q4; recent = 2025Q3-Q4, base = 2024Q3-2025Q2
QUARTER_MIDDLES = {
    "2024Q3": "2024-08-15",
    "2024Q4": "2024-11-15",
    "2025Q1": "2025-02-15",
    "2025Q2": "2025-05-15",
    "2025Q3": "2025-08-15",
    "2025Q4": "2025-11-15",
}


def _deal(oid, account, quarter, days, status="won", amount=1000.0):
    close = dt.date.fromisoformat(QUARTER_MIDDLES[quarter])
    created = close - dt.timedelta(days=days)
    return (oid, account, "new_business", created.isoformat(), close.isoformat(), status, amount)


def _flat(prefix, n, first="2023-01", months=36, mrr=100.0):
    return [row for i in range(n) for row in series(f"{prefix}{i:02d}", first, [mrr] * months)]


def _alerts(ds, settings=S):
    """Raised and possible alerts by vertical, as the JSON reports carry them."""
    return [a.to_dict() for a in drift_alerts(ds, settings, AS_OF, 12, by=["vertical"])]


def _types(alerts, label):
    return {a["type"] for a in alerts if a["segment_label"] == label}


def test_sales_cycle_lengthening_and_win_rate_trap():
    # X keeps its revenue but its deals now take 60 days instead of 30.
    # Y loses a quarter of its logos yet wins far more often than the company.
    rows = _flat("x", 12)
    for i in range(12):
        rows += series(f"y{i:02d}", "2023-01", [100.0] * (30 if i < 3 else 36))
    accs = accounts(
        [(f"x{i:02d}", "X") for i in range(12)] + [(f"y{i:02d}", "Y") for i in range(12)]
    )
    deals, k = [], 0
    for q in ("2024Q3", "2024Q4", "2025Q1", "2025Q2"):
        for _ in range(2):
            deals.append(_deal(f"o{k}", "x00", q, 30))
            k += 1
    for q in ("2025Q3", "2025Q4"):
        for _ in range(3):
            deals.append(_deal(f"o{k}", "x01", q, 60))
            k += 1
    for _ in range(30):
        deals.append(_deal(f"o{k}", "x02", "2025Q4", 45, "lost"))
        k += 1
    for i in range(10):
        deals.append(_deal(f"o{k}", "y00", ("2025Q3", "2025Q4")[i % 2], 30))
        k += 1
    for _ in range(2):
        deals.append(_deal(f"o{k}", "y01", "2025Q4", 30, "lost"))
        k += 1
    ds = dataset(accs, mrr=monthly(rows), opps=opportunities(deals))
    alerts = _alerts(ds)
    assert _types(alerts, "X") == {"sales_cycle_lengthening"}
    cycle = next(a for a in alerts if a["type"] == "sales_cycle_lengthening")
    ev = cycle["evidence"]
    assert (ev["days_to_close_recent"], ev["days_to_close_base"]) == (60, 30)
    assert ev["increase"] == pytest.approx(1.0)
    assert ev["p_value"] < 0.001 and "Mann-Whitney" in ev["test"]
    assert cycle["started"] == "2025Q3"
    assert [r["quarter"] for r in cycle["series"]][-2:] == ["2025Q3", "2025Q4"]
    assert "Y" in {a["segment_label"] for a in alerts if a["type"] == "win_rate_trap"}
    trap = next(a for a in alerts if a["type"] == "win_rate_trap")
    assert trap["evidence"]["win_rate"] == pytest.approx(10 / 12)
    # Window 2025-01..2025-12: X won 2+2+3+3 and lost 30, Y won 10 and lost 2.
    assert trap["evidence"]["company_win_rate"] == pytest.approx(20 / 52)
    assert trap["evidence"]["tier"] == "accidental_icp"


def test_nrr_trending_down_and_contraction_rising():
    # Z: one account cuts 10 in each of 2024Q4-2025Q3, then 100 is cut in 2025Q4.
    rows = _flat("w", 10)
    cuts = {0: "2024-10", 1: "2025-01", 2: "2025-04", 3: "2025-07"}
    for i in range(10):
        values = [100.0] * 36
        if i in cuts:
            start = (int(cuts[i][:4]) - 2023) * 12 + int(cuts[i][5:]) - 1
            values[start:] = [90.0] * (36 - start)
        rows += series(f"z{i:02d}", "2023-01", values)
    fourth = {4: "2025-10", 5: "2025-10", 6: "2025-10", 7: "2025-11", 8: "2025-12"}
    rows = [
        r
        for r in rows
        if not (r[0] in {f"z{i:02d}" for i in fourth} and r[1] >= fourth[int(r[0][1:])])
    ]
    rows += [
        (f"z{i:02d}", m, 80.0)
        for i, first in fourth.items()
        for m in ("2025-10", "2025-11", "2025-12")
        if m >= first
    ]
    accs = accounts(
        [(f"w{i:02d}", "W") for i in range(10)] + [(f"z{i:02d}", "Z") for i in range(10)]
    )
    ds = dataset(accs, mrr=monthly(rows))
    alerts = _alerts(ds)
    assert _types(alerts, "W") == set()
    assert {"nrr_trending_down", "contraction_rising"} <= _types(alerts, "Z")
    trend = next(a for a in alerts if a["type"] == "nrr_trending_down")
    # Trailing NRR: Sep 960/1000, Oct 900/990, Nov 880/990, Dec 860/990.
    assert list(trend["evidence"]["nrr"].values()) == pytest.approx(
        [0.96, 900 / 990, 880 / 990, 860 / 990]
    )
    assert trend["started"] == "2025-10"
    contraction = next(a for a in alerts if a["type"] == "contraction_rising")
    ev = contraction["evidence"]
    assert ev["contraction_rate"] == pytest.approx(100 / 960)
    assert ev["average_rate"] == pytest.approx((10 / 1000 + 10 / 990 + 10 / 980 + 10 / 970) / 4)
    assert contraction["started"] == "2025Q4"
    # One cut a quarter before, five account-months cut in 2025Q4: Poisson p = P(X >= 5 | 1).
    assert ev["contractions_last_quarter"] == 5 and ev["contractions_average"] == 1
    assert ev["p_value"] == pytest.approx(0.00365985, rel=1e-4)


def test_recent_cohorts_retaining_worse():
    rows = []
    for i in range(20):  # the installed base, one new account a month from 2023-01
        rows += series(f"v{i:02d}", f"{2023 + i // 12}-{i % 12 + 1:02d}", [100.0] * (36 - i))
    for i, first in enumerate(["2025-01"] * 4 + ["2025-04"] * 4 + ["2025-07"] * 4):
        rows += series(f"r{i:02d}", first, [100.0, 100.0])  # cancel during onboarding
    ids = [f"v{i:02d}" for i in range(20)] + [f"r{i:02d}" for i in range(12)]
    ds = dataset(accounts([(x, "V") for x in ids]), mrr=monthly(rows))
    alerts = _alerts(ds)
    recent = [a for a in alerts if a["type"] == "recent_cohorts_worse"]
    assert len(recent) == 1
    ev = recent[0]["evidence"]
    assert ev["logo_retention_recent_6m"] == 0 and ev["logo_retention_base_6m"] == 1
    assert ev["logo_retention_recent_3m"] == 0
    assert ev["logo_retention_base_3m"] == pytest.approx(20 / 24)
    assert ev["recent_cohorts"] == ["2025Q1", "2025Q2"]
    assert ev["p_value"] < 0.001 and "Fisher" in ev["test"]
    assert recent[0]["started"] == "2025Q1"
    groups = {r["group"] for r in recent[0]["series"]}
    assert groups == {"recent", "base"}
    # The chart's recent curve is the cohorts of the sentence (2025Q1-Q2: 8 accounts).
    curve = [r for r in recent[0]["series"] if r["group"] == "recent"]
    assert curve[0]["age"] == 0 and curve[0]["accounts"] == ev["accounts_recent_6m"] == 8
    # All eight have reached 6 months (2025Q3's accounts, 5 months old, are not in it).
    assert max(r["age"] for r in curve if r["accounts"] == 8) >= 6


def _mix(per_quarter):
    """C grows 30% over the year (Core ICP); O is flat. C's share of bookings falls
    from 80% to 60% to 40% over the last three quarters, ``per_quarter`` deals of 100
    a quarter."""
    rows = _flat("o", 10)
    for i in range(10):
        rows += series(
            f"c{i:02d}", "2023-01", [100.0] * 24 + [100.0 + 2.5 * k for k in range(1, 13)]
        )
    accs = accounts(
        [(f"o{i:02d}", "O") for i in range(10)] + [(f"c{i:02d}", "C") for i in range(10)]
    )
    deals = []
    for q, share in (("2025Q2", 0.8), ("2025Q3", 0.6), ("2025Q4", 0.4)):
        core = round(per_quarter * share)
        for i in range(per_quarter):
            deals.append(_deal(f"{q}-{i}", "c00" if i < core else "o00", q, 30, amount=100))
    ds = dataset(accs, mrr=monthly(rows), opps=opportunities(deals))
    return [a for a in _alerts(ds) if a["type"] == "bookings_mix_off_icp"]


def test_bookings_mix_moving_off_icp():
    mix = _mix(20)
    assert len(mix) == 1
    ev = mix[0]["evidence"]
    assert ev["core_segments"] == ["C"]
    assert list(ev["core_share"].values()) == pytest.approx([0.8, 0.6, 0.4])
    assert mix[0]["started"] == "2025Q3"
    assert "40%" in mix[0]["explanation"]
    # Delta method over the 20 deals of 2025Q2 and of 2025Q4 (amounts 100, total 2000):
    # phi = (core*100 - R*100)/2000 per deal: 16 x 0.01 and 4 x -0.04, then 8 x 0.03 and
    # 12 x -0.02: var = 0.008 + 0.012 = 0.02, z = (0.4 - 0.8) / sqrt(0.02) = -2.828.
    assert ev["statistic"] == pytest.approx(-0.4 / 0.02**0.5)
    assert ev["p_value"] == pytest.approx(0.0023389, rel=1e-3)
    assert ev["q_value"] == ev["p_value"]  # one company-level test


def test_bookings_mix_from_five_deals_a_quarter_is_not_raised():
    # The same shares from 5 deals a quarter: var = 0.032 + 0.048, z = -1.414, p = 0.079.
    assert _mix(5) == []


def test_every_alert_type_is_known():
    assert len(ALERT_TYPES) == 11
    assert ALERT_TYPES[6:] == (
        "grr_warning",
        "masked_churn",
        "pricing_signal",
        "acv_up_nrr_down",
        "rising_segment",
    )


def test_p_values_read_as_people_write_them():
    from metrics.stats import p_text

    assert p_text(0.0004) == "p < 0.001"
    assert p_text(0.001) == "p = 0.001"
    assert p_text(0.0321) == "p = 0.032"
