"""``icp report economics``: keys, the company row, and the same numbers as the scorecard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.report import report_app
from db.demo import write_demo_files

runner = CliRunner()
KEYS = [
    "new_customers", "new_arpa", "spend", "cac", "ltv_cac", "payback_months",
    "allowable_cac", "magic_number",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("economics-demo")
    write_demo_files(folder, seed=7, as_of="2026-11")
    return folder


def _json(*args: str) -> list[dict]:
    result = runner.invoke(report_app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_economics_keys_and_the_scorecards_clv(demo: Path) -> None:
    rows = _json("economics", "--data", str(demo))
    assert list(rows[0])[: 1 + len(KEYS)] == ["vertical", *KEYS]
    card = {r["vertical"]: r for r in _json("scorecard", "--data", str(demo))}
    for r in rows:
        # LTV is the scorecard's CLV: the same number everywhere.
        assert r["clv"] == pytest.approx(card[r["vertical"]]["clv"])
        if r["new_customers"]:
            assert r["cac"] == pytest.approx(r["spend"] / r["new_customers"])
            assert r["spend"] == pytest.approx(r["spend_direct"] + r["spend_allocated"])
        else:
            assert r["cac"] is None and r["ltv_cac"] is None
    company = _json("economics", "--by", "company", "--data", str(demo))
    assert len(company) == 1 and list(company[0])[: len(KEYS)] == KEYS
    assert company[0]["new_customers"] == sum(r["new_customers"] for r in rows)
    # Every spend row of the window names a vertical with new customers or is company-level.
    assert company[0]["spend"] == pytest.approx(sum(r["spend"] for r in rows))


def test_by_company_in_the_other_reports(demo: Path) -> None:
    company = _json("scorecard", "--by", "company", "--data", str(demo))
    assert len(company) == 1 and "vertical" not in company[0]
    assert company[0]["accounts"] > 500
    flags = runner.invoke(report_app, ["flags", "--by", "company", "--data", str(demo)])
    assert flags.exit_code == 0, flags.output


def test_table_without_spend_says_what_is_missing(tmp_path: Path, demo: Path) -> None:
    for name in ("accounts.csv", "subscriptions.csv", "opportunities.csv"):
        (tmp_path / name).write_bytes((demo / name).read_bytes())
    result = runner.invoke(report_app, ["economics", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "no spend imported" in result.stdout
    rows = _json("economics", "--data", str(tmp_path))
    assert all(r["spend"] is None and r["cac"] is None for r in rows)
    assert all(r["allowable_cac"] > 0 for r in rows)  # needs no spend
