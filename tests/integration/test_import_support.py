"""Helpers shared by the import tests: the good exports and warehouse checksums.

``import_files`` is left out of the checksums: a rejected import records its
files under its ``failed`` batch, on purpose (the audit shows the attempt).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from db.importer import ImportFile, run_import

DATA = Path(__file__).resolve().parent.parent / "data"
GOOD = DATA / "good"
BAD = DATA / "bad"

CHECKED_TABLES = (
    "accounts",
    "subscriptions",
    "mrr_monthly",
    "opportunities",
    "import_changes",
    "data_version",
)


def good(*names: str) -> list[ImportFile]:
    """Files of tests/data/good by name (default: the three canonical exports)."""
    return [
        ImportFile.from_path(GOOD / n)
        for n in names or ("accounts.csv", "subscriptions.csv", "opportunities.csv")
    ]


def seed(engine: sa.Engine) -> int:
    """Load the canonical good exports; the batch id."""
    result = run_import(good(), engine, user="seed")
    assert result.inserted == 13
    return result.batch_id


def checksums(
    engine: sa.Engine, tables: tuple[str, ...] = CHECKED_TABLES
) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every row's text, ordered, per table: equal means byte-for-byte equal."""
    out = {}
    with engine.connect() as conn:
        for t in tables:
            out[t] = tuple(
                conn.execute(
                    sa.text(
                        f"SELECT count(*), md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM {t} x"
                    )
                ).one()
            )
    return out


def batch_statuses(engine: sa.Engine) -> list[tuple[int, str]]:
    """(batch id, status) of every batch, oldest first."""
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT batch_id, status FROM import_batches ORDER BY batch_id")
            )
        ]
