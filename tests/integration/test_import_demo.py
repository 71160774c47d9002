"""Demo and real data never mix: a real import replaces the demo atomically, and
rolling it back puts the demo back exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from db.importer import ImportFile, ImportRefused, holds_demo, rollback_batch, run_import
from tests.integration.test_import_support import CHECKED_TABLES, checksums, good

DATA_TABLES = ("accounts", "subscriptions", "mrr_monthly", "opportunities")
REAL_ACCOUNTS = (
    "account_id,account_name,vertical,sub_industry,size_band,employees,region,use_case,"
    "lead_source,created_date\n"
    "R1,Real One,Retail,Grocery,SMB,40,EMEA,Reporting,Inbound,2023-01-05\n"
    "R2,Real Two,Retail,Grocery,SMB,60,EMEA,Reporting,Inbound,2023-02-05\n"
)
REAL_SUBSCRIPTIONS = (
    "subscription_id,account_id,product,start_date,end_date,mrr\n"
    "RS1,R1,Pro,2023-02-01,,500.00\n"
    "RS2,R2,Pro,2023-03-01,,700.00\n"
)


def real_files() -> list[ImportFile]:
    """A real company's export: two accounts no demo row shares."""
    return [
        ImportFile("accounts.csv", REAL_ACCOUNTS.encode()),
        ImportFile("subscriptions.csv", REAL_SUBSCRIPTIONS.encode()),
    ]


def account_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.text("SELECT account_id FROM accounts ORDER BY 1")))


def test_real_import_replaces_the_demo_and_rollback_restores_it(db: sa.Engine) -> None:
    demo = run_import(good(), db, user="demo", demo=True)
    assert holds_demo(db)
    with_demo = checksums(db)

    real = run_import(real_files(), db, user="revops")

    assert account_ids(db) == ["R1", "R2"]
    assert not holds_demo(db)
    assert real.demo_rows_removed == 13
    assert "the demo data was replaced (13 demo rows removed" in real.message
    with db.connect() as conn:
        ops = dict(
            conn.execute(
                sa.text(
                    "SELECT op, count(*) FROM import_changes WHERE batch_id = :b GROUP BY op"
                ),
                {"b": real.batch_id},
            ).all()
        )
        message = conn.scalar(
            sa.text("SELECT message FROM import_batches WHERE batch_id = :b"),
            {"b": real.batch_id},
        )
    assert ops == {"delete": 13, "insert": 4}
    assert "demo data was replaced" in message  # the import history says so

    undone = rollback_batch(db, real.batch_id, user="revops")

    assert sum(undone.reinstated.values()) == 13
    assert "the 13 demo rows it replaced are back" in undone.message
    assert holds_demo(db)
    data = [t for t in CHECKED_TABLES if t in DATA_TABLES]
    assert checksums(db, tuple(data)) == {t: with_demo[t] for t in data}
    assert demo.batch_id is not None


def test_keep_demo_keeps_both(db: sa.Engine) -> None:
    run_import(good(), db, user="demo", demo=True)
    real = run_import(real_files(), db, user="revops", keep_demo=True)
    assert real.demo_rows_removed == 0
    assert holds_demo(db)
    assert {"R1", "R2", "A001"} <= set(account_ids(db))


def test_replacing_the_demo_is_atomic(db: sa.Engine) -> None:
    """An import refused after the demo rows were deleted leaves the demo as it was: here
    a subscription refers to an account only the demo has."""
    run_import(good(), db, user="demo", demo=True)
    before = checksums(db, DATA_TABLES + ("import_changes",))
    files = real_files()
    files[1] = ImportFile(
        "subscriptions.csv", (REAL_SUBSCRIPTIONS + "RS3,A001,Pro,2023-03-01,,90.00\n").encode()
    )

    with pytest.raises(ImportRefused) as refused:
        run_import(files, db, user="revops")

    assert str(refused.value) == (
        "1 subscriptions row(s) refer to accounts only the demo data has (e.g. account A001), "
        "and this import replaces the demo: add those accounts to the accounts file, or keep "
        "the demo (icp import --keep-demo)"
    )
    assert checksums(db, DATA_TABLES + ("import_changes",)) == before
    assert holds_demo(db)


def test_the_demo_batch_cannot_be_rolled_back_under_the_real_import(db: sa.Engine) -> None:
    demo = run_import(good(), db, user="demo", demo=True)
    real = run_import(real_files(), db, user="revops")
    with pytest.raises(ImportRefused, match=f"Roll back batch {real.batch_id} first"):
        rollback_batch(db, demo.batch_id, user="revops")


def test_the_demos_declared_icp_goes_with_the_demo(db: sa.Engine) -> None:
    from app.commands.settings import SaveSettings
    from db.demo import DECLARED_ICP
    from db.queries import load_settings

    assert load_settings(db).declared_icp == {}
    run_import(good(), db, user="demo", demo=True)
    assert load_settings(db).declared_icp == DECLARED_ICP

    real = run_import(real_files(), db, user="revops")
    assert load_settings(db).declared_icp == {}  # the demo company's belief is not yours
    rollback_batch(db, real.batch_id, user="revops")
    assert load_settings(db).declared_icp == DECLARED_ICP

    # A declared ICP the user saves wins over the demo's, and stays after the demo goes.
    SaveSettings(db, {"declared_icp": {"region": ["EMEA"]}}, user="analyst").run()
    assert load_settings(db).declared_icp == {"region": ["EMEA"]}
    run_import(real_files(), db, user="revops")
    assert load_settings(db).declared_icp == {"region": ["EMEA"]}
