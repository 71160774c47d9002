"""The warehouse tables (SQLAlchemy Core). Alembic migrations create them.

The five data tables (``spend`` is optional) hold exactly the canonical columns of DATA_FORMAT.md plus
``batch_id``, the import batch that last wrote the row (and ``accounts.attributes``,
the custom attributes). ``import_changes`` keeps
every row an import inserted, updated or deleted (demo rows it replaced), with
the row as it was before, so any batch can be rolled back exactly. ``tier_history``
keeps what the scorecard said at each data version (``app.commands.history`` writes it).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from metrics.frames import SIZE_BANDS, SPEND_CATEGORIES

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MONEY = sa.Numeric(14, 2)
OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")
OPPORTUNITY_STATUSES = ("open", "won", "lost")
IMPORT_KINDS = ("accounts", "subscriptions", "mrr_monthly", "opportunities", "spend")
ROLES = ("viewer", "analyst", "admin")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + v + "'" for v in values)
    return f"{column} IN ({quoted})"


def _batch_fk() -> sa.Column:
    return sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.batch_id"), nullable=True)


import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("batch_id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("kinds", sa.Text, nullable=False, comment="comma-separated kinds of the files"),
    sa.Column("rows_inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message", sa.Text),
    sa.Column("rolled_back_at", sa.DateTime(timezone=True)),
    sa.Column("rolled_back_by", sa.Text),
    sa.Column(
        "is_demo", sa.Boolean, nullable=False, server_default=sa.false(),
        comment="loaded by icp demo: its rows are demo data, replaced by the first real import",
    ),
    sa.CheckConstraint(_in("status", ("committed", "failed", "rolled_back")), name="status"),
)

import_files = sa.Table(
    "import_files",
    metadata,
    sa.Column("file_id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.batch_id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.CHAR(64), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("rows_in_file", sa.Integer, nullable=False),
    sa.Column("rows_inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("column_mapping", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.CheckConstraint(_in("kind", IMPORT_KINDS), name="kind"),
)
sa.Index("ix_import_files_sha256", import_files.c.sha256)

import_changes = sa.Table(
    "import_changes",
    metadata,
    sa.Column("change_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.batch_id", ondelete="CASCADE"), nullable=False),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("row_key", sa.Text, nullable=False, comment="primary key as text; composite keys joined by '|'"),
    sa.Column("op", sa.Text, nullable=False),
    sa.Column("before", JSONB, comment="the row before the change; NULL for an insert"),
    sa.CheckConstraint(_in("op", ("insert", "update", "delete")), name="op"),
    sa.CheckConstraint(_in("table_name", IMPORT_KINDS), name="table_name"),
    sa.CheckConstraint("(op = 'insert') = (before IS NULL)", name="before_matches_op"),
)
sa.Index("ix_import_changes_batch_id", import_changes.c.batch_id)
sa.Index("ix_import_changes_table_name_row_key", import_changes.c.table_name, import_changes.c.row_key)

JOB_ACTIONS = ("check", "import")
JOB_STATUSES = ("running", "done", "failed")

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    sa.Column("job_id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False, comment="check (plan only) or import"),
    sa.Column("status", sa.Text, nullable=False, server_default="running"),
    sa.Column("options", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("stage", sa.Text, comment="read, validate, load or commit"),
    sa.Column("progress", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("result", JSONB, comment="the plan (check) or the import result, as JSON"),
    sa.Column("error", sa.Text),
    sa.Column("batch_id", sa.Integer),
    sa.Column("pid", sa.Integer, comment="the job's process while it runs"),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(_in("action", JOB_ACTIONS), name="action"),
    sa.CheckConstraint(_in("status", JOB_STATUSES), name="status"),
    comment="imports and checks run as jobs in their own process, with limits (db.importer.jobs)",
)

import_job_files = sa.Table(
    "import_job_files",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("import_jobs.job_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.Text, primary_key=True),
    sa.Column("account_name", sa.Text),
    sa.Column("vertical", sa.Text, nullable=False),
    sa.Column("sub_industry", sa.Text, nullable=False, server_default="Unspecified"),
    sa.Column("size_band", sa.Text),
    sa.Column("employees", sa.Integer),
    sa.Column("region", sa.Text),
    sa.Column("use_case", sa.Text),
    sa.Column("lead_source", sa.Text),
    sa.Column("created_date", sa.Date),
    sa.Column(
        "attributes", JSONB,
        comment="custom attributes: the accounts file's extra columns, {name: text or number}",
    ),
    _batch_fk(),
    sa.CheckConstraint("account_id <> ''", name="account_id_not_empty"),
    sa.CheckConstraint("vertical <> ''", name="vertical_not_empty"),
    sa.CheckConstraint(_in("size_band", SIZE_BANDS), name="size_band"),
    sa.CheckConstraint("employees >= 0", name="employees_not_negative"),
)
sa.Index("ix_accounts_vertical_sub_industry", accounts.c.vertical, accounts.c.sub_industry)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("subscription_id", sa.Text, primary_key=True),
    sa.Column("account_id", sa.Text, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("product", sa.Text),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, comment="last day of service, inclusive; NULL = active"),
    sa.Column("mrr", MONEY, nullable=False),
    _batch_fk(),
    sa.CheckConstraint("subscription_id <> ''", name="subscription_id_not_empty"),
    sa.CheckConstraint("mrr >= 0", name="mrr_not_negative"),
    sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
)
sa.Index("ix_subscriptions_account_id", subscriptions.c.account_id)
sa.Index("ix_subscriptions_start_date_end_date", subscriptions.c.start_date, subscriptions.c.end_date)

mrr_monthly = sa.Table(
    "mrr_monthly",
    metadata,
    sa.Column("account_id", sa.Text, sa.ForeignKey("accounts.account_id"), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True, comment="first day of the month"),
    sa.Column("mrr", MONEY, nullable=False),
    _batch_fk(),
    sa.CheckConstraint("mrr >= 0", name="mrr_not_negative"),
    sa.CheckConstraint("EXTRACT(DAY FROM month) = 1", name="month_first_day"),
)
sa.Index("ix_mrr_monthly_month", mrr_monthly.c.month)

opportunities = sa.Table(
    "opportunities",
    metadata,
    sa.Column("opportunity_id", sa.Text, primary_key=True),
    sa.Column("account_id", sa.Text, sa.ForeignKey("accounts.account_id"), nullable=False),
    sa.Column("opportunity_type", sa.Text, nullable=False, server_default="new_business"),
    sa.Column("created_date", sa.Date, nullable=False),
    sa.Column("close_date", sa.Date),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("lead_source", sa.Text),
    _batch_fk(),
    sa.CheckConstraint("opportunity_id <> ''", name="opportunity_id_not_empty"),
    sa.CheckConstraint(_in("opportunity_type", OPPORTUNITY_TYPES), name="opportunity_type"),
    sa.CheckConstraint(_in("status", OPPORTUNITY_STATUSES), name="status"),
    sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    sa.CheckConstraint("close_date IS NULL OR close_date >= created_date", name="close_after_created"),
    sa.CheckConstraint("status = 'open' OR close_date IS NOT NULL", name="closed_has_close_date"),
)
sa.Index("ix_opportunities_account_id", opportunities.c.account_id)
sa.Index("ix_opportunities_type_close_date", opportunities.c.opportunity_type, opportunities.c.close_date)

spend = sa.Table(
    "spend",
    metadata,
    sa.Column("month", sa.Date, primary_key=True, comment="first day of the month"),
    sa.Column("line", sa.Integer, primary_key=True, comment="the row's number in its file"),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("category", sa.Text, nullable=False, server_default="marketing"),
    sa.Column("channel", sa.Text),
    sa.Column("vertical", sa.Text),
    sa.Column("sub_industry", sa.Text),
    sa.Column("size_band", sa.Text),
    sa.Column("region", sa.Text),
    sa.Column("use_case", sa.Text),
    sa.Column("lead_source", sa.Text),
    sa.Column("attributes", JSONB, comment="custom attribute dimensions the row names, {name: value}"),
    _batch_fk(),
    sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    sa.CheckConstraint(_in("category", SPEND_CATEGORIES), name="category"),
    sa.CheckConstraint(_in("size_band", SIZE_BANDS), name="size_band"),
    sa.CheckConstraint("EXTRACT(DAY FROM month) = 1", name="month_first_day"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.Text, primary_key=True, comment="'metrics': every metric setting (MetricSettings as JSON)"),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_by", sa.Text),
)

data_version = sa.Table(
    "data_version",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, server_default="1"),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("id = 1", name="single_row"),
    comment="bumped by every import, rollback and settings change; the metrics cache keys on it",
)

HISTORY_EVENTS = ("import", "rollback", "demo", "backfill")

tier_history = sa.Table(
    "tier_history",
    metadata,
    sa.Column("data_version", sa.BigInteger, primary_key=True),
    sa.Column("as_of", sa.Date, primary_key=True, comment="first day of the as-of month"),
    sa.Column("window_months", sa.SmallInteger, primary_key=True),
    sa.Column(
        "dimensions", sa.Text, primary_key=True,
        comment="comma-separated dimensions of the segment; '' for the company",
    ),
    sa.Column(
        "segment", JSONB, primary_key=True,
        comment="the segment's conditions {dimension: value}; {} for the company",
    ),
    sa.Column("segment_label", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column(
        "batch_id", sa.Integer, sa.ForeignKey("import_batches.batch_id"), nullable=True,
        comment="the batch imported (or rolled back) that made this data version",
    ),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("accounts", sa.Integer),
    sa.Column("tier", sa.Text),
    sa.Column("nrr", sa.Float),
    sa.Column("grr", sa.Float),
    sa.Column("clv", sa.Float),
    sa.Column(
        "alerts", JSONB,
        comment="types of the alerts raised for the segment; NULL where not recorded",
    ),
    sa.CheckConstraint(_in("event", HISTORY_EVENTS), name="event"),
    comment="what the scorecard said at each data version: tiers, NRR, GRR, CLV, alerts",
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.Column(
        "session_epoch", sa.BigInteger, nullable=False, server_default="0",
        comment="in every session cookie; bumped to end all of the user's sessions",
    ),
    sa.CheckConstraint(_in("role", ROLES), name="role"),
    sa.CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_normalized"),
)
sa.Index("uq_users_email", users.c.email, unique=True)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("attempt_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("key", sa.Text, nullable=False, comment="email or client address"),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("succeeded", sa.Boolean, nullable=False),
)
sa.Index("ix_login_attempts_key_attempted_at", login_attempts.c.key, login_attempts.c.attempted_at)

DATA_TABLES = (accounts, subscriptions, mrr_monthly, opportunities, spend)
