"""The scorecard's "Board pack (PDF)" button: the server prints the view in Chromium and
the browser downloads it, the change since the month before included."""

from __future__ import annotations

import io
import subprocess

from pypdf import PdfReader

from tests.e2e.conftest import ROOT, grid_column, open_page

ARTIFACTS = ROOT / "test-artifacts" / "board-pack-page"


def test_the_board_pack_button_downloads_the_view_as_a_pdf(page) -> None:
    open_page(page, "/?vertical=Financial%20Services")
    with page.expect_download(timeout=120_000) as download:
        page.click("#sc-board-button")
    name = download.value.suggested_filename
    assert name.startswith("icp-board-pack-") and "financial-services" in name, name
    data = download.value.path().read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "board pack: as of" in text and "in Financial Services" in text
    for segment in grid_column(page, "sc-grid", "segment"):
        assert segment in text, segment
    # Each NRR shows its change since the month the demo backfilled, as on the page.
    assert "the change since" in text and ": NRR " in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(ARTIFACTS / name), str(ARTIFACTS / "page")],
                   check=True, timeout=120)
