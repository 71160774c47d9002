"""The tier history: each import, rollback and demo load records what the scorecard said,
and the scorecard compares with the previous month recorded (METRICS.md, "Tier history")."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from app.views.context import warehouse_context
from app.views.history import tier_changes, tier_history
from app.views.params import resolve
from tests.integration.monthly_exports import write_exports

runner = CliRunner()


def _icp(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _records(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT data_version, to_char(as_of, 'YYYY-MM') AS as_of, window_months, "
                "dimensions, segment_label, event, batch_id, tier, nrr, alerts "
                "FROM tier_history ORDER BY data_version, dimensions, segment_label"
            )
        ).mappings()
        return [dict(r) for r in rows]


def _row(view, label: str) -> dict:
    return next(r for r in view.rows() if r["segment_label"] == label)


@pytest.mark.slow
def test_imports_and_a_rollback_record_what_the_scorecard_said(
    env_db: sa.Engine, tmp_path: Path
) -> None:
    december = write_exports(tmp_path / "dec", "2024-12")
    january = write_exports(tmp_path / "jan", "2025-01")
    _icp("import", *map(str, december), "--user", "ops")
    first = _records(env_db)
    assert {(r["dimensions"], r["segment_label"]) for r in first} == {
        ("", "Company"),
        ("vertical", "Banking"),
        ("vertical", "Retail"),
        ("vertical,sub_industry", "Banking / Credit Unions"),
        ("vertical,sub_industry", "Banking / Retail Banks"),
        ("vertical,sub_industry", "Retail / Online"),
    }
    assert {(r["data_version"], r["as_of"], r["window_months"], r["event"], r["batch_id"])
            for r in first} == {(1, "2024-12", 12, "import", 1)}
    tiers = {r["segment_label"]: r["tier"] for r in first}
    assert tiers["Banking / Credit Unions"] == "core_icp"
    assert tiers["Retail"] == "healthy"
    # Alerts are recorded by vertical (a list, maybe empty), not for the sub-industries.
    assert all(isinstance(r["alerts"], list) for r in first if r["dimensions"] == "vertical")
    assert all(r["alerts"] is None for r in first if r["dimensions"] == "vertical,sub_industry")

    _icp("import", *map(str, january), "--user", "ops")
    ctx = warehouse_context(env_db)
    changes = tier_changes(ctx, resolve(ctx))
    retail = _row(changes, "Retail")
    # The numbers now are the scorecard's; the ones before are what the import recorded.
    assert retail["previous_as_of"] == "2024-12"
    assert (retail["previous_tier"], retail["tier"], retail["tier_change"]) == (
        "healthy", "accidental_icp", "down"
    )
    assert retail["previous_nrr"] == pytest.approx(1.0)
    assert retail["nrr"] == pytest.approx(8 / 12)
    assert retail["nrr_change"] == pytest.approx(8 / 12 - 1)
    assert _row(changes, "Banking")["tier_change"] == "same"
    drilled = tier_changes(ctx, resolve(ctx, by=("sub_industry",), filters={"vertical": ["Retail"]}))
    assert _row(drilled, "Retail / Online")["previous_tier"] == "healthy"
    history = tier_history(ctx, resolve(ctx, by=(), filters={"vertical": ["Retail"]}))
    assert [(r["month"], r["tier"], r["recorded"].split(",")[0]) for r in history.rows()] == [
        ("2024-12", "healthy", "import of batch 1"),
        ("2025-01", "accidental_icp", "now"),
    ]

    # Rolling January back records the restored version: December again, as the rollback
    # of batch 2; the scorecard of December then has no earlier month to compare with.
    _icp("import", "rollback", "2", "--user", "ops")
    restored = [r for r in _records(env_db) if r["data_version"] == 3]
    assert {(r["as_of"], r["event"], r["batch_id"]) for r in restored} == {
        ("2024-12", "rollback", 2)
    }
    assert {r["segment_label"]: r["tier"] for r in restored} == tiers
    ctx = warehouse_context(env_db)
    assert all(r["previous_tier"] is None for r in tier_changes(ctx, resolve(ctx)).rows())

    # The same view from the command line, and the history of a sub-industry.
    _icp("import", *map(str, january), "--user", "ops")
    rows = json.loads(_icp("report", "changes", "--format", "json"))
    assert {r["vertical"]: r["tier_change"] for r in rows} == {"Banking": "same", "Retail": "down"}
    table = _icp("report", "history", "--vertical", "Retail", "--sub-industry", "Online")
    assert "rollback of batch 2" in table and "Accidental ICP" in table


def test_a_failed_recording_leaves_the_import_standing(
    env_db: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.commands import history as recorder

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(recorder, "snapshot", broken)
    result = runner.invoke(app, ["import", *map(str, write_exports(tmp_path, "2024-12"))])
    assert result.exit_code == 0, result.output
    assert "warning: the tier history of this data version was not recorded" in result.output
    assert _records(env_db) == []
    with env_db.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM accounts")) == 36


def test_an_import_job_records_its_history_whoever_watches_it(
    env_db: sa.Engine, tmp_path: Path
) -> None:
    from app.commands import imports
    from db.importer import ImportFile

    files = [ImportFile.from_path(p) for p in write_exports(tmp_path, "2024-12")]
    job = imports.import_and_wait(files, "ops")  # as POST /api/import and the upload page
    assert job["result"]["import"]["changed"]
    # The thread that waited for the job started the recording; wait for it to end.
    for thread in threading.enumerate():
        if thread.name == "icp-warm-views":
            thread.join(timeout=120)
    assert {(r["event"], r["batch_id"], r["data_version"]) for r in _records(env_db)} == {
        ("import", 1, 1)
    }
