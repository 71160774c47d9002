"""Every page renders on the demo data, shows its planted story, and is screenshotted."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import at_least, grid_column, open_page, settle, shoot

FS = "/?vertical=Financial%20Services"


def test_scorecard_shows_company_cards_and_rated_verticals(page) -> None:
    open_page(page, "/")
    for key in ("arr", "nrr", "grr", "logo_retention", "clv", "quick_ratio"):
        assert re.search(r"\d", page.inner_text(f"#sc-kpi-{key}")), key
    assert page.inner_text("#sc-kpi-arr").startswith("$")
    verticals = grid_column(page, "sc-grid", "segment")
    assert "Retail & E-commerce" in verticals and "Financial Services" in verticals
    # Government has fewer accounts than min_accounts: greyed and labelled.
    government = page.locator("#sc-grid .ag-row.row-insufficient")
    assert government.count() >= 1
    assert "Insufficient data" in page.inner_text("#sc-grid")
    at_least(page.locator("#sc-map .scatterlayer .point"), 7)
    shoot(page, "scorecard")
    _labels_apart(page, 7)


def test_scorecard_by_sub_industry_across_verticals(page) -> None:
    open_page(page, "/?by=sub_industry")
    subs = grid_column(page, "sc-grid", "segment")
    assert "Credit Unions" in subs and "Online Retail" in subs and len(subs) >= 20
    assert "Sub-industry (all verticals)" in page.inner_text("#sc-by")
    assert page.inner_text("#sc-message").strip() == ""


def _labels_apart(page, least: int, chart: str = "#sc-map") -> None:
    """No two segment labels on a bubble chart overlap (as drawn by the browser)."""
    boxes = page.eval_on_selector_all(
        f"{chart} .scatterlayer .textpoint text",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [e.textContent, r.left, r.top, r.right, r.bottom]; })",
    )
    assert len(boxes) >= least
    clashes = [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1
    ]
    assert not clashes, (clashes, boxes)


def test_credit_unions_lead_financial_services_by_nrr(page) -> None:
    open_page(page, FS)
    subs = grid_column(page, "sc-grid", "segment")
    assert subs[0] == "Credit Unions", subs
    assert "Core ICP" in grid_column(page, "sc-grid", "tier")[0]
    assert "Financial Services" in page.inner_text("#sc-crumb")
    shoot(page, "scorecard-financial-services")
    _labels_apart(page, 4)


def test_segment_page_shows_intervals_waterfall_and_cohorts(page) -> None:
    open_page(page, "/segment?vertical=Financial%20Services&sub_industry=Credit%20Unions")
    assert "Credit Unions" in page.inner_text(".page-title")
    assert "Core ICP" in page.inner_text(".page-title")
    assert "95% interval" in page.inner_text("#seg-kpi-nrr-note")
    at_least(page.locator("#seg-waterfall .point"), 5)  # start, 3 movements, end
    at_least(page.locator("#seg-cohorts .scatterlayer .trace"), 2)
    shoot(page, "segment-credit-unions")


def test_cohorts_page_draws_curves_and_compares_two_segments(page) -> None:
    open_page(page, "/cohorts?vertical=Financial%20Services&compare_vertical=Retail%20%26%20E-commerce")
    at_least(page.locator("#co-curves-a .scatterlayer .trace"), 4)
    at_least(page.locator("#co-curves-b .scatterlayer .trace"), 4)
    expect(page.locator("#co-heat-a .heatmaplayer .hm")).to_have_count(1)
    expect(page.locator("#co-curves-b")).to_contain_text("Retail & E-commerce")
    shoot(page, "cohorts-compare")
    # A tab switches the metric and writes it to the URL.
    page.get_by_role("tab", name="Cohort logo retention").click()
    expect(page).to_have_url(re.compile(r"metric=logo_retention"))
    settle(page)
    expect(page.locator("#co-curves-a")).to_contain_text("Cohort logo retention")


def test_accidental_icp_flags_retail_first(page) -> None:
    open_page(page, "/accidental-icp")
    first = page.locator("#ai-flags .flag-card").first
    assert "Retail & E-commerce" in first.inner_text()
    assert "High" in first.inner_text()
    at_least(page.locator("#ai-quadrant .scatterlayer .point"), 7)
    expect(page.locator("#ai-quadrant")).to_contain_text("90% NRR")
    shoot(page, "accidental-icp")
    _labels_apart(page, 7, "#ai-quadrant")


def test_drift_lists_the_planted_alerts_and_badge_counts_them(page) -> None:
    open_page(page, "/drift")
    cycle = page.inner_text("#dr-group-sales_cycle_lengthening")
    assert "Healthcare" in cycle
    assert "Healthcare" in page.inner_text("#dr-group-recent_cohorts_worse")
    cards = page.locator("#dr-alerts .alert-card").count()
    assert cards >= 2
    # The badge counts raised warnings; opportunities (rising segments) are listed too.
    warnings = page.locator("#dr-alerts .alert-card:not(.opportunity)").count()
    assert warnings >= 2
    expect(page.locator("#nav-drift-badge")).to_have_text(str(warnings))
    expect(page.locator("#dr-alerts .js-plotly-plot .main-svg").first).to_be_visible()
    expect(page.locator("#dr-alerts .js-plotly-plot")).to_have_count(cards)
    shoot(page, "drift")


def test_revenue_bridge_and_declared_icp_hint(page) -> None:
    open_page(page, "/revenue")
    # new, reactivation, expansion, contraction, churn
    expect(page.locator("#rv-bridge .barlayer .trace")).to_have_count(5)
    expect(page.locator("#rv-bridge")).to_contain_text("Ending MRR")
    expect(page.locator("#rv-bridge")).to_contain_text("Quick ratio")
    assert page.locator("#rv-declared").count() == 1
    shoot(page, "revenue")


def test_settings_and_upload_pages_render_for_an_admin(page) -> None:
    open_page(page, "/settings")
    assert page.input_value("#st-core-nrr") == "120"
    at_least(page.locator("#st-margins .ag-row"), 7)
    shoot(page, "settings")
    open_page(page, "/upload")
    assert page.locator("#up-upload input[type=file]").count() == 1
    at_least(page.locator("#up-history .ag-row"), 1)  # the demo's own import
    shoot(page, "upload")


def test_every_metric_name_explains_itself(page) -> None:
    open_page(page, "/")
    page.hover("#sc-kpi-nrr >> xpath=.. >> .metric-name")
    tooltip = page.locator(".tooltip-inner")
    tooltip.wait_for(timeout=5000)
    assert "starting cohort" in tooltip.inner_text()
