"""The audit trail of imports: batches newest first, with their files."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def import_history(engine: sa.Engine, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` import batches, newest first, each with its files."""
    with engine.connect() as conn:
        batches = (
            conn.execute(
                sa.text(
                    "SELECT batch_id, created_at, finished_at, created_by, status, kinds, rows_inserted, "
                    "rows_updated, rows_unchanged, error_count, message, rolled_back_at, rolled_back_by "
                    "FROM import_batches ORDER BY batch_id DESC LIMIT :limit"
                ),
                {"limit": limit},
            )
            .mappings()
            .all()
        )
        ids = [b["batch_id"] for b in batches]
        files = (
            conn.execute(
                sa.text(
                    "SELECT batch_id, file_name, kind, sha256, size_bytes, rows_in_file, rows_inserted, "
                    "rows_updated, rows_unchanged, column_mapping FROM import_files "
                    "WHERE batch_id = ANY(:ids) ORDER BY file_id"
                ),
                {"ids": ids},
            )
            .mappings()
            .all()
        )
    by_batch: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for f in files:
        entry = dict(f)
        by_batch[entry.pop("batch_id")].append(entry)
    out = []
    for b in batches:
        row = dict(b)
        row["kinds"] = [k for k in (row["kinds"] or "").split(",") if k]
        row["files"] = by_batch[row["batch_id"]]
        out.append(row)
    return out

