"""No grid cell cuts its text at the widths people use (1280 and 1440 px)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page

PAGES = [
    "/?by=vertical",
    "/?by=sub_industry",
    "/?vertical=Financial%20Services",
    "/segment?vertical=Healthcare",
    "/economics?by=sub_industry",
    "/upload",
]
CUT = """() => Array.from(document.querySelectorAll('.ag-cell, .ag-header-cell-text'))
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent.trim())"""


@pytest.mark.parametrize("width", [1280, 1440])
def test_no_grid_cell_is_cut(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    for path in PAGES:
        open_page(page, path)
        page.wait_for_selector(".ag-cell")
        assert page.evaluate(CUT) == [], (width, path)
