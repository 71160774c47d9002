"""Bumping the warehouse's data version, the number every cached view keys on
(``db.queries.read_data_version`` reads it).

Every write that changes what a page shows (an import that changed rows, a
rollback, saved settings) bumps it inside its own transaction through
:func:`bump_data_version`, so the bump commits with the change or not at all.
"""

from __future__ import annotations

import sqlalchemy as sa

from db.notify import notify_version


def bump_data_version(conn: sa.Connection, above: int = 0) -> int:
    """Add one to the data version inside ``conn``'s transaction, to at least ``above + 1``
    (a restore puts back an older version than the caches have seen); the new version,
    announced to every process following it (``db.notify``) when the transaction commits."""
    version = int(
        conn.execute(
            sa.text(
                "INSERT INTO data_version (id, version, changed_at) VALUES (1, :above + 1, now()) "
                "ON CONFLICT (id) DO UPDATE SET "
                "version = GREATEST(data_version.version, :above) + 1, "
                "changed_at = now() RETURNING version"
            ),
            {"above": above},
        ).scalar_one()
    )
    notify_version(conn, version)
    return version

