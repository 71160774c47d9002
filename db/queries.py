"""Frames for the metrics layer: one query per entity, and the stored metric settings.

``load_frames(engine)`` reads the four data tables with ``COPY (SELECT ...) TO
STDOUT`` as CSV straight into polars (psycopg 3), far faster than row-by-row
fetches; ``read_export_folder(path)`` reads a folder of export files through the
importer's validation (the same messages as an upload).

SQLAlchemy is imported by the functions that query: ``icp report --data`` reads a
folder through this module and never touches the warehouse.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from metrics.frames import COLUMNS, SCHEMAS, Frames
from metrics.settings import MetricSettings

if TYPE_CHECKING:
    import sqlalchemy as sa

SETTINGS_KEY = "metrics"


def _copy_csv(conn: Any, table: str, columns: tuple[str, ...]) -> bytes:
    """``COPY (SELECT <columns> FROM table) TO STDOUT`` as CSV bytes."""
    sql = f'COPY (SELECT {", ".join(columns)} FROM "{table}") TO STDOUT WITH (FORMAT csv, HEADER true)'
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(sql) as copy:
        for chunk in copy:
            buf.write(chunk)
    return buf.getvalue()


def attribute_types(conn: Any, table: str = "accounts") -> dict[str, bool]:
    """The custom attributes ``table`` (accounts or spend) holds: name -> numeric (every
    value a number)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT a.key, bool_and(jsonb_typeof(a.value) = 'number') "
            f"FROM {table}, jsonb_each({table}.attributes) a "
            "WHERE jsonb_typeof(a.value) <> 'null' GROUP BY a.key ORDER BY a.key"
        )
        return dict(cur.fetchall())


def _attribute_select(name: str) -> str:
    """SQL selecting one custom attribute as a column of its name (quotes doubled)."""
    key = name.replace("'", "''")
    column = name.replace('"', '""')
    return f"attributes->>'{key}' AS \"{column}\""


def read_table(conn: Any, table: str) -> pl.DataFrame:
    """One warehouse table as a polars frame with the canonical columns and types; the
    custom attributes (of accounts, or named by spend rows) follow as one column each
    (Float64 or text)."""
    # The attributes' JSON is read as the columns it holds, not as text.
    schema = {c: t for c, t in SCHEMAS[table].items() if c != "attributes"}
    attributes = attribute_types(conn, table) if "attributes" in SCHEMAS[table] else {}
    columns = (*(f'"{c}"' for c in schema), *(_attribute_select(a) for a in attributes))
    schema |= {name: pl.Float64 if numeric else pl.String for name, numeric in attributes.items()}
    data = _copy_csv(conn, table, columns)
    if not data.strip():
        return pl.DataFrame(schema=schema)
    # Quoted empty strings ("") stay strings; unquoted empties are NULL.
    return pl.read_csv(io.BytesIO(data), schema=schema)


def load_frames(engine: sa.Engine) -> Frames:
    """The warehouse's accounts, subscriptions, monthly MRR and opportunities as frames.

    Read in one repeatable-read transaction so the four frames are one consistent
    version of the data even while an import commits.
    """
    with engine.connect() as sa_conn:
        sa_conn = sa_conn.execution_options(isolation_level="REPEATABLE READ")
        with sa_conn.begin():
            raw = sa_conn.connection.driver_connection
            frames = {table: read_table(raw, table) for table in COLUMNS}
    return Frames(
        accounts=frames["accounts"],
        opportunities=frames["opportunities"],
        subscriptions=frames["subscriptions"],
        mrr_monthly=frames["mrr_monthly"],
        spend=frames["spend"],
    )


def load_settings(engine: sa.Engine) -> MetricSettings:
    """The stored metric settings (key 'metrics') over the defaults of METRICS.md.

    While the warehouse holds the demo, the demo's declared ICP (``db.demo.DECLARED_ICP``)
    is the default: it belongs to the demo's company and goes when real data replaces
    the demo (and comes back if that import is rolled back). A declared ICP the user
    saved wins.
    """
    import sqlalchemy as sa

    from db.demo import DECLARED_ICP
    from db.importer.demo_rows import holds_demo

    with engine.connect() as conn:
        value = conn.scalar(
            sa.text("SELECT value FROM settings WHERE key = :k"), {"k": SETTINGS_KEY}
        )
    defaults = {"declared_icp": DECLARED_ICP} if holds_demo(engine) else {}
    return MetricSettings.model_validate({**defaults, **(value or {})})


def read_export_folder(path: str | Path, settings: MetricSettings | None = None) -> Frames:
    """Frames from a folder of export files, validated like an upload (``db.importer``).

    Raises the importer's ``ImportRefused`` / ``ImportRejected`` with its report
    when the folder or a file is bad.
    """
    from db.importer import read_export_folder as read_folder

    kinds = read_folder(path, settings=settings or MetricSettings())
    if "accounts" not in kinds:
        from db.importer import ImportRefused

        raise ImportRefused(f"{path}: no accounts file (accounts.csv) in the folder")
    opps = kinds.get("opportunities")
    if opps is None:
        opps = pl.DataFrame(schema=SCHEMAS["opportunities"])
    return Frames(
        accounts=kinds["accounts"],
        opportunities=opps,
        subscriptions=kinds.get("subscriptions"),
        mrr_monthly=kinds.get("mrr_monthly"),
        spend=kinds.get("spend"),
    )


def read_data_version(engine: sa.Engine) -> int:
    """The warehouse's data version (0 before the first import)."""
    import sqlalchemy as sa

    from db.schema import data_version

    with engine.connect() as conn:
        value = conn.scalar(sa.select(data_version.c.version).where(data_version.c.id == 1))
    return int(value or 0)


def has_accounts(engine: sa.Engine) -> bool:
    """True when the warehouse holds at least one account."""
    import sqlalchemy as sa

    from db.schema import accounts as accounts_table

    with engine.connect() as conn:
        return bool(conn.scalar(sa.select(sa.exists(sa.select(accounts_table.c.account_id)))))
