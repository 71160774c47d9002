"""Imports under contention and failure: serialized when concurrent, all-or-nothing when killed."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from db.importer import ImportFailed, ImportFile, import_history, run_import
from tests.integration.test_import_support import batch_statuses, checksums, good, seed

DATA_TABLES = (
    "accounts",
    "subscriptions",
    "mrr_monthly",
    "opportunities",
    "import_changes",
    "data_version",
)


def test_two_imports_at_once_are_serialized_and_both_correct(db: sa.Engine) -> None:
    staged = threading.Event()
    results: dict[str, object] = {}

    def hold(_pid: int) -> None:
        staged.set()
        # Hold the lock long enough for the second import to be waiting on it.
        time.sleep(1.0)

    def first() -> None:
        results["first"] = run_import(good(), db, user="first", after_staging=hold)

    def second() -> None:
        results["second"] = run_import(good(), db, user="second")

    a = threading.Thread(target=first)
    a.start()
    assert staged.wait(30)
    b = threading.Thread(target=second)
    b.start()
    a.join(60)
    b.join(60)
    one, two = results["first"], results["second"]
    assert (one.batch_id, one.inserted, one.unchanged) == (1, 13, 0)
    # Had the second not waited, it would not have seen the first's rows and would count them as inserted.
    assert (two.batch_id, two.inserted, two.updated, two.unchanged) == (2, 0, 0, 13)
    history = {b["batch_id"]: b for b in import_history(db)}
    assert history[2]["finished_at"] >= history[1]["finished_at"]
    with db.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM import_changes")) == 13


def test_connection_killed_mid_import_leaves_nothing_and_the_file_loads_afterwards(
    db: sa.Engine,
) -> None:
    seed(db)
    before = checksums(db, DATA_TABLES)
    batches = batch_statuses(db)

    def kill(pid: int) -> None:
        with db.connect() as other:
            assert other.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True

    files = good("subscriptions_next_month.csv", "opportunities_next_month.csv")
    with pytest.raises(ImportFailed) as info:
        run_import(files, db, user="tester", after_staging=kill)
    assert str(info.value).startswith("the import failed and nothing was written (")
    assert checksums(db, DATA_TABLES) == before
    after = batch_statuses(db)
    assert after[: len(batches)] == batches and [s for _, s in after[len(batches) :]] == ["failed"]
    assert import_history(db, 1)[0]["message"].startswith("load failed: ")

    result = run_import(files, db, user="tester")
    assert (result.inserted, result.updated, result.unchanged) == (1, 3, 6)
    assert result.batch_id == after[-1][0] + 1


def test_account_removed_between_validation_and_load_is_a_clear_failure(db: sa.Engine) -> None:
    run_import(good("accounts.csv"), db, user="tester")
    before = checksums(db, DATA_TABLES)
    data = b"subscription_id,account_id,product,start_date,end_date,mrr\nS900,A004,Pro,2024-01-01,,10\n"

    def remove_account(_pid: int) -> None:
        with db.begin() as other:
            other.execute(sa.text("DELETE FROM accounts WHERE account_id = 'A004'"))

    with pytest.raises(ImportFailed) as info:
        run_import([ImportFile("late.csv", data)], db, user="tester", after_staging=remove_account)
    assert "an account the files refer to was removed meanwhile" in str(info.value)
    assert "nothing was written" in str(info.value)
    after = checksums(db, DATA_TABLES)
    assert (
        after["subscriptions"] == before["subscriptions"]
        and after["import_changes"] == before["import_changes"]
    )
