"""MRR movements per month, by hand: new, reactivation, expansion, contraction, churn."""

from __future__ import annotations

import pytest

from metrics.months import month_key
from metrics.movements import mrr_movements
from tests.unit.builders import accounts, dataset, monthly, series


def movements_ds():
    """a: new, expands, contracts, churns, comes back; b: churns; c: zero row then new."""
    rows = [
        *series("a", "2024-01", [100, 120, 90, 0, 0, 50]),
        *series("b", "2024-02", [30, 30, 30]),
        ("c", "2024-01", 0),
        *series("c", "2024-03", [40, 40, 40, 40]),
    ]
    accs = accounts([("a", "X"), ("b", "X"), ("c", "Y")])
    return dataset(accs, mrr=monthly(rows))


EXPECTED = {
    # month: starting, new, reactivation, expansion, contraction, churn, ending, quick ratio
    "2024-01": (0, 100, 0, 0, 0, 0, 100, None),
    "2024-02": (100, 30, 0, 20, 0, 0, 150, None),
    "2024-03": (150, 40, 0, 0, 30, 0, 160, 40 / 30),
    "2024-04": (160, 0, 0, 0, 0, 90, 70, 0.0),
    "2024-05": (70, 0, 0, 0, 0, 30, 40, 0.0),
    "2024-06": (40, 0, 50, 0, 0, 0, 90, None),
}
COLS = (
    "starting_mrr",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "ending_mrr",
    "quick_ratio",
)


def test_movements_by_hand():
    ds = movements_ds()
    mov = mrr_movements(ds, ds.default_as_of)
    got = {r["month"]: tuple(r[c] for c in COLS) for r in mov.iter_rows(named=True)}
    assert list(got) == list(EXPECTED)
    for month, row in EXPECTED.items():
        for col, want, value in zip(COLS, row, got[month], strict=True):
            if want is None:
                assert value is None, (month, col)
            else:
                assert value == pytest.approx(want), (month, col)


def test_movements_per_segment_and_start():
    mov = mrr_movements(
        movements_ds(), month_key("2024-05"), by=["vertical"], start=month_key("2024-03")
    )
    x = {r["month"]: r for r in mov.filter(vertical="X").iter_rows(named=True)}
    y = {r["month"]: r for r in mov.filter(vertical="Y").iter_rows(named=True)}
    assert list(x) == ["2024-03", "2024-04", "2024-05"]
    assert x["2024-03"]["starting_mrr"] == 150 and x["2024-03"]["ending_mrr"] == 120
    assert x["2024-04"]["churn"] == 90 and x["2024-05"]["churn"] == 30
    assert y["2024-03"]["new"] == 40 and y["2024-04"]["starting_mrr"] == 40


def test_identity_holds_to_the_cent():
    rows = [*series("a", "2024-01", [10.01, 10.02, 0, 9.99]), *series("b", "2024-02", [0.03, 0.01])]
    ds = dataset(accounts([("a", "X"), ("b", "X")]), mrr=monthly(rows))
    mov = mrr_movements(ds, ds.default_as_of)
    for r in mov.iter_rows(named=True):
        moved = r["starting_mrr"] + r["new"] + r["reactivation"] + r["expansion"]
        moved -= r["contraction"] + r["churn"]
        assert round(moved * 100) == round(r["ending_mrr"] * 100)
