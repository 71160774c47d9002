"""``icp report board``: the board pack as a PDF whose text is the scorecard's, printed by
headless Chromium, and the scorecard as a PNG. The PDF's pages are turned into PNGs in
test-artifacts/board-pack/ for people to look at."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from app.board import board_html
from app.cli.report import report_app
from app.views import VIEWS
from app.views import formats as fmt
from app.views.context import folder_context
from app.views.evidence import alerts, flags
from app.views.params import resolve
from app.views.scorecard import scorecard
from db.demo import write_demo_files

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "board-pack"
AS_OF = "2026-11"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The demo's export folder, and the board pack and scorecard PNG made from it."""
    folder = tmp_path_factory.mktemp("board-demo")
    write_demo_files(folder, seed=7, as_of=AS_OF)
    out, png = folder.parent / "board.pdf", folder.parent / "scorecard.png"
    result = CliRunner().invoke(
        report_app, ["board", "--data", str(folder), "--out", str(out), "--png", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.output
    return folder, out, png


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
def test_the_pdf_says_what_the_scorecard_says(pack: tuple[Path, Path, Path]) -> None:
    folder, out, _png = pack
    reader = PdfReader(out)
    assert 2 <= len(reader.pages) <= 4
    pages = [page.extract_text() for page in reader.pages]
    assert f"board pack: as of {AS_OF}" in pages[0]
    ctx = folder_context(folder)
    p = resolve(ctx)
    lines = pages[0].splitlines()
    for row in scorecard(ctx, p).rows():
        # The segment's table row holds its numbers as the scorecard view formats them.
        line = next((x for x in lines if x.startswith(row["vertical"] + " ")), None)
        assert line is not None, (row["vertical"], lines)
        for key, kind in (("nrr", "ratio"), ("grr", "ratio"), ("clv", "money")):
            assert fmt.by_kind(kind, row[key]) in line, (key, line)
    # Every flag and every raised alert, with its evidence sentence.
    text = _words(" ".join(pages))
    evidence = [f["explanation"] for f in flags(ctx, p).records()]
    evidence += [a["explanation"] for a in alerts(ctx, p).records() if a["status"] == "raised"]
    assert evidence
    for sentence in evidence:
        assert _words(sentence) in text, sentence


@pytest.mark.slow
def test_every_page_renders_to_an_image(pack: tuple[Path, Path, Path]) -> None:
    _folder, out, png = pack
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", str(out), str(ARTIFACTS / "page")], check=True,
        timeout=120,
    )
    images = sorted(ARTIFACTS.glob("page-*.png"))
    assert len(images) == len(PdfReader(out).pages)
    assert all(i.stat().st_size > 10_000 for i in images)  # drawn, not blank
    shutil.copy(png, ARTIFACTS / "scorecard.png")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(head[16:20], "big") >= 1000  # the width of the table


def test_economics_comes_from_its_view_when_spend_was_imported(
    pack: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, out, _png = pack
    ctx = folder_context(folder)
    p = resolve(ctx)
    view = VIEWS["economics"](ctx, p)
    page = board_html(ctx, p, sections=("economics",))
    assert "<h2>Unit economics</h2>" in page
    for row in view.rows():  # the demo's spend file: every vertical's LTV:CAC, as formatted
        assert f'<td class="num">{fmt.multiple(row["ltv_cac"])}</td>' in page
    assert "Unit economics" in " ".join(p.extract_text() for p in PdfReader(out).pages)
    # Without spend the view holds only the allowable CAC: the pack leaves it out.
    no_spend = view.frame.with_columns(pl.lit(None, pl.Float64).alias("spend"))
    monkeypatch.setitem(VIEWS, "economics", lambda ctx, p: replace(view, frame=no_spend))
    assert "Unit economics" not in board_html(ctx, p, sections=("economics",))
