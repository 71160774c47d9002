"""``icp serve`` and ``icp demo``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import typer


def serve(
    host: str = typer.Option(None, help="Address to bind (default ICP_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to bind (default ICP_PORT, 8050)."),
    debug: bool = typer.Option(False, help="Dash debug mode (reloader, dev tools)."),
) -> None:
    """Serve the dashboard with the development server (use gunicorn in production)."""
    from app import create_app
    from app.auth import LOCAL_HOSTS
    from app.security import StartupRefused
    from db.config import get_config
    from db.engine import get_engine

    cfg = get_config()
    # Fail now, in one line, rather than on every page: this also migrates the
    # embedded warehouse of a fresh folder.
    get_engine().connect().close()
    host, port = host or cfg.icp_host, port or cfg.icp_port
    if debug and host not in LOCAL_HOSTS:
        # Debug mode sends tracebacks to the browser: never to other machines.
        typer.echo("error: --debug is only allowed on 127.0.0.1 or localhost", err=True)
        raise typer.Exit(code=1)
    try:
        dash_app = create_app(host=host, port=port, warm_views=True)
    except StartupRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    # SIGTERM (docker stop, systemd, kill) exits like Ctrl-C, through the exit hooks that
    # stop the embedded warehouse when this is its last process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    typer.echo(f"ICP Lens on http://{host}:{port}  (Ctrl-C stops)")
    dash_app.run(host=host, port=port, debug=debug)


def demo(
    seed: int = typer.Option(7, help="Random seed: the same seed writes the same files."),
    out: Path = typer.Option(None, help="Folder for the generated CSV exports (default ICP_DATA_DIR/demo)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the warehouse has accounts."),
    files_only: bool = typer.Option(False, "--files-only", help="Write the CSV files, load nothing."),
    as_of: str = typer.Option(
        None, "--as-of", help="Last month of the data, YYYY-MM (default: the last complete month)."
    ),
) -> None:
    """Generate the demo exports and import them the way RevOps would, as demo data.

    Every page shows a "Demo data" ribbon while it is loaded; your first import
    replaces it."""
    from db import demo as demo_data
    from db.config import get_config

    out = out or get_config().icp_data_dir / "demo"
    if files_only:
        try:
            month = demo_data.demo_month(as_of)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--as-of") from None
        paths = demo_data.write_demo_files(out, seed=seed, as_of=month)
        typer.echo("\n".join(str(p) for p in paths.values()))
        return
    from app.commands import CommandError
    from app.commands.demo import LoadDemo
    from db.engine import get_engine

    command = LoadDemo(get_engine(), out, seed=seed, as_of=as_of, if_empty=if_empty)
    try:
        typer.echo(command.run())
    except CommandError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
