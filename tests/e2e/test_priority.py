"""The scorecard's ICP priority panel: ranked like the view, following the view, linking."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import open_page, settle


def _ranked(page) -> list[tuple[str, str]]:
    items = page.locator("#sc-priority .priority-item")
    return [
        (items.nth(i).locator(".priority-rank").inner_text().strip(),
         items.nth(i).locator(".priority-segment").inner_text().strip())
        for i in range(items.count())
    ]


def test_the_priority_panel_ranks_rated_segments_and_follows_the_view(page) -> None:
    open_page(page, "/?by=vertical")
    ranked = _ranked(page)
    assert [r for r, _ in ranked] == [str(i) for i in range(1, len(ranked) + 1)]
    names = [n for _, n in ranked]
    # Insufficient-data segments are not ranked; every rated vertical is.
    assert "Government" not in names and "Financial Services" in names
    first = page.locator("#sc-priority .priority-item").first
    expect(first.locator(".priority-reason")).to_have_text(
        re.compile(rf"^Ranks 1 of {len(ranked)}: ahead of {re.escape(names[1])} on ")
    )

    page.locator("#sc-by").click()
    page.get_by_role("option", name="Size band").click()
    expect(page).to_have_url(re.compile(r"by=size_band"))
    settle(page)
    sizes = [n for _, n in _ranked(page)]
    assert sizes and set(sizes) <= {"SMB", "Mid-Market", "Enterprise"}

    page.locator("#sc-priority .priority-segment a").first.click()
    expect(page).to_have_url(re.compile(r"/segment\?size_band=[^&]+&as_of=\d{4}-\d{2}&window=12$"))
    settle(page)
    expect(page.locator(".page-title")).to_contain_text(sizes[0])
