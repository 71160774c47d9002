"""Write a validated plan to the warehouse inside the import command's transaction.

The load takes the import advisory lock, COPYs each kind into a temporary
staging table (accounts first, so references resolve), removes the demo rows
when it replaces the demo, records every row it will insert or change in
``import_changes`` (with the row as it was, for rollback), then upserts with
``INSERT ... ON CONFLICT`` leaving identical rows untouched. The command
(``db.importer.commands``) commits the batch, its files (with sha256) and the
data version bump with the rows, or nothing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from db.importer.demo_rows import replace_demo as replace_demo_rows
from db.importer.plan import ImportPlan
from db.importer.progress import Progress, no_progress
from db.importer.tables import IMPORT_LOCK, differs, join_on, key_columns, row_key
from db.importer.values import cents_text
from metrics.frames import COLUMNS

_COPY_CHUNK = 8 * 1024 * 1024


@dataclass
class FileResult:
    """What one file's rows did."""

    name: str
    kind: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ImportResult:
    """The outcome of :func:`run_import`."""

    batch_id: int | None
    """The committed batch; None for a dry run."""
    plan: ImportPlan
    files: list[FileResult] = field(default_factory=list)
    dry_run: bool = False
    data_version: int | None = None
    demo_rows_removed: int = 0
    """Demo rows this import replaced (deleted, restorable by rolling it back)."""
    spend_rows_replaced: int = 0
    """Stored spend rows of the imported months the spend file no longer has (deleted)."""

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def changed(self) -> bool:
        """True when the import inserted, updated or (replacing the demo) deleted any row."""
        return bool(
            self.inserted or self.updated or self.demo_rows_removed or self.spend_rows_replaced
        )

    @property
    def message(self) -> str:
        """One line for the user."""
        rows = sum(f.rows for f in self.files)
        if self.dry_run:
            return f"dry run: {len(self.files)} file(s), {rows:,} rows valid; nothing written"
        if not self.changed:
            return f"no changes: all {rows:,} rows already imported (recorded as batch {self.batch_id})"
        replaced = (
            f"; the demo data was replaced ({self.demo_rows_removed:,} demo rows removed, "
            f"back if batch {self.batch_id} is rolled back)"
            if self.demo_rows_removed
            else ""
        )
        spend = (
            f", {self.spend_rows_replaced:,} spend rows of the same months removed"
            if self.spend_rows_replaced
            else ""
        )
        return (
            f"batch {self.batch_id}: {self.inserted:,} inserted, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged{spend}{replaced}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result, the plan included."""
        return {
            "batch_id": self.batch_id,
            "dry_run": self.dry_run,
            "message": self.message,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "data_version": self.data_version,
            "demo_rows_removed": self.demo_rows_removed,
            "spend_rows_replaced": self.spend_rows_replaced,
            "files": [f.to_dict() for f in self.files],
            "plan": self.plan.to_dict(),
        }


def record_files(
    conn: sa.Connection, batch_id: int, plan: ImportPlan, results: list[FileResult]
) -> None:
    rows = [
        {
            "batch": batch_id,
            "name": f.name,
            "sha": f.sha256,
            "kind": f.kind,
            "size": f.size_bytes,
            "rows": f.rows,
            "ins": r.inserted,
            "upd": r.updated,
            "unch": r.unchanged,
            "mapping": json.dumps(f.mapping),
        }
        for f, r in zip(plan.files, results, strict=True)
        if f.kind
    ]
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO import_files (batch_id, file_name, sha256, kind, size_bytes, rows_in_file, "
                "rows_inserted, rows_updated, rows_unchanged, column_mapping) "
                "VALUES (:batch, :name, :sha, :kind, :size, :rows, :ins, :upd, :unch, CAST(:mapping AS jsonb))"
            ),
            rows,
        )


def _copy_frame(frame: pl.DataFrame, kind: str) -> bytes:
    """The staged rows as CSV text COPY reads: money as exact decimals, dates ISO."""
    money = [c for c in COLUMNS[kind] if c in ("mrr", "amount")]
    out = frame.select(*COLUMNS[kind], "__file").with_columns(
        cents_text(pl.col(c)).alias(c) for c in money
    )
    buf = io.BytesIO()
    out.write_csv(buf, include_header=False, null_value="")
    return buf.getvalue()


