"""sales and marketing spend

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``spend`` holds the optional spend file (DATA_FORMAT.md "spend"): one row per file
row, keyed by its month and its number in the file (spend rows have no id; a file
replaces the spend of the months it covers). ``spend`` becomes an import kind.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_KINDS = "('accounts', 'subscriptions', 'mrr_monthly', 'opportunities')"
NEW_KINDS = "('accounts', 'subscriptions', 'mrr_monthly', 'opportunities', 'spend')"


def _kinds(values: str) -> None:
    for table, column, name in (
        ("import_files", "kind", "kind"),
        ("import_changes", "table_name", "table_name"),
    ):
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, f"{column} IN {values}")


def upgrade() -> None:
    op.create_table(
        "spend",
        sa.Column("month", sa.Date(), nullable=False, comment="first day of the month"),
        sa.Column("line", sa.Integer(), nullable=False, comment="the row's number in its file"),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("category", sa.Text(), server_default="marketing", nullable=False),
        sa.Column("channel", sa.Text()),
        sa.Column("vertical", sa.Text()),
        sa.Column("sub_industry", sa.Text()),
        sa.Column("size_band", sa.Text()),
        sa.Column("region", sa.Text()),
        sa.Column("use_case", sa.Text()),
        sa.Column("lead_source", sa.Text()),
        sa.Column(
            "attributes", JSONB(),
            comment="custom attribute dimensions the row names, {name: value}",
        ),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_spend_amount_not_negative")),
        sa.CheckConstraint("category IN ('sales', 'marketing')", name=op.f("ck_spend_category")),
        sa.CheckConstraint(
            "size_band IN ('SMB', 'Mid-Market', 'Enterprise')", name=op.f("ck_spend_size_band")
        ),
        sa.CheckConstraint("EXTRACT(DAY FROM month) = 1", name=op.f("ck_spend_month_first_day")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.batch_id"],
            name=op.f("fk_spend_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("month", "line", name=op.f("pk_spend")),
    )
    _kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM import_changes WHERE table_name = 'spend'")
    op.execute("DELETE FROM import_files WHERE kind = 'spend'")
    _kinds(OLD_KINDS)
    op.drop_table("spend")
