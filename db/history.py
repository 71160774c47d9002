"""The tier history: what the scorecard said at each data version (table ``tier_history``).

``app.commands.history`` computes the rows from the views and writes them with
:func:`write_tier_history`; the views read them back with :func:`load_tier_history`
as one polars frame (``app.views.history``). Rows are only ever added.

SQLAlchemy is imported by the functions that query: the views import this module for
:func:`segment_key`, and ``icp report --data`` never touches the warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from metrics.months import month_key, month_label

if TYPE_CHECKING:
    import sqlalchemy as sa

HISTORY_SCHEMA = {
    "data_version": pl.Int64,
    "as_of": pl.Int32,
    "window": pl.Int32,
    "dimensions": pl.String,
    "segment": pl.String,
    "segment_label": pl.String,
    "event": pl.String,
    "batch_id": pl.Int64,
    "recorded_at": pl.Datetime("us", "UTC"),
    "accounts": pl.Int64,
    "tier": pl.String,
    "nrr": pl.Float64,
    "grr": pl.Float64,
    "clv": pl.Float64,
    "alerts": pl.List(pl.String),
}
"""The frame :func:`load_tier_history` returns: ``as_of`` a month key, ``segment`` the
conditions as canonical JSON (:func:`segment_key`), ``alerts`` null where not recorded."""


def segment_key(conditions: Mapping[str, str]) -> str:
    """A segment's conditions as one comparable text: JSON with the dimensions sorted."""
    return json.dumps(dict(sorted(conditions.items())), ensure_ascii=False)


def write_tier_history(
    engine: sa.Engine,
    version: int,
    event: str,
    batch_id: int | None,
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Add ``rows`` (each: as_of month key, window, dimensions, segment conditions, label,
    accounts, tier, nrr, grr, clv, alerts) for data version ``version``; rows already
    recorded for that version are kept as they are. The number of rows added."""
    from sqlalchemy.dialects.postgresql import insert

    from db.schema import tier_history

    if not rows:
        return 0
    values = [
        {
            "data_version": version,
            "as_of": dt.date.fromisoformat(month_label(r["as_of"]) + "-01"),
            "window_months": r["window"],
            "dimensions": ",".join(r["dimensions"]),
            "segment": dict(r["segment"]),
            "segment_label": r["segment_label"],
            "event": event,
            "batch_id": batch_id,
            "accounts": r["accounts"],
            "tier": r["tier"],
            "nrr": r["nrr"],
            "grr": r["grr"],
            "clv": r["clv"],
            "alerts": r["alerts"],
        }
        for r in rows
    ]
    statement = insert(tier_history).values(values).on_conflict_do_nothing()
    with engine.begin() as conn:
        return conn.execute(statement).rowcount


def load_tier_history(engine: sa.Engine, through: int | None = None) -> pl.DataFrame:
    """Every recorded row (of the data versions up to ``through``, when given)."""
    import sqlalchemy as sa

    from db.schema import tier_history

    query = sa.select(tier_history).order_by(
        tier_history.c.data_version, tier_history.c.dimensions, tier_history.c.segment_label
    )
    if through is not None:
        query = query.where(tier_history.c.data_version <= through)
    with engine.connect() as conn:
        records = conn.execute(query).mappings().all()
    rows = [
        {
            "data_version": r["data_version"],
            "as_of": month_key(r["as_of"]),
            "window": r["window_months"],
            "dimensions": r["dimensions"],
            "segment": segment_key(r["segment"]),
            "segment_label": r["segment_label"],
            "event": r["event"],
            "batch_id": r["batch_id"],
            "recorded_at": r["recorded_at"],
            "accounts": r["accounts"],
            "tier": r["tier"],
            "nrr": r["nrr"],
            "grr": r["grr"],
            "clv": r["clv"],
            "alerts": r["alerts"],
        }
        for r in records
    ]
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA, orient="row")
