"""imports as jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``import_jobs`` records each check and import the upload page runs in its own process
(``db.importer.jobs``): its stage and progress, its result or error, its process and
heartbeat; ``import_job_files`` holds the uploaded files the job reads, so a job runs
on any host of the deployment and survives a page reload.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("job_id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False, comment="check (plan only) or import"),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column("options", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("stage", sa.Text(), comment="read, validate, load or commit"),
        sa.Column("progress", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("result", JSONB(), comment="the plan (check) or the import result, as JSON"),
        sa.Column("error", sa.Text()),
        sa.Column("batch_id", sa.Integer()),
        sa.Column("pid", sa.Integer(), comment="the job's process while it runs"),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("action IN ('check', 'import')", name=op.f("ck_import_jobs_action")),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_import_jobs_status")
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_import_jobs")),
        comment="imports and checks run as jobs in their own process, with limits (db.importer.jobs)",
    )
    op.create_table(
        "import_job_files",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["import_jobs.job_id"], ondelete="CASCADE",
            name=op.f("fk_import_job_files_job_id_import_jobs"),
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_import_job_files")),
    )


def downgrade() -> None:
    op.drop_table("import_job_files")
    op.drop_table("import_jobs")
