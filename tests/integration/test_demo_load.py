"""Loading the demo through the importer into a real warehouse, and the ``icp demo`` command."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from db.config import get_config
from db.demo import load_demo, write_demo_files
from db.schema import accounts, import_batches, opportunities, subscriptions

AS_OF = "2026-10"
TABLES = {"accounts": accounts, "subscriptions": subscriptions, "opportunities": opportunities}


def _table_rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            kind: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for kind, table in TABLES.items()
        }


def _file_rows(folder: Path) -> dict[str, int]:
    return {kind: pl.read_csv(folder / f"{kind}.csv").height for kind in TABLES}


def test_load_demo_imports_every_row_once(db: sa.Engine, tmp_path: Path) -> None:
    message = load_demo(db, tmp_path, seed=7, as_of=AS_OF)
    files = _file_rows(tmp_path)
    assert _table_rows(db) == files
    assert f"{files['accounts']:,} accounts" in message
    with db.connect() as conn:
        batches = conn.execute(
            sa.select(import_batches.c.created_by, import_batches.c.status)
        ).all()
        mrr = conn.execute(sa.select(sa.func.sum(subscriptions.c.mrr))).scalar_one()
    assert batches == [("demo", "committed")]
    expected = pl.read_csv(tmp_path / "subscriptions.csv")["mrr"].sum()
    assert abs(float(mrr) - expected) < 0.01

    again = load_demo(db, tmp_path, seed=7, as_of=AS_OF, if_empty=True)
    assert again == f"warehouse already has {files['accounts']:,} accounts; nothing loaded"
    assert _table_rows(db) == files
    with db.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(import_batches)).scalar_one() == 1
        )


def test_icp_demo_files_only_writes_the_generator_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--files-only", "--out", str(tmp_path / "cli"), "--as-of", AS_OF, "--seed", "3"],
    )
    assert result.exit_code == 0, result.output
    expected = write_demo_files(tmp_path / "api", seed=3, as_of=AS_OF)
    for kind, path in expected.items():
        assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes(), kind
    assert str(tmp_path / "cli" / "accounts.csv") in result.output


def test_icp_demo_rejects_a_bad_month(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--files-only", "--out", str(tmp_path), "--as-of", "10/2026"]
    )
    assert result.exit_code != 0
    assert "YYYY-MM" in result.output
    assert not (tmp_path / "accounts.csv").exists()


def test_icp_demo_if_empty_loads_then_leaves_the_warehouse_alone(
    env_db: sa.Engine, tmp_path: Path
) -> None:
    args = ["demo", "--if-empty", "--out", str(tmp_path), "--as-of", AS_OF]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output
    loaded = _table_rows(env_db)
    assert loaded == _file_rows(tmp_path)
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "nothing loaded" in second.output
    assert _table_rows(env_db) == loaded


def test_icp_demo_says_why_when_the_import_is_refused(
    env_db: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ICP_MAX_ROWS", "100")
    get_config.cache_clear()
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--as-of", AS_OF])
    assert result.exit_code == 1
    assert "demo data not loaded" in result.output
    assert "the limit is 100 rows" in result.output
    assert _table_rows(env_db) == {"accounts": 0, "subscriptions": 0, "opportunities": 0}


def test_report_tables_say_the_data_is_the_demo(env_db: sa.Engine, tmp_path: Path) -> None:
    from app.cli.report import DEMO_LINE, report_app

    load_demo(env_db, tmp_path, seed=7, as_of=AS_OF)
    runner = CliRunner()
    table = runner.invoke(report_app, ["scorecard"])
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0] == DEMO_LINE
    # Data formats stay data: no line added to JSON or CSV.
    as_json = runner.invoke(report_app, ["scorecard", "--format", "json"])
    assert as_json.stdout.lstrip().startswith("[")
