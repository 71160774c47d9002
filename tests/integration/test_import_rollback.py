"""Rollback restores the exact earlier state, and is refused when later batches stand in the way."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from db.importer import (
    ImportFile,
    ImportRefused,
    import_history,
    rollback_batch,
    run_import,
)
from db.queries import read_data_version as data_version
from tests.integration.test_import_support import checksums, good, seed

DATA_TABLES = ("accounts", "subscriptions", "mrr_monthly", "opportunities")


def test_rollback_restores_exactly_the_state_before(db: sa.Engine) -> None:
    empty = checksums(db, DATA_TABLES)
    seed(db)
    after_seed = checksums(db, DATA_TABLES)
    run_import(
        good("subscriptions_next_month.csv", "opportunities_next_month.csv"), db, user="tester"
    )
    assert checksums(db, DATA_TABLES) != after_seed
    version = data_version(db)

    result = rollback_batch(db, 2, user="boss")
    assert (
        result.deleted["subscriptions"],
        result.restored["subscriptions"],
        result.restored["opportunities"],
    ) == (1, 2, 1)
    assert result.message == "batch 2 rolled back: 1 inserted rows removed, 3 updated rows restored"
    assert checksums(db, DATA_TABLES) == after_seed
    assert data_version(db) == version + 1
    latest = import_history(db)[0]
    assert (latest["batch_id"], latest["status"], latest["rolled_back_by"]) == (
        2,
        "rolled_back",
        "boss",
    )
    assert latest["rolled_back_at"] is not None

    rollback_batch(db, 1, user="boss")
    assert checksums(db, DATA_TABLES) == empty


def test_rollback_refused_while_a_later_batch_changed_the_same_rows(db: sa.Engine) -> None:
    seed(db)
    run_import(good("subscriptions_next_month.csv"), db, user="tester")
    before = checksums(db, DATA_TABLES)
    with pytest.raises(ImportRefused) as info:
        rollback_batch(db, 1, user="boss")
    assert str(info.value) == (
        "batch 1 cannot be rolled back: later imports changed the same rows: batch 2 (2 rows). "
        "Roll back batch 2 first (newest first)."
    )
    assert checksums(db, DATA_TABLES) == before
    assert [b["status"] for b in import_history(db)] == ["committed", "committed"]
    rollback_batch(db, 2, user="boss")
    rollback_batch(db, 1, user="boss")
    assert checksums(db, ("accounts",))["accounts"][0] == 0


def test_rollback_refused_when_later_rows_refer_to_accounts_it_added(db: sa.Engine) -> None:
    run_import(good("accounts.csv"), db, user="tester")
    run_import(good("subscriptions.csv"), db, user="tester")
    before = checksums(db, DATA_TABLES)
    with pytest.raises(ImportRefused) as info:
        rollback_batch(db, 1, user="boss")
    assert str(info.value) == (
        "batch 1 cannot be rolled back: accounts it added are referenced by 4 subscriptions row(s) of batch 2 "
        "(e.g. account A001). Roll back the batches that added those rows first."
    )
    assert checksums(db, DATA_TABLES) == before


def test_rollback_of_unknown_failed_or_rolled_back_batches_is_refused(db: sa.Engine) -> None:
    seed(db)
    with pytest.raises(ImportRefused, match="^there is no import batch 42$"):
        rollback_batch(db, 42, user="boss")
    with pytest.raises(ImportRefused):
        run_import([ImportFile("bad.csv", b"account_id,vertical\nA9,\n")], db, user="tester")
    with pytest.raises(
        ImportRefused, match="^batch 2 is a failed import; it wrote nothing to roll back$"
    ):
        rollback_batch(db, 2, user="boss")
    rollback_batch(db, 1, user="boss")
    with pytest.raises(
        ImportRefused,
        match=r"^batch 1 was already rolled back on \d{4}-\d\d-\d\d \d\d:\d\d by boss$",
    ):
        rollback_batch(db, 1, user="boss")


def test_reimport_after_rollback_loads_again(db: sa.Engine) -> None:
    seed(db)
    after_seed = checksums(db, DATA_TABLES)
    rollback_batch(db, 1, user="boss")
    again = run_import(good(), db, user="tester")
    assert again.inserted == 13
    with db.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM accounts WHERE batch_id = 2")) == 4
    assert again.batch_id == 2
    # Same values as the first load, but written by (and rollback-able as) batch 2.
    assert checksums(db, ("subscriptions",))["subscriptions"] != after_seed["subscriptions"]


def test_rollback_of_a_batch_that_moved_rows_to_an_account_it_added(db: sa.Engine) -> None:
    seed(db)
    after_seed = checksums(db, DATA_TABLES)
    accounts = b"account_id,vertical\nA005,Software\n"
    moved = b"subscription_id,account_id,product,start_date,end_date,mrr\nS001,A005,Pro,2022-02-01,,1200.00\n"
    result = run_import(
        [ImportFile("new.csv", accounts), ImportFile("moved.csv", moved)], db, user="tester"
    )
    assert (result.inserted, result.updated) == (1, 1)
    rolled = rollback_batch(db, 2, user="boss")
    assert (rolled.deleted["accounts"], rolled.restored["subscriptions"]) == (1, 1)
    assert checksums(db, DATA_TABLES) == after_seed
