"""The scorecard's second dimension: an NRR heatmap of A x B with n per cell, greyed
below min_accounts, its choice kept in the URL and its numbers those of the API."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import open_page, settle, shoot

HEATMAP = "#sc-heatmap .js-plotly-plot"


def _traces(page) -> list[dict]:
    """The heatmap's two traces as drawn (grey cells first, then the rated ones), once the
    graph has drawn them (it renders after the callbacks settle)."""
    script = (
        f"() => {{ const g = document.querySelector('{HEATMAP}');"
        " return g && g.data ? g.data.map(t => ({x: t.x, y: t.y, z: t.z, text: t.text})) : []; }"
    )
    for _ in range(200):
        traces = page.evaluate(script)
        if len(traces) == 2:
            return traces
        page.wait_for_timeout(150)
    raise AssertionError("the heatmap was not drawn")


def test_and_by_draws_the_pairs_heatmap_with_n_and_grey_small_cells(page, admin_context) -> None:
    open_page(page, "/")
    expect(page.locator("#sc-heat-panel")).to_be_hidden()
    page.locator("#sc-and").click()
    page.get_by_role("option", name="Region", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]by=vertical&.*and=region"))
    settle(page)
    expect(page.locator("#sc-heat-panel")).to_be_visible()
    grey, rated = _traces(page)

    as_of = re.search(r"as_of=(\d{4}-\d{2})", page.url).group(1)
    api = admin_context.request.get(f"/api/scorecard.json?by=vertical,region&as_of={as_of}")
    rows = {(r["vertical"], r["region"]): r for r in api.json()["rows"]}
    seen_grey = seen_rated = 0
    for i, y in enumerate(rated["y"]):
        for j, x in enumerate(rated["x"]):
            row = rows.get((y.replace("&amp;", "&"), x))
            if row is None:
                assert rated["z"][i][j] is None and grey["z"][i][j] is None
                continue
            n = row["accounts"]
            if n >= 10 and row["nrr"] is not None:
                seen_rated += 1
                assert abs(rated["z"][i][j] - row["nrr"]) < 1e-9 and grey["z"][i][j] is None
                assert rated["text"][i][j].endswith(f"n={n}")
            else:
                seen_grey += 1
                assert rated["z"][i][j] is None and grey["z"][i][j] == 1
                assert grey["text"][i][j].endswith(f"n={n}")
    assert seen_grey > 0 and seen_rated > 0
    shoot(page, "scorecard-heatmap")

    # The choice is in the URL: a shared link draws the same heatmap.
    other = admin_context.new_page()
    open_page(other, page.url.removeprefix(page.url.split("/?")[0]))
    expect(other.locator("#sc-heat-panel")).to_be_visible()
    assert _traces(other) == _traces(page)
    other.close()
