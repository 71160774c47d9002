"""Click a number, see the accounts behind it: scorecard cells, a cohort heatmap cell, a
movement bar, a flag and an alert open /accounts, whose list sums to the number clicked."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qsl, urlparse

import polars as pl
from playwright.sync_api import expect

from tests.e2e.conftest import at_least, grid_column, open_page, settle, shoot

TOL = 1e-9


def _query(page) -> dict[str, str]:
    return dict(parse_qsl(urlparse(page.url).query))


def _api(page, path: str) -> list[dict]:
    response = page.request.get(path)
    assert response.ok, response.text()
    return response.json()["rows"]


def _download(page) -> pl.DataFrame:
    with page.expect_download() as download:
        page.click("#ac-download-button")
    text = download.value.path().read_bytes().decode()
    return pl.read_csv(io.StringIO(text), comment_prefix="#")


def _scorecard_cell(page, segment: str, column: str):
    """The cell of a segment's row (its name is pinned left: rows meet by index)."""
    assert segment in grid_column(page, "sc-grid", "segment")
    name = page.locator("[col-id='segment']", has_text=re.compile(f"^{re.escape(segment)}$"))
    index = page.locator("#sc-grid .ag-row", has=name).first.get_attribute("row-index")
    return page.locator(f"#sc-grid .ag-row[row-index='{index}'] [col-id='{column}']").first


def test_scorecard_nrr_cell_opens_the_accounts_whose_csv_sums_to_it(page) -> None:
    open_page(page, "/")
    _scorecard_cell(page, "Healthcare", "nrr").click()
    expect(page).to_have_url(re.compile(r"/accounts\?vertical=Healthcare&as_of=\d{4}-\d{2}&window=12$"))
    settle(page)
    query = _query(page)
    board = _api(page, f"/api/scorecard.json?by=vertical&as_of={query['as_of']}&window=12")
    row = next(r for r in board if r["vertical"] == "Healthcare")
    nrr_text = f"NRR {round(row['nrr'] * 100)}%"
    expect(page.locator("#ac-note")).to_contain_text(nrr_text)
    expect(page.locator("#ac-note")).to_contain_text(f"over {row['accounts']} accounts")

    frame = _download(page)
    assert frame.columns == [
        "account_id", "account_name", "vertical", "start_mrr", "end_mrr", "status",
    ]
    assert frame.schema["start_mrr"].is_numeric() and frame.schema["end_mrr"].is_numeric()
    assert frame.height == row["accounts"]
    assert abs(frame["end_mrr"].sum() / frame["start_mrr"].sum() - row["nrr"]) < TOL
    kept = frame.filter(pl.col("end_mrr") > 0).height
    assert abs(kept / frame.height - row["logo_retention"]) < TOL
    assert set(frame["status"]) <= {"retained", "expanded", "contracted", "churned"}
    shoot(page, "accounts-retention")


def test_scorecard_tier_and_win_rate_cells_open_accounts_and_deals(page) -> None:
    open_page(page, "/")
    _scorecard_cell(page, "Retail & E-commerce", "win_rate").click()
    expect(page).to_have_url(re.compile(r"/accounts\?vertical=Retail.*deals=won%2Clost$"))
    settle(page)
    query = _query(page)
    board = _api(page, f"/api/scorecard.json?by=vertical&as_of={query['as_of']}&window=12")
    row = next(r for r in board if r["vertical"] == "Retail & E-commerce")
    closed = row["won"] + row["lost"]
    expect(page.locator("#ac-note")).to_contain_text(
        f"Win rate {round(row['win_rate'] * 100)}% = {row['won']} won / {closed} closed"
    )
    deals = _download(page)
    assert deals.filter(pl.col("status") == "won").height == row["won"]
    assert deals.filter(pl.col("status") == "lost").height == row["lost"]
    assert deals.schema["amount"].is_numeric()
    shoot(page, "accounts-deals")

    page.go_back()
    settle(page)
    _scorecard_cell(page, "Retail & E-commerce", "tier").click()
    expect(page).to_have_url(re.compile(r"/accounts\?vertical=Retail%20%26%20E-commerce&as_of="))
    settle(page)
    expect(page.locator("#ac-note")).to_contain_text(f"over {row['accounts']} accounts")


def test_the_segment_name_cell_still_drills_down(page) -> None:
    open_page(page, "/")
    _scorecard_cell(page, "Financial Services", "segment").click()
    expect(page).to_have_url(re.compile(r"/\?vertical=Financial%20Services&as_of="))


def test_a_cohort_heatmap_cell_opens_that_cohorts_accounts_at_that_age(page) -> None:
    open_page(page, "/cohorts?vertical=Healthcare&period=quarter")
    at_least(page.locator("#co-heat-a .heatmaplayer image, #co-heat-a .hm"), 1)
    box = page.locator("#co-heat-a .nsewdrag").first.bounding_box()
    # The top-left cell: the oldest cohort at age 0, which every account has reached.
    page.mouse.click(box["x"] + 3, box["y"] + 3)
    expect(page).to_have_url(re.compile(r"/accounts\?vertical=Healthcare&cohort=\d{4}Q\d&age=0"))
    settle(page)
    query = _query(page)
    curves = _api(page, f"/api/cohorts.json?vertical=Healthcare&period=quarter&as_of={query['as_of']}")
    cell = next(r for r in curves if r["cohort"] == query["cohort"] and r["age"] == 0)
    expect(page.locator("#ac-note")).to_contain_text(
        f"Cohort {query['cohort']} at age 0 months: NRR 100%"
    )
    expect(page.locator("#ac-note")).to_contain_text(f"over {cell['accounts']} account")
    frame = _download(page)
    assert frame.height == cell["accounts"]
    assert (frame["mrr_at_age"] == frame["start_mrr"]).all()
    shoot(page, "accounts-cohort")


def test_a_movement_bar_opens_that_months_accounts_of_that_movement(page) -> None:
    open_page(page, "/revenue?months=12")
    bars = page.locator("#rv-bridge .barlayer .trace").first.locator(".point path")
    at_least(bars, 12)
    bars.nth(bars.count() - 1).click(force=True)
    expect(page).to_have_url(re.compile(r"/accounts\?movement=new&as_of=\d{4}-\d{2}$"))
    settle(page)
    month = _query(page)["as_of"]
    bridge = _api(page, f"/api/movements.json?as_of={month}")
    new = next(r for r in bridge if r["month"] == month)["new"]
    frame = _download(page)
    assert set(frame["movement"]) == {"new"}
    assert abs(frame["amount"].sum() - new) < 1e-6
    expect(page.locator("#ac-note")).to_contain_text(f"In {month}: New")
    shoot(page, "accounts-movement")


def test_a_flag_and_an_alert_open_their_segments_accounts(page) -> None:
    open_page(page, "/accidental-icp")
    link = page.get_by_role("link", name="Accounts behind these numbers").first
    segment = page.locator(".flag-card strong").first.inner_text()
    link.click()
    expect(page).to_have_url(re.compile(r"/accounts\?vertical="))
    settle(page)
    expect(page.locator(".page-title")).to_contain_text(segment)
    expect(page.locator("#ac-note")).to_contain_text("NRR ")

    open_page(page, "/drift")
    page.get_by_role("link", name="Accounts of this segment").first.click()
    expect(page).to_have_url(re.compile(r"/accounts\?"))
    settle(page)
    expect(page.locator("#ac-note")).to_contain_text("NRR ")
