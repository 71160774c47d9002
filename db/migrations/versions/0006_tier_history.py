"""tier history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14

``tier_history`` keeps, per data version, what the scorecard said at the default
as-of month and window: each segment's tier, NRR, GRR, CLV and (by vertical) the
alerts raised. It is written after every import, rollback and demo load (and by
``icp history backfill`` for earlier months), so the scorecard can show the change
since the previous month, a segment page its tier over time and ``icp digest`` the
tier changes since an import. Rows are never updated; rolling an import back
records the restored state as a new version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tier_history",
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False, comment="first day of the as-of month"),
        sa.Column("window_months", sa.SmallInteger(), nullable=False),
        sa.Column(
            "dimensions", sa.Text(), nullable=False,
            comment="comma-separated dimensions of the segment; '' for the company",
        ),
        sa.Column(
            "segment", JSONB(), nullable=False,
            comment="the segment's conditions {dimension: value}; {} for the company",
        ),
        sa.Column("segment_label", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column(
            "batch_id", sa.Integer(), nullable=True,
            comment="the batch imported (or rolled back) that made this data version",
        ),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("accounts", sa.Integer(), nullable=True),
        sa.Column("tier", sa.Text(), nullable=True),
        sa.Column("nrr", sa.Float(), nullable=True),
        sa.Column("grr", sa.Float(), nullable=True),
        sa.Column("clv", sa.Float(), nullable=True),
        sa.Column(
            "alerts", JSONB(), nullable=True,
            comment="types of the alerts raised for the segment; NULL where not recorded",
        ),
        sa.CheckConstraint(
            "event IN ('import', 'rollback', 'demo', 'backfill')",
            name=op.f("ck_tier_history_event"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.batch_id"],
            name=op.f("fk_tier_history_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint(
            "data_version", "as_of", "window_months", "dimensions", "segment",
            name=op.f("pk_tier_history"),
        ),
        comment="what the scorecard said at each data version: tiers, NRR, GRR, CLV, alerts",
    )


def downgrade() -> None:
    op.drop_table("tier_history")
