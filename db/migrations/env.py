"""Alembic environment: the URL comes from db.migrate, never from an ini file."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from db.schema import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.attributes.get("url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
