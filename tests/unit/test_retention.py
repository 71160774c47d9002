"""Window retention: NRR, GRR, logo retention, ARPA and the decomposition, by hand."""

from __future__ import annotations

import pytest

from metrics.months import month_key
from metrics.retention import nrr_decomposition, trailing_nrr, window_retention
from tests.unit.builders import accounts, dataset, monthly, series
from tests.unit.test_movements import movements_ds


def test_window_retention_with_reactivation_inside_the_window():
    # Window 3 at 2024-06 starts from 2024-03: X = a (90) and b (30), Y = c (40).
    # a churns in April and comes back at 50 in June: it counts by its June MRR.
    wr = window_retention(movements_ds(), month_key("2024-06"), 3, by=["vertical"])
    x = wr.filter(vertical="X").row(0, named=True)
    y = wr.filter(vertical="Y").row(0, named=True)
    assert x["accounts"] == 2 and x["retained"] == 1
    assert x["starting_mrr"] == 120 and x["ending_mrr"] == 50
    assert x["nrr"] == pytest.approx(50 / 120)
    assert x["grr"] == pytest.approx(50 / 120)
    assert x["logo_retention"] == 0.5
    assert (x["expansion"], x["contraction"], x["churned"]) == (0, 40, 30)
    assert x["active_accounts"] == 1 and x["arpa"] == 50
    assert (y["nrr"], y["grr"], y["logo_retention"], y["arpa"]) == (1.0, 1.0, 1.0, 40)


def test_company_retention():
    row = window_retention(movements_ds(), month_key("2024-06"), 3).row(0, named=True)
    assert row["accounts"] == 3
    assert row["nrr"] == pytest.approx(90 / 160)
    assert row["grr"] == pytest.approx(90 / 160)
    assert row["logo_retention"] == pytest.approx(2 / 3)
    assert row["arpa"] == pytest.approx(90 / 2)


def test_grr_caps_expansion_and_decomposition_adds_up():
    rows = [
        *series("a", "2024-01", [100, 100, 100, 100, 100, 180]),  # expands 80
        *series("b", "2024-01", [50, 50, 50, 50, 50, 20]),  # contracts 30
        *series("c", "2024-01", [40, 40, 40]),  # churns 40
        *series("d", "2024-03", [10, 10, 10, 10]),  # not in the starting cohort of 2024-01
    ]
    ds = dataset(accounts([("a", "X"), ("b", "X"), ("c", "X"), ("d", "X")]), mrr=monthly(rows))
    row = window_retention(ds, month_key("2024-06"), 5).row(0, named=True)
    assert row["accounts"] == 3
    assert row["nrr"] == pytest.approx(200 / 190)
    assert row["grr"] == pytest.approx((100 + 20) / 190)
    dec = nrr_decomposition(ds, month_key("2024-06"), 5).row(0, named=True)
    assert (dec["expansion"], dec["contraction"], dec["churned"]) == (80, 30, 40)
    assert 1 + dec["expansion_rate"] - dec["contraction_rate"] - dec["churn_rate"] == pytest.approx(
        dec["nrr"]
    )


def test_empty_starting_cohort_is_undefined_not_zero():
    ds = dataset(accounts([("a", "X"), ("b", "Y")]), mrr=monthly(series("a", "2024-01", [5, 5])))
    wr = window_retention(ds, month_key("2024-02"), 1, by=["vertical"])
    y = wr.filter(vertical="Y").row(0, named=True)
    assert (
        y["accounts"] == 0 and y["nrr"] is None and y["grr"] is None and y["logo_retention"] is None
    )


def test_trailing_nrr_month_by_month():
    rows = [*series("a", "2024-01", [100, 100, 90, 80]), *series("b", "2024-01", [100, 100, 100])]
    ds = dataset(accounts([("a", "X"), ("b", "X")]), mrr=monthly(rows))
    tr = trailing_nrr(ds, month_key("2024-04"), window=1, months=3)
    assert tr.get_column("month").to_list() == ["2024-02", "2024-03", "2024-04"]
    assert tr.get_column("nrr").to_list() == pytest.approx([1.0, 190 / 200, 80 / 190])


def test_filters_keep_only_matching_accounts():
    ds = movements_ds()
    only_x = window_retention(ds, month_key("2024-06"), 3, filters={"vertical": ["X"]}).row(0, named=True)
    assert only_x["accounts"] == 2 and only_x["nrr"] == pytest.approx(50 / 120)
    by = window_retention(ds, month_key("2024-06"), 3, by=["vertical"], filters={"vertical": ["Y"]})
    assert by.get_column("vertical").to_list() == ["Y"]
