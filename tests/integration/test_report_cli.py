"""``icp report`` end to end on small export folders (``--data``), no warehouse."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.report import report_app

runner = CliRunner()

ACCOUNTS = """account_id,account_name,vertical,sub_industry,employees
A1,Alpha,Banking,Credit Unions,50
A2,Beta,Banking,Credit Unions,500
A3,Gamma,Retail,Online,5000
P1,Prospect,Retail,Online,20
"""
# A1 expands (100 -> 130 from March), A2 flat, A3 churns at the end of April.
SUBSCRIPTIONS = """subscription_id,account_id,start_date,end_date,mrr
S1,A1,2024-01-01,,100
S2,A1,2024-03-01,,30
S3,A2,2024-01-10,,50
S4,A3,2024-01-01,2024-04-30,40
"""
OPPORTUNITIES = """opportunity_id,account_id,opportunity_type,created_date,close_date,status,amount
O1,A1,new_business,2023-11-01,2023-12-31,won,1200
O2,A3,new_business,2024-03-01,2024-03-21,won,600
O3,P1,new_business,2024-04-01,2024-05-01,lost,900
O4,P1,new_business,2024-05-01,,open,300
O5,A2,new_business,2024-06-01,2024-06-30,won,1000
"""


def _folder(tmp_path: Path, subscriptions: str = SUBSCRIPTIONS) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "accounts.csv").write_text(ACCOUNTS)
    (folder / "subscriptions.csv").write_text(subscriptions)
    (folder / "opportunities.csv").write_text(OPPORTUNITIES)
    return folder


def _json(args: list[str]) -> list[dict]:
    result = runner.invoke(report_app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scorecard_json_keys_and_values(tmp_path):
    rows = _json(
        [
            "scorecard",
            "--as-of",
            "2024-06",
            "--window",
            "3",
            "--by",
            "vertical",
            "--format",
            "json",
            "--data",
            str(_folder(tmp_path)),
        ]
    )
    assert [r["vertical"] for r in rows] == ["Banking", "Retail"]
    assert list(rows[0]) == [
        "vertical",
        "accounts",
        "nrr",
        "nrr_low",
        "nrr_high",
        "grr",
        "logo_retention",
        "arpa",
        "clv",
        "clv_low",
        "clv_high",
        "clv_simple",
        "win_rate",
        "won",
        "lost",
        "avg_deal_size",
        "days_to_close",
        "days_to_close_p25",
        "days_to_close_p75",
        "days_to_close_cv",
        "sales_velocity",
        "expansion_rate",
        "contraction_rate",
        "prospects",
        "tam",
        "tier",
    ]
    bank, retail = rows
    # Window 3 at 2024-06 starts from 2024-03: A1 130, A2 50 -> 130, 50.
    assert bank["accounts"] == 2 and bank["nrr"] == 1.0 and bank["grr"] == 1.0
    assert bank["logo_retention"] == 1.0 and bank["arpa"] == 90.0
    assert bank["tier"] == "insufficient_data"  # 2 accounts < min_accounts 10
    assert bank["win_rate"] == 1.0 and (bank["won"], bank["lost"]) == (1, 0)
    assert bank["avg_deal_size"] == 1000.0
    assert bank["days_to_close"] == 29.0 and bank["prospects"] == 0
    # Retail: A3 (40) churns; P1 is a prospect with one lost deal and one open.
    assert retail["accounts"] == 1 and retail["nrr"] == 0.0 and retail["logo_retention"] == 0.0
    assert retail["arpa"] is None and retail["clv_simple"] is None
    assert retail["win_rate"] == 0.0 and retail["avg_deal_size"] is None
    assert retail["prospects"] == 1 and retail["tam"] is None


def test_scorecard_two_dimensions_as_csv(tmp_path):
    result = runner.invoke(
        report_app,
        [
            "scorecard",
            "--as-of",
            "2024-06",
            "--window",
            "3",
            "--by",
            "vertical,sub_industry",
            "--format",
            "csv",
            "--data",
            str(_folder(tmp_path)),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["vertical"], r["sub_industry"]) for r in rows] == [
        ("Banking", "Credit Unions"),
        ("Retail", "Online"),
    ]
    assert rows[1]["arpa"] == ""  # undefined is empty in CSV
    assert float(rows[0]["nrr"]) == 1.0


def test_movements(tmp_path):
    rows = _json(
        ["movements", "--as-of", "2024-06", "--format", "json", "--data", str(_folder(tmp_path))]
    )
    by_month = {r["month"]: r for r in rows}
    assert list(by_month) == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert by_month["2024-01"]["new"] == 190 and by_month["2024-01"]["quick_ratio"] is None
    assert by_month["2024-03"]["expansion"] == 30
    assert by_month["2024-05"]["churn"] == 40 and by_month["2024-05"]["ending_mrr"] == 180
    assert by_month["2024-05"]["quick_ratio"] == 0.0


def test_cohorts_for_one_segment(tmp_path):
    rows = _json(
        [
            "cohorts",
            "--as-of",
            "2024-06",
            "--period",
            "month",
            "--by",
            "vertical",
            "--segment",
            "Retail",
            "--format",
            "json",
            "--data",
            str(_folder(tmp_path)),
        ]
    )
    assert {r["cohort"] for r in rows} == {"2024-01"}
    assert [r["logo_retention"] for r in rows] == [1, 1, 1, 1, 0, 0]
    assert list(rows[0]) == ["cohort", "age", "accounts", "nrr", "grr", "logo_retention"]


def test_flags_and_alerts_print(tmp_path):
    folder = str(_folder(tmp_path))
    flags = runner.invoke(report_app, ["flags", "--as-of", "2024-06", "--data", folder])
    assert flags.exit_code == 0 and "No flags." in flags.stdout  # every segment too small
    alerts = _json(["alerts", "--as-of", "2024-06", "--format", "json", "--data", folder])
    assert alerts == []


def test_table_is_human_readable(tmp_path):
    result = runner.invoke(
        report_app,
        ["scorecard", "--as-of", "2024-06", "--window", "3", "--data", str(_folder(tmp_path))],
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # The table says what it used, and shows values and tiers as the pages do.
    assert lines[0] == "scorecard: as of 2024-06; window 3 months; by vertical"
    assert "100%" in result.stdout and "Insufficient data" in result.stdout
    assert "insufficient_data" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scorecard", "--as-of", "2024-13"], "YYYY-MM"),
        (["scorecard", "--as-of", "2030-01"], "after the data"),
        (["scorecard", "--by", "planet"], "unknown segment dimension"),
        (["cohorts", "--by", "planet", "--segment", "Mars"], "unknown segment dimension"),
        (
            ["cohorts", "--by", "vertical", "--segment", "Credit Unions"],
            "no account has vertical 'Credit Unions'; the values are: Banking, Retail",
        ),
    ],
)
def test_user_errors(tmp_path, args, message):
    result = runner.invoke(report_app, [*args, "--data", str(_folder(tmp_path))])
    assert result.exit_code == 1
    assert message in result.output


def test_bad_folder_gets_the_import_report(tmp_path):
    bad = SUBSCRIPTIONS.replace("2024-01-10,,50", "2024-01-10,,-50")
    result = runner.invoke(report_app, ["scorecard", "--data", str(_folder(tmp_path, bad))])
    assert result.exit_code == 1
    assert "subscriptions.csv" in result.output and "-50" in result.output


def test_warehouse_is_the_default_source(tmp_path, env_db):

    from app.commands.settings import SaveSettings
    from db.importer import ImportFile, run_import
    from db.queries import load_frames, load_settings

    folder = _folder(tmp_path)
    files = [ImportFile.from_path(p) for p in sorted(folder.iterdir())]
    run_import(files, env_db, user="test")
    SaveSettings(
        env_db, {"min_accounts": 1, "declared_icp": {"vertical": ["Banking"]}}, user="test"
    ).run()
    settings = load_settings(env_db)
    assert settings.min_accounts == 1 and settings.declared_icp == {"vertical": ["Banking"]}
    frames = load_frames(env_db)
    assert frames.accounts.height == 4 and frames.subscriptions.height == 4
    assert frames.opportunities.get_column("close_date").null_count() == 1
    rows = _json(["scorecard", "--as-of", "2024-06", "--window", "3", "--format", "json"])
    bank = rows[0]
    assert bank["vertical"] == "Banking" and bank["nrr"] == 1.0
    assert bank["tier"] == "healthy"  # min_accounts 1 from the stored settings
    from_files = _json(
        [
            "scorecard",
            "--as-of",
            "2024-06",
            "--window",
            "3",
            "--format",
            "json",
            "--data",
            str(folder),
        ]
    )
    keys = ("accounts", "nrr", "grr", "logo_retention", "arpa", "win_rate", "prospects")
    assert [[r[k] for k in keys] for r in rows] == [[r[k] for k in keys] for r in from_files]


def _accounts(tmp_path: Path, *args: str, fmt: str = "json") -> list[dict]:
    folder = _folder(tmp_path)
    return _json(["accounts", *args, "--format", fmt, "--data", str(folder)])


def test_accounts_lists_the_starting_cohort_with_exactly_its_keys(tmp_path):
    rows = _accounts(
        tmp_path, "--by", "vertical", "--segment", "Banking", "--as-of", "2024-06", "--window", "3"
    )
    assert rows == [
        {"account_id": "A1", "account_name": "Alpha", "vertical": "Banking",
         "start_mrr": 130.0, "end_mrr": 130.0, "status": "retained"},
        {"account_id": "A2", "account_name": "Beta", "vertical": "Banking",
         "start_mrr": 50.0, "end_mrr": 50.0, "status": "retained"},
    ]
    company = _json(["accounts", "--as-of", "2024-06", "--window", "3", "--format", "json",
                     "--data", str(tmp_path / "exports")])
    assert [(r["account_id"], r["status"]) for r in company] == [
        ("A1", "retained"), ("A2", "retained"), ("A3", "churned"),
    ]
    assert list(company[0]) == [
        "account_id", "account_name", "start_mrr", "end_mrr", "status",
    ]


def test_accounts_of_a_movement_a_cohort_cell_and_deals(tmp_path):
    churn = _accounts(tmp_path, "--movement", "churn", "--month", "2024-05")
    assert [(r["account_id"], r["month"], r["previous_mrr"], r["amount"]) for r in churn] == [
        ("A3", "2024-05", 40.0, 40.0)
    ]
    folder = str(tmp_path / "exports")
    expansion = _json(["accounts", "--movement", "expansion", "--month", "2024-03",
                       "--format", "json", "--data", folder])
    assert [(r["account_id"], r["amount"]) for r in expansion] == [("A1", 30.0)]
    cell = _json(["accounts", "--cohort", "2024Q1", "--age", "4", "--as-of", "2024-06",
                  "--format", "json", "--data", folder])
    assert [(r["account_id"], r["start_mrr"], r["mrr_at_age"], r["status"]) for r in cell] == [
        ("A1", 100.0, 130.0, "expanded"), ("A2", 50.0, 50.0, "retained"),
        ("A3", 40.0, 0.0, "churned"),
    ]
    deals = _json(["accounts", "--deals", "won,lost", "--as-of", "2024-06", "--window", "6",
                   "--format", "json", "--data", folder])
    assert [(r["opportunity_id"], r["status"], r["amount"]) for r in deals] == [
        ("O5", "won", 1000.0), ("O2", "won", 600.0), ("O3", "lost", 900.0),
    ]


def test_accounts_table_and_csv_say_what_they_sum_to(tmp_path):
    folder = str(_folder(tmp_path))
    args = ["accounts", "--as-of", "2024-06", "--window", "3", "--data", folder]
    table = runner.invoke(report_app, args)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == "retention_accounts: as of 2024-06; window 3 months"
    # (130 + 50 + 0) / (130 + 50 + 40)
    assert lines[1].startswith("NRR 82% = $180 / $220 over 3 accounts")
    out = runner.invoke(report_app, [*args, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert sum(float(r["end_mrr"]) for r in rows) == 180.0
    assert list(rows[0]) == ["account_id", "account_name", "start_mrr", "end_mrr", "status"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "vertical"], "--by and --segment go together"),
        (["--month", "2024-03"], "--month goes with --movement"),
        (["--movement", "churn", "--month", "2024-03", "--as-of", "2024-04"], "give one of"),
        (["--cohort", "2024Q1"], "needs both a cohort"),
        (["--deals", "won", "--movement", "new"], "pick one list"),
        (["--deals", "pending"], "deals 'pending'"),
        (["--by", "vertical", "--segment", "Mining"], "no account has vertical 'Mining'"),
    ],
)
def test_accounts_refuses_what_it_cannot_list(tmp_path, args, message):
    result = runner.invoke(report_app, ["accounts", *args, "--data", str(_folder(tmp_path))])
    assert result.exit_code == 1
    assert message in result.output
