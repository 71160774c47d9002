"""MRR snapshot: end dates inclusive, active on the month's last day, overlaps add up."""

from __future__ import annotations

import pytest

from metrics.model import MetricsError
from metrics.months import month_key, month_label
from tests.unit.builders import (
    accounts,
    dataset,
    monthly,
    opportunities,
    snapshot_dict,
    subscriptions,
)


def _ds():
    accs = accounts([("a", "X"), ("b", "X"), ("c", "Y"), ("z", "Y"), ("e", "Y")])
    subs = subscriptions(
        [
            # a: open subscription from mid-January plus an add-on March-April (ends on
            # April's last day, so April counts).
            ("s1", "a", "2024-01-15", None, 100),
            ("s2", "a", "2024-03-01", "2024-04-30", 50),
            # b: ends the day before February's last day (2024 is a leap year): January only.
            ("s3", "b", "2024-01-01", "2024-02-28", 10),
            # c: ends on February's last day: January and February.
            ("s4", "c", "2024-01-01", "2024-02-29", 20),
            # z: a zero-MRR subscription never makes the account active.
            ("s5", "z", "2024-01-01", None, 0),
            # e: starts and ends inside May, never active on a month's last day.
            ("s6", "e", "2024-05-02", "2024-05-30", 70),
        ]
    )
    opps = opportunities([("o1", "a", "new_business", "2024-01-01", "2024-06-30", "won", 1)])
    return dataset(accs, subs=subs, opps=opps)


def test_snapshot_from_subscriptions_by_hand():
    snap = snapshot_dict(_ds())
    expected = {
        ("a", "2024-01"): 100,
        ("a", "2024-02"): 100,
        ("a", "2024-03"): 150,
        ("a", "2024-04"): 150,
        ("a", "2024-05"): 100,
        ("a", "2024-06"): 100,
        ("b", "2024-01"): 10,
        ("c", "2024-01"): 20,
        ("c", "2024-02"): 20,
    }
    assert snap == expected


def test_data_end_and_default_as_of():
    ds = _ds()
    # The latest date is 2024-06-30, a month's last day: June is complete.
    assert month_label(ds.default_as_of) == "2024-06"
    assert month_label(ds.last_month) == "2024-06"
    firsts = dict(ds.accounts.select("account_id", "first_month").iter_rows())
    assert firsts["a"] == month_key("2024-01")
    assert firsts["z"] is None


def test_end_dates_do_not_extend_the_data():
    # A scheduled end date may lie in the future: the data ends at the latest start,
    # creation or close date, and open stretches stop there.
    accs = accounts([("a", "X")])
    subs = subscriptions([("s1", "a", "2024-01-01", "2030-12-31", 10)])
    opps = opportunities([("o1", "a", "new_business", "2024-01-01", "2024-02-29", "won", 1)])
    ds = dataset(accs, subs=subs, opps=opps)
    assert snapshot_dict(ds) == {("a", "2024-01"): 10, ("a", "2024-02"): 10}


def test_incomplete_last_month_is_not_the_default():
    accs = accounts([("a", "X")])
    subs = subscriptions([("s1", "a", "2024-01-01", None, 10)])
    opps = opportunities([("o1", "a", "new_business", "2024-01-01", "2024-06-15", "won", 1)])
    ds = dataset(accs, subs=subs, opps=opps)
    assert month_label(ds.default_as_of) == "2024-05"
    # Open subscriptions run to the data's last month, June.
    assert ("a", "2024-06") in snapshot_dict(ds)
    with pytest.raises(MetricsError):
        ds.as_of("2024-07")


def test_snapshot_from_monthly_rows():
    accs = accounts([("a", "X"), ("b", "X")])
    rows = monthly(
        [
            ("a", "2024-01", 10.5),
            ("a", "2024-02", 0),  # a zero row: not active
            ("a", "2024-03", 12.25),
            ("b", "2024-03", 5),
            ("b", "2024-03", 5),  # the same row uploaded twice
        ]
    )
    ds = dataset(accs, mrr=rows)
    assert snapshot_dict(ds) == {
        ("a", "2024-01"): 10.5,
        ("a", "2024-03"): 12.25,
        ("b", "2024-03"): 5,
    }
    assert month_label(ds.default_as_of) == "2024-03"


def test_duplicate_subscription_rows_count_once():
    accs = accounts([("a", "X")])
    row = ("s1", "a", "2024-01-01", "2024-03-31", 40)
    opps = opportunities([("o1", "a", "new_business", "2024-01-01", "2024-05-31", "won", 1)])
    once = dataset(accs, subs=subscriptions([row]), opps=opps)
    twice = dataset(accs, subs=subscriptions([row, row]), opps=opps)
    assert (
        snapshot_dict(once)
        == snapshot_dict(twice)
        == {
            ("a", "2024-01"): 40,
            ("a", "2024-02"): 40,
            ("a", "2024-03"): 40,
        }
    )
