"""The tier history on the pages: the scorecard's change since the month before and a
segment's tier over time (the demo load records its month and backfills the one before)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import at_least, grid_column, open_page, shoot

ARROWS = ("↑", "↓", "→")


def test_scorecard_shows_each_nrr_and_tier_change_since_the_month_before(page) -> None:
    open_page(page, "/")
    since = re.search(r"the change since (\d{4}-\d{2})", page.inner_text("#sc-since"))
    assert since, page.inner_text("#sc-since")
    nrr = grid_column(page, "sc-grid", "nrr")
    assert nrr and all(v.endswith(ARROWS) for v in nrr), nrr
    page.locator("#sc-grid .ag-row [col-id='nrr']").first.hover()
    expect(page.locator(".ag-tooltip")).to_contain_text(f"{since.group(1)}: NRR ")
    shoot(page, "scorecard-change-since")
    # Drilled into a vertical, its sub-industries compare with their own record.
    open_page(page, "/?vertical=Financial%20Services")
    assert all(v.endswith(ARROWS) for v in grid_column(page, "sc-grid", "nrr"))


def test_segment_page_shows_its_tier_over_time(page) -> None:
    open_page(page, "/segment?vertical=Financial%20Services&sub_industry=Credit%20Unions")
    rows = page.locator("#seg-history tbody tr")
    expect(rows).to_have_count(2)  # the month the demo load backfilled, then now
    expect(rows.first).to_contain_text("now")
    expect(rows.nth(1)).to_contain_text("backfill")
    # The month now is the segment's own numbers, as its cards show them.
    expect(rows.first).to_contain_text(page.inner_text("#seg-kpi-nrr"))
    at_least(page.locator("#seg-history-chart .scatterlayer .point"), 2)
    shoot(page, "segment-tier-over-time")
