"""``icp digest``: what changed since an import, by email and/or webhook (a monthly cron,
or the step after ``icp import``)."""

from __future__ import annotations

import typer


def digest(
    to: list[str] = typer.Option(
        None, "--to", help="An address to email the digest to (repeat for several)."
    ),
    webhook: str = typer.Option(
        None, "--webhook", help="A URL to POST the digest to as JSON (Slack-style 'text' included)."
    ),
    since: int = typer.Option(
        None, "--since", help="Compare with the import of this batch (default: the record "
        "before the current data, i.e. the previous import)."
    ),
) -> None:
    """Send the digest: tier changes since an import, newly raised alerts, the top pockets
    and targets, and a link to the dashboard (ICP_PUBLIC_URL). Email goes through
    ICP_SMTP_URL (smtp://user:password@host:port; ICP_SMTP_STARTTLS, ICP_SMTP_FROM)."""
    from app.commands import CommandError
    from app.commands.digest import SendDigest
    from app.views import USER_ERRORS
    from app.views.context import warehouse_context

    try:
        sent = SendDigest(warehouse_context(), to or (), webhook, since).run()
    except (CommandError, *USER_ERRORS) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    where = [*(to or ()), *([webhook] if webhook else [])]
    typer.echo(f"{sent.subject} (compared with {sent.since_text}): sent to {', '.join(where)}")
