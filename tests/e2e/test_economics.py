"""The Economics page on the demo (which has a spend file): KPIs, the four charts and the
table agree with the economics view."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import at_least, open_page, shoot


def test_economics_page_shows_ltv_to_cac_against_the_target(page) -> None:
    open_page(page, "/economics")
    content = page.locator("#_pages_content")
    expect(content).to_contain_text("LTV:CAC by segment")
    expect(page.locator("#ec-kpis")).to_contain_text("Magic number")
    # One LTV:CAC bar per vertical with new customers (Government has none), and the target.
    at_least(page.locator("#ec-ltv-cac .bars .point"), 7)
    assert page.locator("#ec-ltv-cac .bars .point").count() == 7
    expect(page.locator("#ec-ltv-cac")).to_contain_text("target 3.0×")
    at_least(page.locator("#ec-payback .bars .point"), 7)
    at_least(page.locator("#ec-allowable .bars .point"), 8)
    at_least(page.locator("#ec-map .scatterlayer .point"), 8)
    grid = page.locator("#ec-grid")
    at_least(grid.locator(".ag-center-cols-container .ag-row"), 8)
    expect(grid).to_contain_text("Retail & E-commerce")
    assert page.locator("#ec-no-spend").count() == 0
    shoot(page, "economics")


def test_economics_by_sub_industry_from_the_url(page) -> None:
    open_page(page, "/economics?by=sub_industry")
    expect(page.locator("#ec-grid")).to_contain_text("Credit Unions")
    at_least(page.locator("#ec-ltv-cac .bars .point"), 20)
