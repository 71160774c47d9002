"""Opportunity lists carry each account's ICP fit score, the same as the targets use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.report import report_app
from app.views.context import folder_context
from db.demo import write_demo_files
from metrics.months import month_key
from metrics.targets import account_fit


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fit-demo")
    write_demo_files(folder, seed=7, as_of="2026-11")
    return folder


def test_deal_list_fit_scores_are_the_accounts_fit(demo: Path) -> None:
    args = ["accounts", "--deals", "won,lost", "--by", "vertical", "--segment", "Healthcare"]
    result = CliRunner().invoke(report_app, [*args, "--format", "json", "--data", str(demo)])
    assert result.exit_code == 0, result.output
    deals = json.loads(result.stdout)
    assert deals and all("fit_score" in d for d in deals)
    ctx = folder_context(demo)
    fit = account_fit(ctx.dataset, ctx.settings, month_key("2026-11"), 12)
    expected = dict(zip(fit["account_id"], fit["fit_score"], strict=True))
    for deal in deals:
        assert deal["fit_score"] == pytest.approx(expected[deal["account_id"]])
        assert 0 <= deal["fit_score"] <= 100
