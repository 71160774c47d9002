"""``icp users``: who may sign in, and with which role."""

from __future__ import annotations

import secrets
import sys

import typer

users_app = typer.Typer(help="Users who may sign in (viewer, analyst, admin).", no_args_is_help=True)

ROLE_HELP = "viewer (dashboards), analyst (also thresholds and declared ICP), admin (also upload, users)."


def _engine():
    from db.engine import get_engine

    return get_engine()


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@users_app.command("add")
def add(
    email: str = typer.Argument(..., help="The user's email; it is their sign-in name."),
    role: str = typer.Option("viewer", help=ROLE_HELP),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
    generate: bool = typer.Option(
        False, "--generate", help="Generate a random password and print it once."
    ),
    sso_only: bool = typer.Option(
        False, "--sso-only", help="No password: the user signs in through OpenID Connect only."
    ),
) -> None:
    """Add a user. Without an option the password is asked for twice, hidden."""
    from app.commands.users import AddUser
    from app.users import UserError

    generated = False
    if sso_only:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif generate:
        password, generated = secrets.token_urlsafe(15), True
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        record = AddUser(_engine(), email, role, password).run()
    except UserError as exc:
        _fail(str(exc))
    typer.echo(f"added {record.email} as {record.role}")
    if generated:
        typer.echo(f"password (shown once, store it now): {password}")


@users_app.command("list")
def list_() -> None:
    """List users with role, state and last sign-in."""
    from app.users import list_users

    records = list_users(_engine())
    if not records:
        typer.echo("no users yet: add one with `icp users add you@company.com --role admin`")
        return
    width = max(len(r.email) for r in records)
    for r in records:
        last = r.last_login_at.strftime("%Y-%m-%d %H:%M") if r.last_login_at else "never"
        state = "disabled" if r.disabled else "active"
        typer.echo(f"{r.email:<{width}}  {r.role:<7}  {state:<8}  last sign-in {last}")


@users_app.command("set-role")
def set_role_(
    email: str = typer.Argument(..., help="The user's email."),
    role: str = typer.Argument(..., help=ROLE_HELP),
) -> None:
    """Change a user's role (their open sessions end: they sign in again)."""
    from app.commands.users import ChangeUser
    from app.users import UserError

    try:
        record = ChangeUser(_engine(), email, role=role).run()
    except UserError as exc:
        _fail(str(exc))
    typer.echo(f"{record.email} is now {record.role}")


@users_app.command("disable")
def disable(
    email: str = typer.Argument(..., help="The user's email."),
    enable: bool = typer.Option(False, "--enable", help="Re-enable a disabled user instead."),
) -> None:
    """Disable a user (their open sessions stop working at once), or re-enable one (who signs
    in afresh: no session from before comes back)."""
    from app.commands.users import ChangeUser
    from app.users import UserError

    try:
        record = ChangeUser(_engine(), email, disabled=not enable).run()
    except UserError as exc:
        _fail(str(exc))
    typer.echo(f"{record.email} is {'disabled' if record.disabled else 'enabled'}")


@users_app.command("set-password")
def set_password_(
    email: str = typer.Argument(..., help="The user's email."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
) -> None:
    """Replace a user's password (asked for twice, hidden); their open sessions end."""
    from app.commands.users import ChangeUser
    from app.users import UserError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        record = ChangeUser(_engine(), email, password=password).run()
    except UserError as exc:
        _fail(str(exc))
    typer.echo(f"password of {record.email} replaced")
