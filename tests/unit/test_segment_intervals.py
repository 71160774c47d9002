"""A segment's NRR and CLV intervals depend on its accounts only (METRICS.md, Evidence):
the same accounts reached through any grouping or filter give identical bounds."""

from __future__ import annotations

import polars as pl
import pytest

from metrics.months import month_key
from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings
from metrics.stats import LARGE_SEGMENT
from tests.unit.builders import accounts, dataset, subscriptions

BOUNDS = ("nrr_low", "nrr_high", "clv_low", "clv_high")
SETTINGS = MetricSettings(min_accounts=1, bootstrap_samples=300)


@pytest.fixture(scope="module")
def ds():
    """One vertical above ``LARGE_SEGMENT`` accounts (fast paths), one far below (bootstrap)."""
    n = LARGE_SEGMENT + 250
    accs, subs = [], []
    for i in range(n):
        vertical = "Big" if i < LARGE_SEGMENT + 150 else "Small"
        accs.append((f"a{i:04d}", vertical, None, ("SMB", "Mid-Market", "Enterprise")[i % 3]))
        year, month = divmod(2018 * 12 + i % 36, 12)
        start = f"{year}-{month + 1:02d}-01"
        end = None if i % 5 else f"{2021 + i % 3}-0{1 + i % 9}-28"
        subs.append((f"s{i}", f"a{i:04d}", start, end, 100 + (i * 37) % 900))
        if i % 4 == 0:  # expansion a year later
            subs.append((f"x{i}", f"a{i:04d}", f"{year + 1}-{month + 1:02d}-01", None, 50))
    return dataset(accounts(accs), subscriptions(subs))


def _bounds(frame: pl.DataFrame, **where: str) -> tuple:
    row = frame.filter(**where).row(0, named=True) if where else frame.row(0, named=True)
    return tuple(row[k] for k in BOUNDS)


@pytest.mark.parametrize("vertical", ["Big", "Small"])
def test_a_vertical_has_one_interval_whichever_view_reaches_it(ds, vertical):
    by_vertical = segment_scorecard(ds, SETTINGS, month_key("2021-09"), 12, by=["vertical"])
    filtered = segment_scorecard(
        ds, SETTINGS, month_key("2021-09"), 12, by=(), filters={"vertical": [vertical]}
    )
    with_rest = segment_scorecard(
        ds, SETTINGS, month_key("2021-09"), 12, by=["vertical"], filters={"vertical": ["Big", "Small"]}
    )
    expected = _bounds(by_vertical, vertical=vertical)
    assert None not in expected
    assert _bounds(filtered) == expected
    assert _bounds(with_rest, vertical=vertical) == expected


def test_a_cell_has_one_interval_under_either_grouping(ds):
    two = segment_scorecard(
        ds, SETTINGS, month_key("2021-09"), 12, by=["vertical", "size_band"], filters={"vertical": ["Big"]}
    )
    one = segment_scorecard(
        ds, SETTINGS, month_key("2021-09"), 12, by=["size_band"], filters={"vertical": ["Big"]}
    )
    for band in ("SMB", "Enterprise"):
        assert _bounds(two, size_band=band) == _bounds(one, size_band=band)


def test_two_runs_give_identical_intervals(ds):
    first = segment_scorecard(ds, SETTINGS, month_key("2021-09"), 12, by=["vertical"])
    again = segment_scorecard(ds, SETTINGS, month_key("2021-09"), 12, by=["vertical"])
    assert first.select(BOUNDS).rows() == again.select(BOUNDS).rows()


def test_intervals_bracket_the_estimates(ds):
    sc = segment_scorecard(ds, SETTINGS, month_key("2021-09"), 12, by=["vertical"])
    for row in sc.iter_rows(named=True):
        assert row["nrr_low"] <= row["nrr"] <= row["nrr_high"]
        assert row["clv_low"] <= row["clv"] <= row["clv_high"]
