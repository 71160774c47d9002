"""a session epoch per user

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12

``users.session_epoch`` is written into every session cookie at sign-in and checked
on every request; bumping it (sign-out, disable, enable, a new password or role)
ends every session of the user at once, on every worker, replayed cookies included.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COMMENT = "in every session cookie; bumped to end all of the user's sessions"


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("session_epoch", sa.BigInteger(), nullable=False, server_default="0", comment=COMMENT),
    )


def downgrade() -> None:
    op.drop_column("users", "session_epoch")
