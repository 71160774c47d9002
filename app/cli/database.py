"""``icp db``: migrate, back up and restore the warehouse."""

from __future__ import annotations

from pathlib import Path

import typer

db_app = typer.Typer(help="Warehouse migrations, backup and restore.", no_args_is_help=True)


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


@db_app.command("backup")
def backup(file: Path = typer.Argument(..., help="The backup file to write (pg_dump custom format).")) -> None:
    """Back up the whole warehouse to FILE with pg_dump (custom format)."""
    from db.backup import backup as run_backup
    from db.engine import database_url

    made = run_backup(database_url(), file)
    typer.echo(f"backed up the warehouse (migration {made.revision}) to {made.path} ({_size(made.size)})")


@db_app.command("restore")
def restore(
    file: Path = typer.Argument(..., help="A backup written by `icp db backup` (or pg_dump -Fc)."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: replace everything in the warehouse."),
) -> None:
    """Replace everything in the warehouse (data, imports, users, settings) with FILE."""
    from db.backup import restore as run_restore
    from db.engine import database_url

    if not yes:
        typer.echo(
            f"error: restoring {file} replaces everything in the warehouse (data, import "
            "history, users, settings) with the backup; run again with --yes to do it",
            err=True,
        )
        raise typer.Exit(1)
    made, version = run_restore(database_url(), file)
    typer.echo(
        f"restored {made.path} (migration {made.revision}) into the warehouse; "
        f"data version now {version}, so every cache recomputes"
    )


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"
