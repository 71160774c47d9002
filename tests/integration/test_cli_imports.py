"""Each ``icp`` command imports only what it uses (issue 12): the dashboard's stack
(Dash, Plotly, Flask), the warehouse's (SQLAlchemy, psycopg) and scipy cost seconds
of start-up that ``icp --help`` and ``icp report --data`` must not pay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from db.demo import write_demo_files

# Runs the console script's entry point with the given arguments and prints the
# top-level packages it imported, as JSON on the last line of stderr.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})),
                              file=sys.stderr))
sys.argv = ["icp", *sys.argv[1:]]
from app.cli import main
main()
"""
DASHBOARD = {"dash", "plotly", "flask", "werkzeug", "dash_bootstrap_components"}
WAREHOUSE = {"sqlalchemy", "psycopg"}


def _imported(*args: str) -> tuple[set[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.strip().splitlines()[-1])), result.stdout


def test_help_imports_neither_the_dashboard_nor_polars() -> None:
    modules, out = _imported("--help")
    assert "report" in out
    assert not modules & (DASHBOARD | WAREHOUSE | {"polars", "numpy", "scipy"})


@pytest.mark.slow
def test_report_on_a_folder_imports_no_dashboard_warehouse_or_scipy(tmp_path: Path) -> None:
    write_demo_files(tmp_path, seed=7, as_of="2026-11")
    modules, out = _imported(
        "report", "scorecard", "--data", str(tmp_path), "--by", "vertical", "--format", "json"
    )
    assert json.loads(out)[0]["vertical"]
    assert "polars" in modules
    assert not modules & (DASHBOARD | WAREHOUSE | {"scipy"})


@pytest.mark.parametrize("args", [("report", "scorecard", "--help"), ("db", "backup", "--help")])
def test_a_subcommands_help_imports_neither_the_warehouse_nor_polars(args) -> None:
    # Click ends --help with an exception: it is click's own, never looked at as a
    # warehouse error (which once imported SQLAlchemy and the backup code for it).
    modules, out = _imported(*args)
    assert "Usage" in out
    assert not modules & (DASHBOARD | WAREHOUSE | {"polars", "numpy", "scipy"})
