"""One line instead of a traceback when a command fails for a reason the user can fix.

Every ``icp`` command runs inside :class:`UserErrorGroup`: a warehouse that cannot
be reached or is not migrated, a backup that cannot be made or restored, a
DATABASE_URL that is not a Postgres URL or a bad environment variable ends the
command with ``error: <what to do>`` and exit status 1. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def user_error(exc: BaseException) -> str | None:
    """The one-line message for ``exc`` when it is the user's to fix, else None.

    An exception can only be of a class whose module was imported: the modules are
    looked up, not imported (a report on a folder never loads the warehouse code, and
    its errors should not either)."""
    engine, backup = sys.modules.get("db.engine"), sys.modules.get("db.backup")
    if engine is not None and isinstance(exc, engine.WarehouseNotReady):
        return str(exc)
    if backup is not None and isinstance(exc, backup.BackupError):
        return str(exc)
    sa = sys.modules.get("sqlalchemy")
    if sa is not None:
        if isinstance(exc, sa.exc.ProgrammingError) and "UndefinedTable" in type(exc.orig).__name__:
            return "the warehouse has no tables yet; run `icp db upgrade` first"
        if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            return f"cannot reach the warehouse ({_first_line(exc)}); check DATABASE_URL"
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError) and exc.title == "Config":
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        return f"bad setting in the environment: {problems}"
    return None


class UserErrorGroup(TyperGroup):
    """The ``icp`` group: user errors of any subcommand become one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # --help, a usage error, typer.Exit: click's own ending
        except Exception as exc:
            message = user_error(exc)
            if message is None:
                raise
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(1) from None
