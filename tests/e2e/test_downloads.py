"""Every page's CSV download is data: polars reads it, numeric columns are numeric, the
first line names the view's parameters and the file name says them too."""

from __future__ import annotations

import io

import polars as pl
import pytest

from tests.e2e.conftest import open_page

# page, button, view, columns that must be numeric
DOWNLOADS = [
    ("/?by=vertical", "#sc-download-button", "scorecard", ("nrr", "clv", "days_to_close")),
    ("/cohorts?vertical=Healthcare", "#co-download-button-a", "cohorts", ("age", "nrr")),
    ("/revenue", "#rv-bridge-download-button", "movements", ("new", "churn", "quick_ratio")),
    ("/segment?vertical=Healthcare", "#seg-row-download-button", "scorecard", ("nrr", "tam")),
    ("/segment?vertical=Healthcare", "#seg-quarters-download-button", "quarterly_secondary",
     ("won", "win_rate", "avg_deal_size")),
    ("/accidental-icp", "#ai-download-button", "flags", ("severity_score",)),
    ("/drift", "#dr-download-button", "alerts", ()),
    ("/economics", "#ec-download-button", "economics", ("spend", "cac", "ltv_cac")),
]


@pytest.mark.parametrize(("path", "button", "view", "numeric"), DOWNLOADS)
def test_page_download_is_data(page, path: str, button: str, view: str, numeric: tuple) -> None:
    open_page(page, path)
    with page.expect_download() as download:
        page.click(button)
    name = download.value.suggested_filename
    assert name.startswith(f"icp-{view.replace('_', '-')}-") and name.endswith(".csv")
    text = download.value.path().read_bytes().decode()
    assert text.startswith(f"# {view}: as of ")
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    assert frame.height > 0
    for column in numeric:
        assert frame.schema[column].is_numeric(), (view, column, frame.schema[column])
