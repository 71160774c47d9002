"""The pure helpers the pages share: number formatting, CSV safety, URL state.

They live beside the browser tests because they are the dashboard's own code
(tests/unit is the metrics layer's); none of them needs the server.
"""

from __future__ import annotations

import csv
import io

import pytest

from app.components import formatting as fmt
from app.components import urlstate
from app.components.csv_export import safe_cell, to_csv
from app.components.definitions import DEFINITIONS


@pytest.mark.parametrize(
    ("value", "text"),
    [(1_234_567, "$1.2M"), (12_345_678, "$12M"), (999, "$999"), (48_000, "$48K"),
     (3_400_000_000, "$3.4B"), (1_000_000, "$1M"), (-2_500, "-$2.5K"), (None, "—")],
)
def test_money_is_short_and_readable(value, text) -> None:
    assert fmt.money(value) == text


def test_percent_days_multiples_and_intervals() -> None:
    assert fmt.pct(1.07) == "107%"
    assert fmt.pct(0.905, 1) == "90.5%"
    assert fmt.days(63.6) == "64 days"
    assert fmt.days(1) == "1 day"
    assert fmt.multiple(3.14) == "3.1×"
    assert fmt.count(1234.4) == "1,234"
    assert fmt.interval(0.98, 1.17) == "98%–117%"
    assert fmt.interval(None, 1.1) == "—"
    assert fmt.pct(float("nan")) == "—"
    assert fmt.plural(1, "row") == "1 row"
    assert fmt.plural(1204, "problem") == "1,204 problems"


@pytest.mark.parametrize("dangerous", ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_a_spreadsheet_would_run_are_quoted(dangerous) -> None:
    assert safe_cell(dangerous) == "'" + dangerous
    rows = list(csv.reader(io.StringIO(to_csv(["h"], [[dangerous]]), newline="")))
    assert rows[1][0] == "'" + dangerous


def test_plain_cells_and_commas_survive_the_csv() -> None:
    text = to_csv(["Segment", "NRR"], [["Retail, Online", "81%"], [None, "$1.2M"]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["Segment", "NRR"], ["Retail, Online", "81%"], ["", "$1.2M"]
    ]


def test_url_state_is_parsed_strictly_and_written_canonically() -> None:
    assert urlstate.as_of({"as_of": "2025-12"}) == "2025-12"
    with pytest.raises(urlstate.BadParameter, match="as_of='2025-13'"):
        urlstate.as_of({"as_of": "2025-13"})
    with pytest.raises(urlstate.BadParameter, match="window='abc'"):
        urlstate.window({"window": "abc"})
    with pytest.raises(urlstate.BadParameter, match="by='color'"):
        urlstate.dimension({"by": "color"})
    assert urlstate.segment_filters({"vertical": "Retail & E-commerce", "x": "y"}) == {
        "vertical": ["Retail & E-commerce"]
    }
    assert urlstate.search({"vertical": "Financial Services", "as_of": "2025-12", "window": None}) == (
        "?vertical=Financial%20Services&as_of=2025-12"
    )


def test_every_metric_the_scorecard_names_has_a_definition() -> None:
    shown = ("arr", "nrr", "grr", "logo_retention", "clv", "quick_ratio", "win_rate",
             "avg_deal_size", "days_to_close", "accounts", "tam", "tier")
    for key in shown:
        display, text = DEFINITIONS[key]
        assert display and len(text) > 20, key
