"""``icp serve`` and ``icp demo``."""

from __future__ import annotations

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

    cfg = get_config()
    if debug and (host or cfg.icp_host) not in LOCAL_HOSTS:
        # Debug mode sends tracebacks to the browser: never to other machines.
        typer.echo("error: --debug is only allowed on 127.0.0.1 or localhost", err=True)
        raise typer.Exit(code=1)
    try:
        dash_app = create_app(host=host or cfg.icp_host)
    except StartupRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"ICP Lens on http://{host or cfg.icp_host}:{port or cfg.icp_port}  (Ctrl-C stops)")
    dash_app.run(host=host or cfg.icp_host, port=port or cfg.icp_port, debug=debug)


def demo(
    seed: int = typer.Option(7, help="Random seed: the same seed writes the same files."),
    out: Path = typer.Option(None, help="Folder for the generated CSV exports (default ICP_DATA_DIR/demo)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the warehouse has accounts."),
    files_only: bool = typer.Option(False, "--files-only", help="Write the CSV files, load nothing."),
    as_of: str = typer.Option(
        None, "--as-of", help="Last month of the data, YYYY-MM (default: the last complete month)."
    ),
) -> None:
    """Generate the demo exports and import them the way RevOps would."""
    from db import demo as demo_data
    from db.config import get_config

    out = out or get_config().icp_data_dir / "demo"
    try:
        month = demo_data.key_label(demo_data.as_of_key(as_of))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from None
    if files_only:
        paths = demo_data.write_demo_files(out, seed=seed, as_of=month)
        typer.echo("\n".join(str(p) for p in paths.values()))
        return
    from db.engine import get_engine
    from db.importer import ImportRefused

    try:
        message = demo_data.load_demo(get_engine(), out, seed=seed, as_of=month, if_empty=if_empty)
    except ImportRefused as exc:
        typer.echo(f"demo data not loaded: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(message)
