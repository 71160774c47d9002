"""Numeric custom attributes banded in the settings (DATA_FORMAT.md, "Custom attributes")."""

from __future__ import annotations

import bisect

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from metrics.attributes import UNSPECIFIED, band_labels, banded, bounds_text, parse_bounds
from metrics.model import prepare_accounts
from metrics.settings import MetricSettings


def test_bands_are_named_lowest_first_with_readable_bounds() -> None:
    assert band_labels([10, 50]) == ["< 10", "10–50", "≥ 50"]
    assert band_labels([2.5]) == ["< 2.5", "≥ 2.5"]
    assert band_labels([1000, 250000.5]) == ["< 1,000", "1,000–250,000.5", "≥ 250,000.5"]


def test_a_band_holds_its_lower_bound_and_empty_is_unspecified() -> None:
    values = pl.DataFrame({"seats": [None, 9.99, 10.0, 49.0, 50.0, -4.0]})
    out = values.select(banded("seats", [10, 50])).to_series().to_list()
    assert out == [UNSPECIFIED, "< 10", "10–50", "10–50", "≥ 50", "< 10"]


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6, unique=True),
    st.lists(st.floats(-2e6, 2e6), min_size=1, max_size=30),
)
def test_each_value_lands_in_the_band_of_the_bounds_at_or_below_it(bounds, values) -> None:
    bounds = sorted(bounds)
    labels = band_labels(bounds)
    out = pl.DataFrame({"x": values}).select(banded("x", bounds)).to_series().to_list()
    assert out == [labels[bisect.bisect_right(bounds, v)] for v in values]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ({"seats": [50, 10]}, "seats: bounds must be in ascending order, each once"),
        ({"seats": [10, 10]}, "seats: bounds must be in ascending order, each once"),
        ({"seats": []}, "seats: give between 1 and 19 bounds"),
        ({"seats": list(range(20))}, "seats: give between 1 and 19 bounds"),
        ({"seats": [1, float("inf")]}, "seats: every bound must be a finite number"),
    ],
)
def test_bounds_that_make_no_bands_are_refused(bands, message) -> None:
    with pytest.raises(ValidationError, match=message):
        MetricSettings(attribute_bands=bands)


def test_bounds_typed_in_a_field_are_read_or_named_when_wrong() -> None:
    assert parse_bounds(" 10, 50;200  1e3 ") == [10.0, 50.0, 200.0, 1000.0]
    assert parse_bounds("") == [] and parse_bounds(None) == []
    with pytest.raises(ValueError, match="'1O' is not a number"):
        parse_bounds("5, 1O")


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=19))
def test_bounds_shown_in_their_field_read_back_exactly(bounds) -> None:
    assert parse_bounds(bounds_text(bounds)) == [float(b) for b in bounds]


def test_only_numeric_attributes_are_banded_and_a_column_of_the_name_is_kept() -> None:
    accounts = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "vertical": ["X", "Y"],
            "seats": [5.0, 80.0],
            "plan": ["Pro", "Basic"],
            "arr_band": ["big", "small"],
            "arr": [1.0, 2.0],
        }
    )
    settings = MetricSettings(attribute_bands={"seats": [10], "plan": [1], "arr": [1.5]})
    out = prepare_accounts(accounts, settings)
    assert out.get_column("seats_band").to_list() == ["< 10", "≥ 10"]
    assert "plan_band" not in out.columns
    # The file's own arr_band column wins over the bands of arr.
    assert out.get_column("arr_band").to_list() == ["big", "small"]
