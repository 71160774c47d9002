"""``icp db``: migrate the warehouse."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="Warehouse migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations to the warehouse (creates the embedded one if needed)."""
    from db import migrate
    from db.engine import database_url

    migrate.upgrade(database_url(), revision)
    typer.echo(f"warehouse at {migrate.head_revision() if revision == 'head' else revision}")


@db_app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Revert migrations down to REVISION."""
    from db import migrate
    from db.engine import database_url

    migrate.downgrade(database_url(), revision)
    typer.echo(f"warehouse at {revision}")


@db_app.command("current")
def current() -> None:
    """Print the warehouse's migration and the newest in the code."""
    from db import migrate
    from db.engine import database_url, get_engine

    # The explicit URL skips the first-use migration: this reports, it changes nothing.
    current = migrate.current_revision(get_engine(database_url()))
    typer.echo(f"warehouse: {current}  code: {migrate.head_revision()}")
