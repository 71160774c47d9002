"""Month keys of day numbers: the day table, the binary-search fallback and nulls agree with
the calendar."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.months import DAY_TABLE_LIMIT, month_keys_of_days

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31))


def _days(values: list[dt.date | None]) -> pl.Series:
    return pl.Series("d", values, dtype=pl.Date).cast(pl.Int32)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(dates, st.none()), min_size=1, max_size=40))
def test_month_keys_match_the_calendar(values: list[dt.date | None]) -> None:
    got = month_keys_of_days(_days(values)).to_list()
    assert got == [None if d is None else d.year * 12 + d.month - 1 for d in values]


def test_month_edges_with_the_table_and_with_the_fallback() -> None:
    edges = [dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2024, 2, 29), dt.date(1969, 12, 31), None]
    expected = [2024 * 12, 2024 * 12 + 1, 2024 * 12 + 1, 1969 * 12 + 11, None]
    assert month_keys_of_days(_days(edges)).to_list() == expected
    # An open-ended date far away widens the span past the table: same answers.
    far = [*edges, dt.date(9999, 12, 31)]
    assert (far[-1] - far[0]).days >= DAY_TABLE_LIMIT
    assert month_keys_of_days(_days(far)).to_list() == [*expected, 9999 * 12 + 11]
    assert month_keys_of_days(_days([None, None])).to_list() == [None, None]
