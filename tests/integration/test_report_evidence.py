"""One segment, one interval: the scorecard row, its flag, its segment view and every
format of ``icp report`` agree, and two runs print the same bytes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.report import report_app
from app.views import VIEWS
from app.views.context import folder_context
from app.views.params import from_cli, resolve
from db.demo import write_demo_files

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evidence-demo")
    write_demo_files(folder, seed=7, as_of="2026-11")
    return folder


def _run(folder: Path, *args: str) -> str:
    result = runner.invoke(report_app, [*args, "--data", str(folder)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_flag_card_row_and_csv_show_one_interval(demo: Path) -> None:
    rows = {r["vertical"]: r for r in json.loads(_run(demo, "scorecard", "--format", "json"))}
    flags = json.loads(_run(demo, "flags", "--format", "json"))
    assert flags, "the demo plants an Accidental ICP"
    csv_rows = {
        r["vertical"]: r
        for r in csv.DictReader(io.StringIO(_run(demo, "scorecard", "--format", "csv")))
    }
    ctx = folder_context(demo)
    for flag in flags:
        name = flag["segment"]["vertical"]
        row = rows[name]
        assert (flag["evidence"]["nrr_low"], flag["evidence"]["nrr_high"]) == (
            row["nrr_low"], row["nrr_high"],
        )
        assert float(csv_rows[name]["nrr_low"]) == row["nrr_low"]
        # The segment page's card: the same accounts reached through a filter.
        card = VIEWS["scorecard"](ctx, resolve(ctx, by=(), filters={"vertical": [name]}))
        assert card.frame.row(0, named=True)["nrr_low"] == row["nrr_low"]
        assert card.frame.row(0, named=True)["nrr_high"] == row["nrr_high"]


def test_rates_carry_their_counts(demo: Path) -> None:
    for row in json.loads(_run(demo, "scorecard", "--format", "json")):
        if row["won"] + row["lost"]:
            assert row["win_rate"] == pytest.approx(row["won"] / (row["won"] + row["lost"]))
        else:
            assert row["win_rate"] is None


def _process(folder: Path, *args: str) -> str:
    command = [str(Path(sys.executable).parent / "icp"), "report", *args, "--data", str(folder)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_two_runs_print_the_same_bytes(demo: Path) -> None:
    # Separate processes: nothing memoized, thread pools scheduled afresh.
    for args in (("scorecard", "--by", "vertical,sub_industry"), ("alerts",)):
        first = _process(demo, *args, "--format", "json")
        assert first == _process(demo, *args, "--format", "json")


def test_table_sorts_by_nrr_and_sort_changes_it(demo: Path) -> None:
    ctx = folder_context(demo)
    view = VIEWS["scorecard"](ctx, from_cli(ctx))
    by_nrr = [r["vertical"] for r in view.sorted_by("nrr").rows()]
    table = _run(demo, "scorecard").splitlines()
    shown = [line for line in table[4:] if line.strip()]
    assert [next(v for v in by_nrr if line.startswith(v)) for line in shown] == by_nrr
    by_clv = json.loads(_run(demo, "scorecard", "--sort", "clv", "--format", "json"))
    clvs = [r["clv"] for r in by_clv if r["clv"] is not None]
    assert clvs == sorted(clvs, reverse=True)
