"""SQL fragments naming each data table's key and value columns, shared by load and rollback."""

from __future__ import annotations

from db.importer.columns import SPECS
from metrics.frames import COLUMNS

IMPORT_LOCK = 0x1C9_1A7E
"""Advisory lock key serializing imports and rollbacks (held to commit)."""


def key_columns(kind: str) -> tuple[str, ...]:
    """The primary key columns of ``kind``'s table."""
    return SPECS[kind].key


def value_columns(kind: str) -> tuple[str, ...]:
    """The non-key columns an import writes."""
    return tuple(c for c in COLUMNS[kind] if c not in key_columns(kind))


def row_key(kind: str, alias: str) -> str:
    """SQL text of ``import_changes.row_key`` for a row of ``kind`` called ``alias``."""
    parts = [
        f"to_char({alias}.{c}, 'YYYY-MM-DD')" if c == "month" else f"{alias}.{c}"
        for c in key_columns(kind)
    ]
    return " || '|' || ".join(parts)


def join_on(kind: str, left: str, right: str) -> str:
    """SQL join condition matching two aliases of ``kind`` rows by key."""
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in key_columns(kind))


def differs(kind: str, left: str, right: str) -> str:
    """SQL condition: the value columns of two aliases differ (nulls compare equal)."""
    cols = value_columns(kind)
    return (
        f"({', '.join(f'{left}.{c}' for c in cols)}) IS DISTINCT FROM ({', '.join(f'{right}.{c}' for c in cols)})"
        if len(cols) > 1
        else f"{left}.{cols[0]} IS DISTINCT FROM {right}.{cols[0]}"
    )
