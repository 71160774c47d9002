"""The ``icp`` command: serve the dashboard, load demo data, migrate, import, report, digest."""

from __future__ import annotations

import os

# ICP Lens uses no pydantic plugin: without this, the first model pydantic builds scans
# the entry points of every installed package for one (15 ms of every command's start).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer  # noqa: E402

from app.cli.database import db_app
from app.cli.digest import digest
from app.cli.errors import UserErrorGroup
from app.cli.importing import import_app
from app.cli.report import report_app
from app.cli.serve import demo, serve
from app.cli.users import users_app

app = typer.Typer(
    cls=UserErrorGroup,
    help="ICP Lens: which customer segments produce durable, profitable revenue.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve)
app.command()(demo)
app.command()(digest)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(report_app, name="report")
app.add_typer(users_app, name="users")


def main() -> None:
    """Entry point of the ``icp`` console script."""
    app()
