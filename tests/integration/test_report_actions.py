"""``icp report priority|discover|targets``: keys, order and sums, on a hand-made folder and
on the demo files (whose planted pockets discovery must find)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from app.cli.report import report_app
from db.demo import write_demo_files
from tests.integration.test_report_cli import _folder

runner = CliRunner()

DISCOVER_KEYS = [
    "round", "conditions", "accounts", "nrr", "nrr_low", "nrr_high", "grr",
    "logo_retention", "clv", "lift", "p_value", "q_value",
]
TARGET_KEYS = [
    "account_id", "account_name", "vertical", "sub_industry", "segment", "tier", "clv",
    "win_rate", "expected_value", "fit_score", "pocket", "open_opportunity",
]
ALPHA = 0.05  # the settings' default, which --data folders use


def _run(args: list[str]) -> str:
    result = runner.invoke(report_app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("actions-demo")
    write_demo_files(folder, seed=7, as_of="2026-11")
    return folder


def _json(folder: Path, *args: str) -> list[dict]:
    return json.loads(_run([*args, "--data", str(folder), "--format", "json"]))


def test_targets_of_a_small_folder_by_hand(tmp_path):
    # At 2024-06 (window 3) A1 and A2 are active, A3 churned in April (a former customer
    # with no open deal: not a target) and P1 never bought and holds the open deal O4.
    # No segment has 10 accounts, so nothing is rated: no value, no fit score.
    rows = _json(_folder(tmp_path), "targets", "--as-of", "2024-06", "--window", "3")
    assert rows == [
        {
            "account_id": "P1", "account_name": "Prospect", "vertical": "Retail",
            "sub_industry": "Online", "segment": None, "tier": None, "clv": None,
            "win_rate": None, "expected_value": None, "fit_score": None, "pocket": None,
            "open_opportunity": True,
        }
    ]


def test_no_pocket_and_no_priority_below_the_minimum_sizes(tmp_path):
    folder = _folder(tmp_path)
    # Three customers: no candidate has 30 accounts in and out, no segment is rated.
    assert _json(folder, "discover", "--as-of", "2024-06", "--window", "3") == []
    assert _json(folder, "priority", "--as-of", "2024-06", "--window", "3") == []
    text = _run(["discover", "--as-of", "2024-06", "--window", "3", "--data", str(folder)])
    assert "up to 2 conditions a pocket" in text and "(no rows)" in text


def test_depth_outside_1_to_3_is_refused(tmp_path):
    result = runner.invoke(report_app, ["discover", "--depth", "4", "--data", str(tmp_path)])
    assert result.exit_code != 0 and "--depth" in result.output


@pytest.mark.slow
def test_discover_json_on_the_demo(demo):
    pockets = _json(demo, "discover")
    assert pockets, "the demo plants pockets for discovery to find"
    assert [list(p) for p in pockets] == [DISCOVER_KEYS] * len(pockets)
    assert [p["round"] for p in pockets] == list(range(1, len(pockets) + 1))
    for p in pockets:
        assert isinstance(p["conditions"], dict) and 1 <= len(p["conditions"]) <= 2
        assert p["accounts"] >= 30 and p["q_value"] <= ALPHA and p["p_value"] <= p["q_value"]
        assert p["nrr_low"] <= p["nrr"] <= p["nrr_high"]
        assert p["grr"] <= min(p["nrr"], 1.0) and 0 <= p["logo_retention"] <= 1
    # Round 1 tests the whole starting cohort: its pocket is a scorecard segment, same
    # accounts, same NRR and interval, and the lift is against the company's NRR.
    first = pockets[0]
    (dim, value), *more = first["conditions"].items()
    if not more:
        board = {r[dim]: r for r in _json(demo, "scorecard", "--by", dim)}
        row = board[value]
        assert (first["accounts"], first["nrr"]) == (row["accounts"], pytest.approx(row["nrr"]))
        assert first["nrr_low"] == pytest.approx(row["nrr_low"])
        assert first["clv"] == pytest.approx(row["clv"])
    company = _json(demo, "scorecard", "--by", "")
    assert first["lift"] == pytest.approx(first["nrr"] / company[0]["nrr"])


@pytest.mark.slow
def test_deeper_discovery_may_combine_three_conditions(demo):
    pockets = _json(demo, "discover", "--depth", "1")
    assert pockets and all(len(p["conditions"]) == 1 for p in pockets)
    assert all(len(p["conditions"]) <= 3 for p in _json(demo, "discover", "--depth", "3"))


@pytest.mark.slow
def test_discover_csv_keeps_numbers_and_the_conditions_object(demo):
    text = _run(["discover", "--data", str(demo), "--format", "csv"])
    frame = pl.read_csv(io.StringIO(text))
    assert frame.columns == DISCOVER_KEYS
    for key in DISCOVER_KEYS[2:]:
        assert frame.schema[key].is_numeric(), key
    assert json.loads(frame["conditions"][0]) == _json(demo, "discover")[0]["conditions"]


@pytest.mark.slow
def test_priority_ranks_rated_segments_by_clv_then_nrr(demo):
    ranked = _json(demo, "priority", "--by", "vertical,sub_industry")
    board = _json(demo, "scorecard", "--by", "vertical,sub_industry")
    rated = [r for r in board if r["tier"] != "insufficient_data"]
    assert len(ranked) == len(rated) > 1
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert list(ranked[0]) == [
        "rank", "vertical", "sub_industry", "segment", "tier", "clv", "nrr",
        "logo_retention", "tam", "reason",
    ]
    keys = [(r["clv"], r["nrr"], r["logo_retention"]) for r in ranked]
    assert keys == sorted(keys, reverse=True)
    for r in ranked:
        assert r["segment"] == f"{r['vertical']} / {r['sub_industry']}"
        assert r["reason"].startswith(f"Ranks {r['rank']} of {len(ranked)}: ")
    assert f"behind {ranked[0]['segment']} on CLV" in ranked[1]["reason"]


@pytest.mark.slow
def test_targets_are_ranked_by_expected_value_with_fit_scores(demo):
    targets = _json(demo, "targets")
    assert targets and [list(t) for t in targets[:1]] == [TARGET_KEYS]
    values = [t["expected_value"] for t in targets if t["expected_value"] is not None]
    assert values == sorted(values, reverse=True)
    # Rated accounts first, then the rest (no segment rated for them).
    assert all(t["expected_value"] is None for t in targets[len(values):])
    top = targets[0]
    for t in targets[: len(values)]:
        assert t["expected_value"] == pytest.approx(t["win_rate"] * t["clv"])
        assert 0 < t["fit_score"] <= 100
        # Fit scores are expected values on one scale: their ratios agree.
        assert t["fit_score"] / top["fit_score"] == pytest.approx(
            t["expected_value"] / top["expected_value"]
        )
    pockets = {" / ".join(p["conditions"].values()) for p in _json(demo, "discover")}
    assert {t["pocket"] for t in targets} - {None} <= pockets
    assert any(t["open_opportunity"] for t in targets)
    assert len({t["account_id"] for t in targets}) == len(targets)


@pytest.mark.slow
def test_targets_csv_for_abm_reads_with_numbers_as_numbers(demo):
    text = _run(["targets", "--data", str(demo), "--format", "csv"])
    frame = pl.read_csv(io.StringIO(text))
    assert frame.columns == TARGET_KEYS
    for key in ("clv", "win_rate", "expected_value", "fit_score"):
        assert frame.schema[key].is_numeric(), key
    assert frame.schema["open_opportunity"] == pl.Boolean
    assert frame.height == len(_json(demo, "targets"))
