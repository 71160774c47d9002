"""Undo one committed import batch exactly, or refuse saying what stands in the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from db.importer.columns import KINDS
from db.importer.errors import ImportRefused
from db.importer.tables import IMPORT_LOCK, key_columns, row_key
from metrics.frames import COLUMNS

_CHILDREN = ("subscriptions", "mrr_monthly", "opportunities")


@dataclass
class RollbackResult:
    """What a rollback restored, per table: rows deleted (were inserted) and restored (were updated)."""

    batch_id: int
    deleted: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)
    reinstated: dict[str, int] = field(default_factory=dict)
    """Rows the batch had deleted (the demo data it replaced), put back."""
    data_version: int | None = None

    @property
    def message(self) -> str:
        """One line for the user."""
        spend = self.reinstated.get("spend", 0)
        demo_rows = sum(self.reinstated.values()) - spend
        demo = f"; the {demo_rows:,} demo rows it replaced are back" if demo_rows else ""
        if spend:
            demo += f"; {spend:,} spend rows it replaced are back"
        return (
            f"batch {self.batch_id} rolled back: {sum(self.deleted.values()):,} inserted rows "
            f"removed, {sum(self.restored.values()):,} updated rows restored{demo}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "message": self.message}


def _refuse_if_blocked(conn: sa.Connection, batch_id: int) -> None:
    later = conn.execute(
        sa.text(
            "SELECT c2.batch_id, count(*) FROM import_changes c1 "
            "JOIN import_changes c2 ON c2.table_name = c1.table_name AND c2.row_key = c1.row_key "
            "AND c2.batch_id > c1.batch_id "
            "JOIN import_batches b ON b.batch_id = c2.batch_id AND b.status = 'committed' "
            "WHERE c1.batch_id = :batch GROUP BY c2.batch_id ORDER BY c2.batch_id"
        ),
        {"batch": batch_id},
    ).all()
    if later:
        listed = ", ".join(f"batch {b} ({n:,} rows)" for b, n in later)
        newest = ", ".join(str(b) for b, _ in reversed(later))
        raise ImportRefused(
            f"batch {batch_id} cannot be rolled back: later imports changed the same rows: {listed}. "
            f"Roll back batch {newest} first (newest first)."
        )
    # Accounts this batch inserted must not be referenced by rows outside it: its
    # own rows are deleted or restored to a state from before those accounts existed.
    for child in _CHILDREN:
        refs = conn.execute(
            sa.text(
                f"SELECT x.batch_id, count(*), min(x.account_id) FROM import_changes c "
                f"JOIN {child} x ON x.account_id = c.row_key "
                f"WHERE c.batch_id = :batch AND c.table_name = 'accounts' AND c.op = 'insert' "
                f"AND NOT EXISTS (SELECT 1 FROM import_changes i WHERE i.batch_id = :batch "
                f"AND i.table_name = :child AND i.row_key = {row_key(child, 'x')}) "
                f"GROUP BY x.batch_id ORDER BY x.batch_id"
            ),
            {"batch": batch_id, "child": child},
        ).all()
        if refs:
            listed = ", ".join(
                f"{n:,} {child} row(s) of {'batch ' + str(b) if b is not None else 'no import'} (e.g. account {a})"
                for b, n, a in refs
            )
            raise ImportRefused(
                f"batch {batch_id} cannot be rolled back: accounts it added are referenced by {listed}. "
                "Roll back the batches that added those rows first."
            )


def check_batch(conn: sa.Connection, batch_id: int) -> None:
    """Raise :class:`ImportRefused` saying why batch ``batch_id`` cannot be rolled back.

    Refused when the batch is unknown, not committed, a later committed batch
    changed the same rows, or rows outside the batch refer to accounts it added.
    """
    batch = conn.execute(
        sa.text(
            "SELECT status, rolled_back_at, rolled_back_by FROM import_batches "
            "WHERE batch_id = :b FOR UPDATE"
        ),
        {"b": batch_id},
    ).one_or_none()
    if batch is None:
        raise ImportRefused(f"there is no import batch {batch_id}")
    if batch.status == "rolled_back":
        raise ImportRefused(
            f"batch {batch_id} was already rolled back on "
            f"{batch.rolled_back_at:%Y-%m-%d %H:%M} by {batch.rolled_back_by}"
        )
    if batch.status != "committed":
        raise ImportRefused(
            f"batch {batch_id} is a {batch.status} import; it wrote nothing to roll back"
        )
    _refuse_if_blocked(conn, batch_id)


def undo_batch(conn: sa.Connection, batch_id: int, user: str) -> RollbackResult:
    """Restore every row batch ``batch_id`` inserted, updated or deleted, inside
    ``conn``'s transaction; the caller commits and bumps the data version."""
    result = RollbackResult(batch_id)
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    check_batch(conn, batch_id)
    params = {"batch": batch_id}
    # Restore updated rows first, so none still points at an account this batch
    # added; then delete inserted rows, children before the accounts they reference;
    # then put back the (demo) rows it deleted, accounts before the rows referring to them.
    for kind in KINDS:
        cols = [*COLUMNS[kind], "batch_id"]
        keys = key_columns(kind)
        settable = [c for c in cols if c not in keys]
        result.restored[kind] = conn.execute(
            sa.text(
                f"UPDATE {kind} t SET ({', '.join(settable)}) = "
                f"({', '.join('r.' + c for c in settable)}) "
                f"FROM import_changes c, jsonb_populate_record(NULL::{kind}, c.before) r "
                f"WHERE c.batch_id = :batch AND c.table_name = '{kind}' AND c.op = 'update' "
                f"AND c.row_key = {row_key(kind, 't')}"
            ),
            params,
        ).rowcount
    for kind in reversed(KINDS):
        result.deleted[kind] = conn.execute(
            sa.text(
                f"DELETE FROM {kind} t USING import_changes c WHERE c.batch_id = :batch "
                f"AND c.table_name = '{kind}' AND c.op = 'insert' "
                f"AND c.row_key = {row_key(kind, 't')}"
            ),
            params,
        ).rowcount
    for kind in KINDS:
        cols = [*COLUMNS[kind], "batch_id"]
        result.reinstated[kind] = conn.execute(
            sa.text(
                f"INSERT INTO {kind} ({', '.join(cols)}) SELECT {', '.join('r.' + c for c in cols)} "
                f"FROM import_changes c, jsonb_populate_record(NULL::{kind}, c.before) r "
                f"WHERE c.batch_id = :batch AND c.table_name = '{kind}' AND c.op = 'delete'"
            ),
            params,
        ).rowcount
    conn.execute(
        sa.text(
            "UPDATE import_batches SET status = 'rolled_back', rolled_back_at = now(), "
            "rolled_back_by = :user WHERE batch_id = :batch"
        ),
        {"user": user, "batch": batch_id},
    )
    return result