def _stage(conn: sa.Connection, kind: str, frame: pl.DataFrame) -> str:
    """COPY ``frame`` into a temporary table shaped like ``kind``'s; its name."""
    stage = f"stage_{kind}"
    cols = ", ".join(COLUMNS[kind])
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {kind} WITH NO DATA"
    )
    conn.exec_driver_sql(f"ALTER TABLE {stage} ADD COLUMN __file integer NOT NULL")
    data = _copy_frame(frame, kind)
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {stage} ({cols}, __file) FROM STDIN (FORMAT csv)") as copy,
    ):
        for start in range(0, len(data), _COPY_CHUNK):
            copy.write(data[start : start + _COPY_CHUNK])
    conn.exec_driver_sql(f"ANALYZE {stage}")
    return stage


def _diff(conn: sa.Connection, kind: str, stage: str) -> list[tuple[int, int, int]]:
    """Find one kind's new and changed rows: (file index, inserted, updated) per file.

    One join of staging against the table finds the rows that are new or differ
    (with the row as it was) into ``diff_<kind>``; only those are recorded and
    upserted, so an unchanged row costs a lookup, never a write.
    """
    k0 = key_columns(kind)[0]
    cols = COLUMNS[kind]
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE diff_{kind} ON COMMIT DROP AS "
        f"SELECT {', '.join('s.' + c for c in cols)}, s.__file, t.{k0} IS NULL AS is_new, "
        f"CASE WHEN t.{k0} IS NULL THEN NULL ELSE to_jsonb(t) END AS before "
        f"FROM {stage} s LEFT JOIN {kind} t ON {join_on(kind, 't', 's')} "
        f"WHERE t.{k0} IS NULL OR {differs(kind, 's', 't')}"
    )
    return [
        tuple(row)
        for row in conn.execute(
            sa.text(
                "SELECT __file, count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) "
                f"FROM diff_{kind} GROUP BY __file"
            )
        ).all()
    ]


def _record(conn: sa.Connection, kind: str, batch_id: int) -> None:
    """Record ``diff_<kind>``'s rows in ``import_changes`` (the row as it was, for rollback)."""
    conn.execute(
        sa.text(
            "INSERT INTO import_changes (batch_id, table_name, row_key, op, before) "
            f"SELECT :batch, :kind, {row_key(kind, 'd')}, "
            "CASE WHEN is_new THEN 'insert' ELSE 'update' END, before "
            f"FROM diff_{kind} d"
        ),
        {"batch": batch_id, "kind": kind},
    )


def _upsert(conn: sa.Connection, kind: str, batch_id: int, inserted: int) -> None:
    """Insert or update ``diff_<kind>``'s rows in table ``kind`` (``inserted`` of them new)."""
    cols = COLUMNS[kind]
    keys = ", ".join(key_columns(kind))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in key_columns(kind))
    rebuilt = _suspend_indexes(conn, kind, inserted)
    # ON CONFLICT stays the arbiter: the advisory lock keeps other imports out,
    # but any other writer between the diff and here still gets upserted, not duplicated.
    # Key order keeps the primary key's inserts on neighbouring pages.
    conn.execute(
        sa.text(
            f"INSERT INTO {kind} ({', '.join(cols)}, batch_id) "
            f"SELECT {', '.join(cols)}, :batch FROM diff_{kind} ORDER BY {keys} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {updates}, batch_id = EXCLUDED.batch_id "
            f"WHERE {differs(kind, kind, 'EXCLUDED')}"
        ),
        {"batch": batch_id},
    )
    for definition in rebuilt:
        conn.exec_driver_sql(definition)


def _replace_spend_months(conn: sa.Connection, stage: str, batch_id: int) -> int:
    """Delete the stored spend rows of the months the file covers that it no longer has
    (recorded, so a rollback puts them back); how many. Spend rows have no id: a spend
    file replaces the spend of its months (DATA_FORMAT.md)."""
    return conn.execute(
        sa.text(
            "WITH gone AS (DELETE FROM spend t "
            f"WHERE t.month IN (SELECT DISTINCT month FROM {stage}) "
            f"AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.month = t.month AND s.line = t.line) "
            "RETURNING t.*) "
            "INSERT INTO import_changes (batch_id, table_name, row_key, op, before) "
            f"SELECT :batch, 'spend', {row_key('spend', 'g')}, 'delete', to_jsonb(g) FROM gone g"
        ),
        {"batch": batch_id},
    ).rowcount


BULK_MIN_ROWS = 50_000
"""New rows from which a load rebuilds the table's indexes and foreign keys instead of maintaining them."""


