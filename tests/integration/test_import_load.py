"""Loading valid exports: happy path, idempotence, next month's changes, rollback, audit."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from db.importer import ImportFile, data_version, import_history, rollback_batch, run_import

GOOD = Path(__file__).resolve().parent.parent / "data" / "good"


def _good() -> list[ImportFile]:
    return [
        ImportFile.from_path(GOOD / n)
        for n in ("opportunities.csv", "subscriptions.csv", "accounts.csv")
    ]


def test_canonical_csvs_load_in_one_batch(db: sa.Engine) -> None:
    result = run_import(_good(), db, user="tester")
    assert result.batch_id == 1
    assert (result.inserted, result.updated, result.unchanged) == (13, 0, 0)
    by_name = {f.name: (f.kind, f.inserted) for f in result.files}
    assert by_name == {
        "accounts.csv": ("accounts", 4),
        "subscriptions.csv": ("subscriptions", 4),
        "opportunities.csv": ("opportunities", 5),
    }
    with db.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT size_band, sub_industry, batch_id FROM accounts WHERE account_id = 'A003'"
            )
        ).one()
        assert tuple(row) == ("Mid-Market", "Unspecified", 1)
        assert (
            str(
                conn.scalar(sa.text("SELECT mrr FROM subscriptions WHERE subscription_id = 'S002'"))
            )
            == "8000.50"
        )
        assert (
            conn.scalar(
                sa.text("SELECT count(*) FROM import_changes WHERE batch_id = 1 AND op = 'insert'")
            )
            == 13
        )
    assert data_version(db) == 1
    history = import_history(db)
    assert history[0]["status"] == "committed" and history[0]["created_by"] == "tester"
    assert sorted(f["file_name"] for f in history[0]["files"]) == [
        "accounts.csv",
        "opportunities.csv",
        "subscriptions.csv",
    ]
    assert rollback_batch(db, 1, user="tester").deleted["accounts"] == 4
