"""Scorecard state lives in the URL: drill down and back, share a link, download the table."""

from __future__ import annotations

import io
import re

import polars as pl
from playwright.sync_api import expect

from tests.e2e.conftest import at_least, grid_column, open_page, settle, shoot

SUB_INDUSTRY_VIEW = re.compile(r"/\?vertical=Financial%20Services&as_of=\d{4}-\d{2}&window=12$")
VERTICAL_VIEW = re.compile(r"/\?by=vertical&as_of=\d{4}-\d{2}&window=12$")


def _click_segment(page, name: str) -> None:
    page.locator("#sc-grid .ag-row [col-id='segment']", has_text=name).first.click()


def test_drill_into_a_vertical_and_back_with_the_url_following(page) -> None:
    open_page(page, "/")
    _click_segment(page, "Financial Services")
    expect(page).to_have_url(SUB_INDUSTRY_VIEW)
    settle(page)
    assert grid_column(page, "sc-grid", "segment")[0] == "Credit Unions"
    expect(page.locator("#sc-crumb")).to_contain_text("Financial Services")
    expect(page.locator("#sc-back")).to_be_visible()
    expect(page.locator("#sc-map")).to_contain_text("sub-industry")

    page.click("#sc-back")
    expect(page).to_have_url(VERTICAL_VIEW)
    settle(page)
    assert "Retail & E-commerce" in grid_column(page, "sc-grid", "segment")
    expect(page.locator("#sc-back")).to_be_hidden()

    # The browser's back button returns to the drilled view, rebuilt from the URL.
    page.go_back()
    expect(page).to_have_url(SUB_INDUSTRY_VIEW)
    settle(page)
    assert grid_column(page, "sc-grid", "segment")[0] == "Credit Unions"


def test_a_shared_link_reproduces_the_view(page, admin_context) -> None:
    open_page(page, "/")
    page.locator("#sc-by").click()
    page.get_by_role("option", name="Size band").click()
    expect(page).to_have_url(re.compile(r"/\?by=size_band&as_of=\d{4}-\d{2}&window=12$"))
    settle(page)
    shared = page.url
    rows = grid_column(page, "sc-grid", "segment")
    nrr = grid_column(page, "sc-grid", "nrr")
    assert set(rows) >= {"SMB", "Mid-Market", "Enterprise"}

    other = admin_context.new_page()
    open_page(other, shared)
    assert grid_column(other, "sc-grid", "segment") == rows
    assert grid_column(other, "sc-grid", "nrr") == nrr
    expect(other.locator("#sc-by")).to_contain_text("Size band")
    expect(other.locator("#sc-crumb")).to_contain_text("size band")
    other.close()


def test_clicking_a_sub_industry_opens_its_segment_page(page) -> None:
    open_page(page, "/?vertical=Financial%20Services")
    _click_segment(page, "Credit Unions")
    expect(page).to_have_url(re.compile(r"/segment\?vertical=Financial%20Services&sub_industry=Credit%20Unions"))
    settle(page)
    expect(page.locator(".page-title")).to_contain_text("Credit Unions")


def test_a_bubble_of_the_icp_map_drills_down(page) -> None:
    open_page(page, "/")
    at_least(page.locator("#sc-map .scatterlayer .point"), 7)
    traces = page.locator("#sc-map .scatterlayer .trace")
    for t in range(traces.count()):
        labels = [x.strip() for x in traces.nth(t).locator(".textpoint").all_text_contents()]
        if "Financial Services" in labels:
            bubble = traces.nth(t).locator(".point").nth(labels.index("Financial Services"))
            bubble.click(force=True)
            break
    else:
        raise AssertionError("no Financial Services bubble on the ICP map")
    expect(page).to_have_url(SUB_INDUSTRY_VIEW)


def test_csv_download_is_the_view_as_data(page) -> None:
    open_page(page, "/?vertical=Financial%20Services")
    with page.expect_download() as download:
        page.click("#sc-download-button")
    name = download.value.suggested_filename
    assert name.startswith("icp-scorecard-") and "financial-services" in name
    text = download.value.path().read_bytes().decode()
    first, _rest = text.split("\r\n", 1)
    assert first.startswith("# scorecard: as of ") and "vertical = Financial Services" in first
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    assert frame.columns[:3] == ["sub_industry", "accounts", "nrr"]
    # Numbers are numbers: ratios as fractions, money plain, days as days.
    for column in ("accounts", "nrr", "grr", "clv", "win_rate", "days_to_close", "tam"):
        assert frame.schema[column].is_numeric(), column
    unions = frame.filter(pl.col("sub_industry") == "Credit Unions").row(0, named=True)
    assert 1.0 < unions["nrr"] < 2.0
    shoot(page, "scorecard-drilled")
