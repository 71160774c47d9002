"""Targets page: the list ranked by expected value, exported as data for ABM."""

from __future__ import annotations

import io
import re

import polars as pl
from playwright.sync_api import expect

from tests.e2e.conftest import grid_column, open_page, shoot

TARGET_KEYS = [
    "account_id", "account_name", "vertical", "sub_industry", "segment", "tier", "clv",
    "win_rate", "expected_value", "fit_score", "pocket", "open_opportunity",
]


def test_the_target_list_downloads_as_numbers_in_the_order_shown(page) -> None:
    open_page(page, "/targets")
    title = page.locator(".section-title", has_text="target account")
    expect(title).to_contain_text(re.compile(r"^[\d,]+ target accounts as of \d{4}-\d{2}"))
    count = int(title.inner_text().split(" ", 1)[0].replace(",", ""))
    shown = grid_column(page, "tgt-grid", "account_name")
    assert len(shown) == 50  # one page of the grid
    shoot(page, "targets")

    with page.expect_download() as download:
        page.click("#tgt-download-button")
    assert download.value.suggested_filename.startswith("icp-targets-")
    text = download.value.path().read_bytes().decode()
    assert text.startswith("# targets: as of ")
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    assert frame.columns == TARGET_KEYS and frame.height == count
    for key in ("clv", "win_rate", "expected_value", "fit_score"):
        assert frame.schema[key].is_numeric(), key
    assert frame.schema["open_opportunity"] == pl.Boolean
    # Ranked by expected value, highest first, as the grid shows them.
    values = frame["expected_value"].drop_nulls()
    assert values.to_list() == values.sort(descending=True).to_list()
    assert frame["account_name"].head(50).to_list() == shown
    assert frame["fit_score"].max() <= 100 and frame["fit_score"].min() >= 0
    assert frame["account_id"].n_unique() == frame.height
