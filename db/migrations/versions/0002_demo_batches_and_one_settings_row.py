"""demo batches, recorded deletions, one settings row

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

- ``import_batches.is_demo`` marks the batches ``icp demo`` loaded, so the warehouse
  knows which rows are demo (existing batches recorded as user "demo" are marked).
- ``import_changes.op`` may be ``delete``: a real import that replaces the demo
  records every demo row it removed, with the row, so rolling it back restores them.
- The legacy ``declared_icp`` settings row, which overrode the declared ICP the
  settings page saves inside the ``metrics`` row, is folded into that row and removed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OLD_KEY_COMMENT = "'metrics' (thresholds, margins, ...) or 'declared_icp'"
_KEY_COMMENT = "'metrics': every metric setting (MetricSettings as JSON)"


def upgrade() -> None:
    op.add_column(
        "import_batches",
        sa.Column(
            "is_demo",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
            comment="loaded by icp demo: its rows are demo data, replaced by the first real import",
        ),
    )
    op.execute("UPDATE import_batches SET is_demo = true WHERE created_by = 'demo'")
    op.drop_constraint(op.f("ck_import_changes_op"), "import_changes", type_="check")
    op.create_check_constraint(
        op.f("ck_import_changes_op"), "import_changes", "op IN ('insert', 'update', 'delete')"
    )
    # The legacy row wins, as load_settings let it: fold it in, then drop it.
    op.execute(
        "INSERT INTO settings (key, value, updated_by) "
        "SELECT 'metrics', jsonb_build_object('declared_icp', d.value), d.updated_by "
        "FROM settings d WHERE d.key = 'declared_icp' "
        "ON CONFLICT (key) DO UPDATE SET value = settings.value || EXCLUDED.value, "
        "updated_at = now()"
    )
    op.execute("DELETE FROM settings WHERE key = 'declared_icp'")
    op.alter_column(
        "settings", "key", comment=_KEY_COMMENT, existing_comment=_OLD_KEY_COMMENT,
        existing_type=sa.Text(), existing_nullable=False,
    )


def downgrade() -> None:
    # The folded declared ICP stays inside the 'metrics' row, where 0001 reads it too.
    op.alter_column(
        "settings", "key", comment=_OLD_KEY_COMMENT, existing_comment=_KEY_COMMENT,
        existing_type=sa.Text(), existing_nullable=False,
    )
    # 0001 cannot hold recorded deletions: dropping them would make the demo rows
    # they keep unrestorable, so refuse until the batches holding them are rolled back.
    holders = op.get_bind().scalars(
        sa.text("SELECT DISTINCT batch_id FROM import_changes WHERE op = 'delete' ORDER BY 1")
    ).all()
    if holders:
        raise RuntimeError(
            "cannot downgrade below 0002: import batch(es) "
            f"{', '.join(map(str, holders))} replaced the demo data; roll them back first"
        )
    op.drop_constraint(op.f("ck_import_changes_op"), "import_changes", type_="check")
    op.create_check_constraint(op.f("ck_import_changes_op"), "import_changes", "op IN ('insert', 'update')")
    op.drop_column("import_batches", "is_demo")
