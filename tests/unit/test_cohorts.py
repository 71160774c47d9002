"""Cohort curves by hand: quarterly cohorts whose accounts reach an age at different times."""

from __future__ import annotations

import pytest

from metrics.cohorts import cohort_curves, complete_ages
from metrics.model import MetricsError
from metrics.months import month_key
from tests.unit.builders import accounts, dataset, monthly, series


def cohort_ds():
    # p: first active 2024-01, gone in March and April, back at 80 in May.
    # q: first active 2024-03. Both are in cohort 2024Q1; the data ends 2024-05.
    rows = [*series("p", "2024-01", [100, 100, 0, 0, 80]), *series("q", "2024-03", [50, 60, 60])]
    return dataset(accounts([("p", "X"), ("q", "Y")]), mrr=monthly(rows))


def test_quarter_cohort_by_hand():
    cc = cohort_curves(cohort_ds(), month_key("2024-05"), "quarter")
    got = {r["age"]: r for r in cc.iter_rows(named=True)}
    assert set(cc.get_column("cohort")) == {"2024Q1"}
    assert sorted(got) == [0, 1, 2, 3, 4]
    assert [got[k]["accounts"] for k in range(5)] == [2, 2, 2, 1, 1]
    assert [got[k]["nrr"] for k in range(5)] == pytest.approx([1, 160 / 150, 60 / 150, 0, 0.8])
    assert [got[k]["grr"] for k in range(5)] == pytest.approx([1, 1, 50 / 150, 0, 0.8])
    assert [got[k]["logo_retention"] for k in range(5)] == pytest.approx([1, 1, 0.5, 0, 1])


def test_month_cohorts_and_segment_filter():
    cc = cohort_curves(cohort_ds(), month_key("2024-05"), "month")
    assert sorted(set(cc.get_column("cohort"))) == ["2024-01", "2024-03"]
    q = cc.filter(cohort="2024-03")
    assert q.get_column("age").to_list() == [0, 1, 2]
    assert q.get_column("nrr").to_list() == pytest.approx([1, 1.2, 1.2])
    only_y = cohort_curves(cohort_ds(), month_key("2024-05"), "year", filters={"vertical": ["Y"]})
    assert only_y.get_column("cohort").unique().to_list() == ["2024"]
    assert only_y.get_column("accounts").to_list() == [1, 1, 1]
    by = cohort_curves(cohort_ds(), month_key("2024-05"), "year", by=["vertical"])
    assert set(by.get_column("vertical")) == {"X", "Y"}


def test_as_of_cuts_the_curve():
    cc = cohort_curves(cohort_ds(), month_key("2024-03"), "quarter")
    assert cc.get_column("age").max() == 2
    assert cc.filter(age=0).get_column("accounts").item() == 2
    assert cc.filter(age=2).get_column("accounts").item() == 1


def test_bad_period_is_refused():
    with pytest.raises(MetricsError):
        cohort_curves(cohort_ds(), None, "week")


def test_complete_ages_keep_the_full_cohort_triangle():
    # 2024Q1 holds p (from 2024-01) and q (from 2024-03): with data to 2024-05 both have
    # reached ages 0-2; ages 3 and 4 count p alone (0% then 80%) and are left out.
    cc = cohort_curves(cohort_ds(), month_key("2024-05"), "quarter")
    full = complete_ages(cc)
    assert full.get_column("age").to_list() == [0, 1, 2]
    assert full.get_column("accounts").to_list() == [2, 2, 2]
    by_month = complete_ages(cohort_curves(cohort_ds(), month_key("2024-05"), "month"))
    # Monthly cohorts have one first month each: every age is complete.
    assert by_month.height == cohort_curves(cohort_ds(), month_key("2024-05"), "month").height
    by_segment = complete_ages(
        cohort_curves(cohort_ds(), month_key("2024-05"), "quarter", by=["vertical"]), ["vertical", "cohort"]
    )
    assert by_segment.filter(vertical="X").get_column("age").to_list() == [0, 1, 2, 3, 4]
    assert complete_ages(cc.clear()).height == 0
