"""Secondary metrics by hand: win rate, deal size, days to close, velocity, prospects, TAM."""

from __future__ import annotations

import pytest

from metrics.months import month_key
from metrics.secondary import secondary_by_quarter, secondary_metrics
from tests.unit.builders import accounts, dataset, monthly, opportunities, series


def sales_ds():
    accs = accounts([("a", "X"), ("b", "X"), ("p", "X"), ("q", "Y")])
    rows = [*series("a", "2024-01", [10] * 8), *series("b", "2024-01", [10] * 8)]
    opps = opportunities(
        [
            ("o1", "a", "new_business", "2024-03-01", "2024-04-10", "won", 1000),  # 40 days
            ("o2", "b", "new_business", "2024-04-01", "2024-05-01", "won", 3000),  # 30 days
            ("o3", "p", "new_business", "2024-04-01", "2024-05-20", "lost", 9999),
            ("o4", "a", "new_business", "2024-01-01", "2024-03-31", "won", 500),  # March: outside
            ("o5", "p", "new_business", "2024-06-01", None, "open", 700),  # open at June's end
            ("o6", "p", "new_business", "2024-05-01", "2024-08-15", "won", 800),  # open in June
            ("o7", "a", "expansion", "2024-04-01", "2024-05-01", "won", 5000),  # not new business
            ("o8", "q", "new_business", "2024-02-01", "2024-05-01", "lost", 100),
        ]
    )
    return dataset(accs, mrr=monthly(rows), opps=opps)


def test_secondary_metrics_by_hand():
    sec = secondary_metrics(sales_ds(), month_key("2024-06"), 3, by=["vertical"])
    x = sec.filter(vertical="X").row(0, named=True)
    assert (x["won"], x["lost"]) == (2, 1)
    assert x["win_rate"] == pytest.approx(2 / 3)
    assert x["avg_deal_size"] == 2000 and x["bookings"] == 4000
    assert x["days_to_close"] == 35
    assert (x["days_to_close_p25"], x["days_to_close_p75"]) == (32.5, 37.5)
    assert x["days_to_close_cv"] == pytest.approx((50**0.5) / 35)
    assert x["open_opportunities"] == 2
    assert x["sales_velocity"] == pytest.approx(2 * (2 / 3) * 2000 / 35)
    # p never had revenue: a prospect; TAM = average deal size x prospects.
    assert x["prospects"] == 1 and x["tam"] == 2000
    y = sec.filter(vertical="Y").row(0, named=True)
    assert (y["won"], y["lost"], y["win_rate"]) == (0, 1, 0.0)
    assert y["avg_deal_size"] is None and y["days_to_close"] is None and y["tam"] is None
    assert y["prospects"] == 1


def test_secondary_by_quarter():
    q = secondary_by_quarter(sales_ds(), month_key("2024-06"), quarters=2)
    assert q.get_column("quarter").to_list() == ["2024Q1", "2024Q2"]
    q1, q2 = q.row(0, named=True), q.row(1, named=True)
    assert (q1["won"], q1["lost"], q1["bookings"]) == (1, 0, 500)
    assert (q2["won"], q2["lost"]) == (2, 2)
    assert q2["days_to_close"] == 35
