"""One vocabulary: the warehouse tables, the importer's output and the query schemas all
hold the canonical columns of metrics.frames, in its order and with matching types."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from db.importer.columns import SPECS
from db.schema import metadata
from metrics.frames import COLUMNS, SCHEMAS, SIZE_BANDS, size_band_of
from metrics.settings import MetricSettings

# Warehouse-only columns: which import batch wrote the row.
BOOKKEEPING = {"batch_id"}
# Columns the importer makes of the file's extra columns (custom attributes), stored as
# JSON: no header maps to them.
FROM_EXTRAS = {"attributes"}
# Columns the importer derives rather than reads (a spend row's number in its file).
DERIVED = {"line"}
SQL_TYPES = {pl.String: sa.Text, pl.Date: sa.Date, pl.Int64: sa.Integer}


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_schema_tables_hold_the_canonical_columns(kind: str) -> None:
    table = metadata.tables[kind]
    stored = [c for c in table.columns if c.name not in BOOKKEEPING]
    assert [c.name for c in stored] == list(COLUMNS[kind])
    for column in stored:
        dtype = SCHEMAS[kind][column.name]
        if column.name in FROM_EXTRAS:
            assert isinstance(column.type, JSONB) and dtype == pl.String
        elif isinstance(dtype, pl.Decimal):
            assert isinstance(column.type, sa.Numeric)
            assert (column.type.precision, column.type.scale) == (dtype.precision, dtype.scale)
        else:
            assert isinstance(column.type, SQL_TYPES[dtype]), column.name


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_the_importer_knows_every_canonical_column(kind: str) -> None:
    assert set(COLUMNS[kind]) - FROM_EXTRAS - DERIVED <= set(SPECS[kind].names)


def test_size_bands_follow_the_settings_bounds() -> None:
    s = MetricSettings()
    employees = pl.Series([None, 0, s.size_band_smb_below - 1, s.size_band_smb_below,
                           s.size_band_mid_below - 1, s.size_band_mid_below])
    bands = pl.select(
        size_band_of(pl.lit(employees), s.size_band_smb_below, s.size_band_mid_below)
    ).to_series()
    smb, mid, enterprise = SIZE_BANDS
    assert bands.to_list() == [None, smb, smb, mid, mid, enterprise]
