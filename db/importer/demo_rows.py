"""Which warehouse rows are demo data, and how a real import replaces them.

A row is demo data when the batch that last wrote it was loaded by ``icp demo``
(``import_batches.is_demo``). Demo and real data never mix on a page: the first
real import deletes every demo row in its own transaction, recording each one
(``import_changes`` op ``delete``, with the row) so rolling that import back puts
the demo back exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from db.importer.columns import KINDS, REFERENCING
from db.importer.errors import ImportRefused
from db.importer.tables import row_key

_IS_DEMO = "SELECT batch_id FROM import_batches WHERE is_demo"


def holds_demo(engine: sa.Engine) -> bool:
    """True while the warehouse holds demo accounts (pages show a "Demo data" ribbon)."""
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                sa.text(
                    # Batches first: without a demo batch no account is read at all.
                    "SELECT EXISTS (SELECT 1 FROM import_batches b WHERE b.is_demo "
                    "AND b.status = 'committed' AND EXISTS "
                    "(SELECT 1 FROM accounts a WHERE a.batch_id = b.batch_id))"
                )
            )
        )


def real_account_count(conn: sa.Connection) -> int:
    """Accounts that are not demo data (imported by a person, or written outside an import)."""
    return int(
        conn.scalar(
            sa.text(
                "SELECT count(*) FROM accounts "
                f"WHERE batch_id IS NULL OR batch_id NOT IN ({_IS_DEMO})"
            )
        )
    )


def _refuse_if_real_rows_need_demo_accounts(conn: sa.Connection) -> None:
    for child in REFERENCING:
        count, example = conn.execute(
            sa.text(
                f"SELECT count(*), min(x.account_id) FROM {child} x "
                f"JOIN accounts a ON a.account_id = x.account_id AND a.batch_id IN ({_IS_DEMO}) "
                f"WHERE x.batch_id IS NULL OR x.batch_id NOT IN ({_IS_DEMO})"
            )
        ).one()
        if count:
            raise ImportRefused(
                f"the demo data cannot be replaced: {count:,} {child} row(s) of your data "
                f"refer to demo accounts (e.g. account {example}). Keep the demo "
                "(icp import --keep-demo) or roll back the import that added those rows."
            )


def _refuse_if_files_need_demo_accounts(conn: sa.Connection, stages: Mapping[str, str]) -> None:
    """The files were checked against the warehouse with the demo in it: a reference
    only a demo account satisfied would fail once the demo is gone."""
    staged_accounts = (
        f" AND NOT EXISTS (SELECT 1 FROM {stages['accounts']} n WHERE n.account_id = s.account_id)"
        if "accounts" in stages
        else ""
    )
    for child in REFERENCING:
        if child not in stages:
            continue
        count, example = conn.execute(
            sa.text(
                f"SELECT count(*), min(s.account_id) FROM {stages[child]} s "
                "WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)"
                f"{staged_accounts}"
            )
        ).one()
        if count:
            raise ImportRefused(
                f"{count:,} {child} row(s) refer to accounts only the demo data has "
                f"(e.g. account {example}), and this import replaces the demo: add those "
                "accounts to the accounts file, or keep the demo (icp import --keep-demo)"
            )


def replace_demo(conn: sa.Connection, batch_id: int, stages: Mapping[str, str]) -> int:
    """Delete every demo row inside ``conn``'s transaction, recorded under ``batch_id``;
    how many rows were removed. ``stages`` names the staging table of each kind
    being imported, whose references must not need a demo account."""
    _refuse_if_real_rows_need_demo_accounts(conn)
    removed = 0
    for kind in reversed(KINDS):  # rows that reference accounts go before the accounts
        removed += conn.execute(
            sa.text(
                f"WITH gone AS (DELETE FROM {kind} t WHERE t.batch_id IN ({_IS_DEMO}) "
                "RETURNING t.*) "
                "INSERT INTO import_changes (batch_id, table_name, row_key, op, before) "
                f"SELECT :batch, :kind, {row_key(kind, 'g')}, 'delete', to_jsonb(g) FROM gone g"
            ),
            {"batch": batch_id, "kind": kind},
        ).rowcount
    if removed:
        _refuse_if_files_need_demo_accounts(conn, stages)
    return removed
