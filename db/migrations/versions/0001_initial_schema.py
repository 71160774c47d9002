"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23

The warehouse of DATA_FORMAT.md, import batches with their row changes (for
rollback), settings, users and the data version the metrics cache keys on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
        comment="bumped by every import, rollback and settings change; the metrics cache keys on it",
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.create_table(
        "import_batches",
        sa.Column("batch_id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False, comment="comma-separated kinds of the files"),
        sa.Column("rows_inserted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('committed', 'failed', 'rolled_back')",
            name=op.f("ck_import_batches_status"),
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("attempt_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False, comment="email or client address"),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_key_attempted_at",
        "login_attempts",
        ["key", "attempted_at"],
        unique=False,
    )
    op.create_table(
        "settings",
        sa.Column(
            "key",
            sa.Text(),
            nullable=False,
            comment="'metrics' (thresholds, margins, ...) or 'declared_icp'",
        ),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "email = lower(email) AND email LIKE '%%_@_%%'", name=op.f("ck_users_email_normalized")
        ),
        sa.CheckConstraint("role IN ('viewer', 'analyst', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email", "users", ["email"], unique=True)
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=True),
        sa.Column("vertical", sa.Text(), nullable=False),
        sa.Column("sub_industry", sa.Text(), server_default="Unspecified", nullable=False),
        sa.Column("size_band", sa.Text(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("use_case", sa.Text(), nullable=True),
        sa.Column("lead_source", sa.Text(), nullable=True),
        sa.Column("created_date", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("account_id <> ''", name=op.f("ck_accounts_account_id_not_empty")),
        sa.CheckConstraint(
            "size_band IN ('SMB', 'Mid-Market', 'Enterprise')", name=op.f("ck_accounts_size_band")
        ),
        sa.CheckConstraint("vertical <> ''", name=op.f("ck_accounts_vertical_not_empty")),
        sa.CheckConstraint("employees >= 0", name=op.f("ck_accounts_employees_not_negative")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_accounts_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_index(
        "ix_accounts_vertical_sub_industry", "accounts", ["vertical", "sub_industry"], unique=False
    )
    op.create_table(
        "import_changes",
        sa.Column("change_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column(
            "row_key",
            sa.Text(),
            nullable=False,
            comment="primary key as text; composite keys joined by '|'",
        ),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column(
            "before",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="the row before the change; NULL for an insert",
        ),
        sa.CheckConstraint(
            "(op = 'insert') = (before IS NULL)", name=op.f("ck_import_changes_before_matches_op")
        ),
        sa.CheckConstraint("op IN ('insert', 'update')", name=op.f("ck_import_changes_op")),
        sa.CheckConstraint(
            "table_name IN ('accounts', 'subscriptions', 'mrr_monthly', 'opportunities')",
            name=op.f("ck_import_changes_table_name"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_import_changes_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_import_changes")),
    )
    op.create_index("ix_import_changes_batch_id", "import_changes", ["batch_id"], unique=False)
    op.create_index(
        "ix_import_changes_table_name_row_key",
        "import_changes",
        ["table_name", "row_key"],
        unique=False,
    )
    op.create_table(
        "import_files",
        sa.Column("file_id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.CHAR(length=64), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows_in_file", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "column_mapping",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('accounts', 'subscriptions', 'mrr_monthly', 'opportunities')",
            name=op.f("ck_import_files_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_import_files_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_import_files")),
    )
    op.create_index(op.f("ix_import_files_batch_id"), "import_files", ["batch_id"], unique=False)
    op.create_index("ix_import_files_sha256", "import_files", ["sha256"], unique=False)
    op.create_table(
        "mrr_monthly",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False, comment="first day of the month"),
        sa.Column("mrr", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "EXTRACT(DAY FROM month) = 1", name=op.f("ck_mrr_monthly_month_first_day")
        ),
        sa.CheckConstraint("mrr >= 0", name=op.f("ck_mrr_monthly_mrr_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_mrr_monthly_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_mrr_monthly_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_mrr_monthly")),
    )
    op.create_index("ix_mrr_monthly_month", "mrr_monthly", ["month"], unique=False)
    op.create_table(
        "opportunities",
        sa.Column("opportunity_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("opportunity_type", sa.Text(), server_default="new_business", nullable=False),
        sa.Column("created_date", sa.Date(), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("lead_source", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "opportunity_id <> ''", name=op.f("ck_opportunities_opportunity_id_not_empty")
        ),
        sa.CheckConstraint(
            "opportunity_type IN ('new_business', 'expansion', 'renewal')",
            name=op.f("ck_opportunities_opportunity_type"),
        ),
        sa.CheckConstraint(
            "status = 'open' OR close_date IS NOT NULL",
            name=op.f("ck_opportunities_closed_has_close_date"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'won', 'lost')", name=op.f("ck_opportunities_status")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_opportunities_amount_not_negative")),
        sa.CheckConstraint(
            "close_date IS NULL OR close_date >= created_date",
            name=op.f("ck_opportunities_close_after_created"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_opportunities_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_opportunities_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("opportunity_id", name=op.f("pk_opportunities")),
    )
    op.create_index("ix_opportunities_account_id", "opportunities", ["account_id"], unique=False)
    op.create_index(
        "ix_opportunities_type_close_date",
        "opportunities",
        ["opportunity_type", "close_date"],
        unique=False,
    )
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column(
            "end_date",
            sa.Date(),
            nullable=True,
            comment="last day of service, inclusive; NULL = active",
        ),
        sa.Column("mrr", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "subscription_id <> ''", name=op.f("ck_subscriptions_subscription_id_not_empty")
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_subscriptions_end_after_start"),
        ),
        sa.CheckConstraint("mrr >= 0", name=op.f("ck_subscriptions_mrr_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_subscriptions_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_subscriptions_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_subscriptions")),
    )
    op.create_index("ix_subscriptions_account_id", "subscriptions", ["account_id"], unique=False)
    op.create_index(
        "ix_subscriptions_start_date_end_date",
        "subscriptions",
        ["start_date", "end_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_subscriptions_start_date_end_date", table_name="subscriptions")
    op.drop_index("ix_subscriptions_account_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_opportunities_type_close_date", table_name="opportunities")
    op.drop_index("ix_opportunities_account_id", table_name="opportunities")
    op.drop_table("opportunities")
    op.drop_index("ix_mrr_monthly_month", table_name="mrr_monthly")
    op.drop_table("mrr_monthly")
    op.drop_index("ix_import_files_sha256", table_name="import_files")
    op.drop_index(op.f("ix_import_files_batch_id"), table_name="import_files")
    op.drop_table("import_files")
    op.drop_index("ix_import_changes_table_name_row_key", table_name="import_changes")
    op.drop_index("ix_import_changes_batch_id", table_name="import_changes")
    op.drop_table("import_changes")
    op.drop_index("ix_accounts_vertical_sub_industry", table_name="accounts")
    op.drop_table("accounts")
    op.drop_index("uq_users_email", table_name="users")
    op.drop_table("users")
    op.drop_table("settings")
    op.drop_index("ix_login_attempts_key_attempted_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_table("import_batches")
    op.drop_table("data_version")