def _suspend_indexes(conn: sa.Connection, kind: str, new_rows: int) -> list[str]:
    """Drop table ``kind``'s secondary indexes and foreign keys when a load adds a large share of it.

    PostgreSQL's own advice for bulk loads ("Populating a Database"): building
    an index once from sorted rows is several times cheaper than a million
    random insertions into it, and one validating join re-adding a foreign key
    is far cheaper than a trigger per row (measured here: half the insert time).
    Worth it when the load adds at least a quarter of the table. The references
    were already checked under the import lock, and re-adding the constraints
    checks them again before commit. The drop holds the table's lock to commit,
    so readers wait for the import (they would see its rows only then anyway).
    Returns the statements that put everything back exactly as it was.
    """
    if new_rows < BULK_MIN_ROWS:
        return []
    existing = conn.scalar(
        sa.text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST(:t AS regclass)"),
        {"t": kind},
    )
    if new_rows < (existing or 0) / 4:
        return []
    indexes = conn.execute(
        sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = :t AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = CAST(quote_ident(i.indexname) AS regclass))"
        ),
        {"t": kind},
    ).all()
    foreign_keys = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
        ),
        {"t": kind},
    ).all()
    try:
        # A role that does not own the tables may not drop their indexes: then the
        # load simply maintains them row by row.
        with conn.begin_nested():
            for name, _ in foreign_keys:
                conn.exec_driver_sql(f'ALTER TABLE {kind} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
    except sa.exc.ProgrammingError:
        return []
    return [
        f'ALTER TABLE {kind} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in foreign_keys
    ] + [definition for _, definition in indexes]


def load_plan(
    conn: sa.Connection,
    plan: ImportPlan,
    user: str,
    *,
    demo: bool = False,
    replace_demo: bool = False,
    after_staging: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Write a valid ``plan`` inside ``conn``'s transaction, recorded as a batch of ``user``.

    ``demo`` marks the batch as demo data; ``replace_demo`` first removes every demo
    row, recorded under this batch. Takes the import lock; the caller commits and
    bumps the data version.
    """
    progress = progress or no_progress
    frames = plan.load_frames()
    results = [FileResult(f.name, f.kind or "", f.rows) for f in plan.files]
    progress("load", 0, len(frames), "waiting for other imports")
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    # Room for the diff's hash join and the key-ordered upsert's sort in memory.
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    batch_id = conn.scalar(
        sa.text(
            "INSERT INTO import_batches (created_by, status, kinds, is_demo) "
            "VALUES (:user, 'committed', :kinds, :demo) RETURNING batch_id"
        ),
        {"user": user, "kinds": ",".join(frames), "demo": demo},
    )
    stages = {kind: _stage(conn, kind, frame) for kind, frame in frames.items()}
    if after_staging is not None:
        after_staging(conn.connection.driver_connection.info.backend_pid)
    result = ImportResult(batch_id, plan, results)
    if replace_demo:
        result.demo_rows_removed = replace_demo_rows(conn, batch_id, stages)
    # Every kind's changes are found first, so that a large load rebuilds the change
    # log's indexes once, not once per kind (each rebuild reads the whole log).
    found = {kind: _diff(conn, kind, stage) for kind, stage in stages.items()}
    for per_file in found.values():
        for index, ins, upd in per_file:
            results[index].inserted, results[index].updated = ins, upd
    changes = sum(ins + upd for per_file in found.values() for _, ins, upd in per_file)
    rebuilt_changes = _suspend_indexes(conn, "import_changes", changes)
    for kind in stages:
        _record(conn, kind, batch_id)
    for definition in rebuilt_changes:
        conn.exec_driver_sql(definition)
    for done, kind in enumerate(stages):
        progress("load", done, len(stages), f"{kind}: {frames[kind].height:,} rows")
        _upsert(conn, kind, batch_id, sum(ins for _, ins, _ in found[kind]))
    progress("load", len(stages), len(stages), "every kind written")
    if "spend" in stages:
        result.spend_rows_replaced = _replace_spend_months(conn, stages["spend"], batch_id)
    for r in results:
        r.unchanged = r.rows - r.inserted - r.updated
    conn.execute(
        sa.text(
            "UPDATE import_batches SET rows_inserted = :ins, rows_updated = :upd, "
            "rows_unchanged = :unch, message = :message, finished_at = now() "
            "WHERE batch_id = :batch"
        ),
        {
            "ins": result.inserted,
            "upd": result.updated,
            "unch": result.unchanged,
            "message": result.message,
            "batch": batch_id,
        },
    )
    record_files(conn, batch_id, plan, results)
    return result
