"""``icp import``: load RevOps exports, roll a batch back, list the history.

``icp import FILE...`` and ``icp import rollback BATCH`` share one command name:
click cannot mix a variadic argument with subcommands, so the group below sends
anything that is not a subcommand name to the hidden ``files`` command.
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup


class _FilesOrSubcommand(TyperGroup):
    """A group whose first argument is a subcommand name, or else a file to import."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Kind(StrEnum):
    accounts = "accounts"
    subscriptions = "subscriptions"
    mrr_monthly = "mrr_monthly"
    opportunities = "opportunities"


import_app = typer.Typer(
    cls=_FilesOrSubcommand,
    no_args_is_help=True,
    help=(
        "Import RevOps exports (CSV or XLSX): icp import FILE... [--kind KIND] [--dry-run] "
        "[--keep-demo] [--format json]. Also: icp import rollback BATCH, icp import history."
    ),
)


def _user(user: str | None) -> str:
    return user or getpass.getuser()


def _emit(
    payload: dict[str, Any] | list[Any], fmt: OutputFormat, text: str, err: bool = False
) -> None:
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        typer.echo(text, err=err)


class TerminalProgress:
    """The importer's stages on stderr: one line rewritten in place on a terminal, a line a
    step otherwise (``db.importer.progress``)."""

    WORDS = {"read": "reading", "validate": "checking", "load": "loading", "commit": "committing"}

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.start = time.monotonic()

    def __call__(self, stage: str, done: int, total: int, detail: str) -> None:
        count = f" {done}/{total}" if total > 1 else ""
        line = f"[{time.monotonic() - self.start:5.1f} s] {self.WORDS.get(stage, stage)}{count}"
        line += f": {detail}" if detail else ""
        if self.tty:
            sys.stderr.write("\r\033[K" + line + ("\n" if stage == "commit" else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
def _record(event: str, batch: int | None, version: int | None) -> None:
    """Record the tier history of the version the write committed (``app.commands.history``);
    a failure is a warning: the write stands."""
    from app.commands.history import RecordHistory, record_quietly
    from db.engine import get_engine

    if record_quietly(RecordHistory(get_engine(), event, batch, version)) is None:
        typer.echo(
            "warning: the tier history of this data version was not recorded (see the log); "
            "the scorecard's change since last month skips it",
            err=True,
        )


@import_app.command("files", hidden=True)
def import_files(
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="Export files."
    ),
    kind: Kind | None = typer.Option(
        None, "--kind", help="Kind of every file (default: guessed from its header)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate and report only; write nothing."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", help="Report as text or JSON."),
    user: str = typer.Option(
        None, "--user", help="Who the batch is recorded as (default: your login)."
    ),
    keep_demo: bool = typer.Option(
        False, "--keep-demo", help="Keep the demo data beside yours (default: replace it)."
    ),
    progress: bool = typer.Option(
        None, "--progress/--no-progress",
        help="Say each stage on stderr (default: when stderr is a terminal).",
    ),
) -> None:
    """Validate FILE... and load them in one batch; exit status 1 on any problem.

    While the warehouse holds the demo data, the import replaces it (and says so)."""
    from db.engine import get_engine
    from db.importer import ImportCommand, ImportFile, ImportRefused, ImportRejected

    loaded = [ImportFile.from_path(p) for p in files]
    kinds = {f.name: kind.value for f in loaded} if kind else None
    show = sys.stderr.isatty() if progress is None else progress
    command = ImportCommand(
        loaded, get_engine(), _user(user), kinds=kinds, dry_run=dry_run, keep_demo=keep_demo,
        progress=TerminalProgress(sys.stderr.isatty()) if show else None,
    )
    try:
        result = command.run()
    except ImportRejected as exc:
        _emit({"ok": False, "error": "rejected", **exc.plan.to_dict()}, fmt, str(exc))
        raise typer.Exit(1) from None
    except ImportRefused as exc:
        _emit({"ok": False, "error": str(exc)}, fmt, f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if result.changed:
        _record("import", result.batch_id, result.data_version)
    _emit({"ok": True, **result.to_dict()}, fmt, f"{result.plan.report()}\n{result.message}")


@import_app.command("rollback")
def rollback(
    batch: int = typer.Argument(..., help="Batch id (see icp import history)."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", help="Report as text or JSON."),
    user: str = typer.Option(None, "--user", help="Who the rollback is recorded as."),
) -> None:
    """Restore every row import batch BATCH inserted or updated to its state before."""
    from db.engine import get_engine
    from db.importer import ImportRefused, RollbackCommand

    try:
        result = RollbackCommand(get_engine(), batch, _user(user)).run()
    except ImportRefused as exc:
        _emit({"ok": False, "error": str(exc)}, fmt, f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _record("rollback", batch, result.data_version)
    _emit({"ok": True, **result.to_dict()}, fmt, result.message)


@import_app.command("history")
def history(
    limit: int = typer.Option(20, help="How many batches, newest first."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", help="Report as text or JSON."),
) -> None:
    """List import batches with their files, counts and status."""
    from db.engine import get_engine
    from db.importer import import_history

    batches = import_history(get_engine(), limit)
    lines = []
    for b in batches:
        files = ", ".join(f"{f['file_name']} ({f['kind']})" for f in b["files"]) or "-"
        lines.append(
            f"{b['batch_id']:>5}  {b['created_at']:%Y-%m-%d %H:%M}  {b['created_by']:<12} {b['status']:<11} "
            f"+{b['rows_inserted']:,} ~{b['rows_updated']:,} ={b['rows_unchanged']:,} "
            f"errors {b['error_count']:,}  {files}"
        )
        if b["message"]:
            lines.append(f"       {b['message']}")
    _emit(batches, fmt, "\n".join(lines) if lines else "no imports yet")
