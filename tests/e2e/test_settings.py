"""Saving settings through the page changes what every page shows.

Runs after the read-only page tests (file order): it sets a declared ICP on the
session's demo warehouse.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import open_page, shoot


def test_declaring_an_icp_fills_the_revenue_diagnostic(page) -> None:
    open_page(page, "/revenue")
    expect(page.locator("#rv-declared")).to_contain_text("No declared ICP yet")
    open_page(page, "/settings")
    page.locator("#st-declared-vertical").click()
    page.get_by_role("option", name="Financial Services").click()
    page.keyboard.press("Escape")
    page.click("#st-save-icp")
    expect(page.locator("#st-icp-result")).to_contain_text("Saved")
    open_page(page, "/revenue")
    declared = page.locator("#rv-declared")
    expect(declared).to_contain_text("Inside")
    expect(declared).to_contain_text("Outside")
    expect(declared).to_contain_text("Share of bookings")
    expect(page.locator("#_pages_content")).to_contain_text("Vertical in Financial Services")
    shoot(page, "revenue-declared-icp")


def test_an_invalid_threshold_is_refused_with_a_reason(page) -> None:
    open_page(page, "/settings")
    page.fill("#st-watch-nrr", "130")
    page.click("#st-save-icp")
    result = page.locator("#st-icp-result")
    expect(result).to_contain_text("Not saved")
    expect(result).to_contain_text("watch_nrr <= healthy_nrr <= core_nrr")
