"""``icp report`` JSON on the demo files is pinned: refactors must not move a number.

The files under ``tests/data/golden/`` were written by the report commands before
the view layer existed. A change that means to alter a report rewrites them with
``python -m tests.integration.test_report_golden`` and says why in its commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.report import report_app
from db.demo import write_demo_files

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
# name -> arguments after `icp report`
COMMANDS: dict[str, list[str]] = {
    "scorecard": ["scorecard"],
    "scorecard_vertical_sub_industry": ["scorecard", "--by", "vertical,sub_industry"],
    "scorecard_size_band_2026_06_w6": [
        "scorecard", "--by", "size_band", "--as-of", "2026-06", "--window", "6",
    ],
    "cohorts": ["cohorts"],
    "cohorts_month_healthcare": [
        "cohorts", "--period", "month", "--by", "vertical", "--segment", "Healthcare",
    ],
    "movements": ["movements"],
    "movements_2025_12": ["movements", "--as-of", "2025-12"],
    "flags": ["flags"],
    "flags_vertical_sub_industry": ["flags", "--by", "vertical,sub_industry"],
    "alerts": ["alerts"],
    "alerts_sub_industry": ["alerts", "--by", "sub_industry"],
}

runner = CliRunner()


def _output(folder: Path, args: list[str]) -> str:
    result = runner.invoke(report_app, [*args, "--data", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("golden-demo")
    write_demo_files(folder, seed=7, as_of="2026-11")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_report_json_is_unchanged(demo_folder: Path, name: str) -> None:
    expected = (GOLDEN / f"{name}.json").read_text()
    assert _output(demo_folder, COMMANDS[name]) == expected


def main(folder: str) -> None:
    """Rewrite the golden files from the demo files in ``folder``."""
    path = Path(folder)
    write_demo_files(path, seed=7, as_of="2026-11")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, args in COMMANDS.items():
        (GOLDEN / f"{name}.json").write_text(_output(path, args))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/icp-golden-demo")
