"""Saving settings through the page changes what every page shows.

Runs after the read-only page tests (file order): it sets a declared ICP on the
session's demo warehouse.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import open_page, shoot


def test_declaring_an_icp_fills_the_revenue_diagnostic(page) -> None:
    # The demo company arrives with the ICP its leadership declared.
    open_page(page, "/revenue")
    declared = page.locator("#rv-declared")
    expect(declared).to_contain_text("Share of bookings")
    content = page.locator("#_pages_content")
    expect(content).to_contain_text("Vertical in Financial Services, Healthcare")
    inside_before = declared.locator("tbody tr").first.inner_text()

    open_page(page, "/settings")
    # One dropdown per dimension of the data (pattern-matching ids: custom attributes too).
    page.locator("""[id='{"dim":"vertical","type":"st-declared"}']""").click()
    page.get_by_role("option", name="Technology").click()
    page.keyboard.press("Escape")
    page.click("#st-save-icp")
    expect(page.locator("#st-icp-result")).to_contain_text("Saved")
    open_page(page, "/revenue")
    expect(content).to_contain_text("Vertical in Financial Services, Healthcare, Technology")
    expect(declared).to_contain_text("Inside")
    expect(declared).to_contain_text("Outside")
    # A third vertical inside the ICP changes what is inside.
    expect(declared.locator("tbody tr").first).not_to_have_text(inside_before)
    shoot(page, "revenue-declared-icp")


def test_an_invalid_threshold_is_refused_with_a_reason(page) -> None:
    open_page(page, "/settings")
    page.fill("#st-watch-nrr", "130")
    page.click("#st-save-icp")
    result = page.locator("#st-icp-result")
    expect(result).to_contain_text("Not saved")
    expect(result).to_contain_text("watch_nrr <= healthy_nrr <= core_nrr")
