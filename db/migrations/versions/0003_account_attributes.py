"""custom attributes of accounts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10

``accounts.attributes`` (JSONB) keeps the extra columns of the accounts file as
custom attributes, ``{name: text or number}`` (DATA_FORMAT.md). Being a column of
the row, it is upserted, compared, recorded in ``import_changes`` and rolled back
with the rest of the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COMMENT = "custom attributes: the accounts file's extra columns, {name: text or number}"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("attributes", JSONB(), nullable=True, comment=COMMENT))


def downgrade() -> None:
    op.drop_column("accounts", "attributes")
