"""Discovery page: pockets as chips opening their segment page, depth in the URL, CSV."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote

import polars as pl
from playwright.sync_api import expect

from tests.e2e.conftest import open_page, settle, shoot


def test_a_pocket_chip_opens_the_segment_page_showing_the_pockets_numbers(page) -> None:
    open_page(page, "/discover")
    first = page.locator("#disc-pockets tbody tr").first
    expect(first).to_be_visible()
    values = [c.strip() for c in first.locator(".chip-value").all_inner_texts()]
    nrr = first.locator(".pocket-nrr").inner_text().strip()
    n = first.locator("td").nth(2).inner_text().strip()
    assert values and re.fullmatch(r"\d+%", nrr)
    # Its accounts: the /accounts list of the same conditions at the same as-of and window.
    accounts = first.locator(".pocket-accounts").get_attribute("href")
    assert accounts.startswith("/accounts?") and "as_of=" in accounts
    assert all(quote(v) in accounts for v in values)
    shoot(page, "discover")

    first.locator(".pocket-link").click()
    expect(page).to_have_url(re.compile(r"/segment\?.+&as_of=\d{4}-\d{2}&window=12$"))
    settle(page)
    # Round 1 tests the whole starting cohort: the segment of its conditions holds the
    # same accounts, so the segment page shows the pocket's n and NRR.
    expect(page.locator("#seg-kpi-nrr")).to_have_text(nrr)
    expect(page.locator("#seg-kpi-accounts")).to_have_text(n)
    title = page.locator(".page-title").inner_text()
    assert all(v in title for v in values), (values, title)
    # The numbers behind the headline ones (issue 13 item 8).
    expect(page.locator("#seg-kpi-clv_simple-note")).to_contain_text("cohort CLV $")
    expect(page.locator("#seg-kpi-days_to_close_p25-note")).to_contain_text("CV ")
    for key in ("arpa", "expansion_rate", "contraction_rate", "sales_velocity"):
        expect(page.locator(f"#seg-kpi-{key}")).not_to_have_text("—")
    shoot(page, "discover-segment")


def test_the_depth_control_rewrites_the_url_and_the_pockets(page) -> None:
    open_page(page, "/discover")
    page.locator("#disc-depth").click()
    page.get_by_role("option", name="up to 1").click()
    expect(page).to_have_url(re.compile(r"/discover\?depth=1&as_of=\d{4}-\d{2}&window=12$"))
    settle(page)
    rows = page.locator("#disc-pockets tbody tr")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):
        assert rows.nth(i).locator(".condition-chip").count() == 1


def test_the_pockets_download_as_data(page) -> None:
    open_page(page, "/discover?depth=2")
    shown = page.locator("#disc-pockets tbody tr").count()
    with page.expect_download() as download:
        page.click("#disc-download-button")
    assert download.value.suggested_filename.startswith("icp-discover-")
    assert "depth2" in download.value.suggested_filename
    text = download.value.path().read_bytes().decode()
    assert text.startswith("# discover: as of ") and "up to 2 conditions a pocket" in text
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    assert frame.height == shown
    assert frame.columns[:3] == ["round", "conditions", "accounts"]
    for key in ("accounts", "nrr", "nrr_low", "lift", "p_value", "q_value"):
        assert frame.schema[key].is_numeric(), key
    assert all(1 <= len(json.loads(c)) <= 2 for c in frame["conditions"])
