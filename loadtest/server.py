"""Start ICP Lens under gunicorn in a subprocess, exactly as production does.

Used by the load test and by the serving, auth, security and fault tests (one
Dash app per process, so tests never build the app in their own process).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# The command the Dockerfile runs; tests assert the two are the same.
GUNICORN_CMD = ["gunicorn", "-c", "gunicorn.conf.py", "app.wsgi:server"]


@dataclass
class Server:
    """A running gunicorn: its process, base URL and log file."""

    proc: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        """Everything gunicorn and the app have logged so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop gunicorn and its workers (SIGTERM, then SIGKILL after 20 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    database_url: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    workers: int = 2,
    threads: int = 4,
    wait_s: float = 90,
) -> Server:
    """Start gunicorn on a free loopback port against ``database_url`` and wait for /healthz.

    Raises RuntimeError with the log when gunicorn exits or never answers.
    """
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ICP_BIND": f"127.0.0.1:{port}",
        "ICP_WORKERS": str(workers),
        "ICP_THREADS": str(threads),
        "ICP_COOKIE_SECURE": "false",
        **(env or {}),
    }
    bin_dir = Path(sys.executable).parent
    full_env["PATH"] = f"{bin_dir}{os.pathsep}{full_env.get('PATH', '')}"
    out = log_path.open("wb")
    proc = subprocess.Popen(
        [str(bin_dir / GUNICORN_CMD[0]), *GUNICORN_CMD[1:]],
        cwd=ROOT,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return _answering(Server(proc, f"http://127.0.0.1:{port}", log_path), "gunicorn", wait_s)


def serve(env: dict[str, str], log_path: Path, cwd: Path = ROOT, wait_s: float = 120) -> Server:
    """Start ``icp serve`` (local mode, as ``make run`` does) on a free loopback port with
    ``env`` as the whole environment, and wait for /healthz."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "icp"), "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return _answering(Server(proc, f"http://127.0.0.1:{port}", log_path), "icp serve", wait_s)


def _answering(server: Server, name: str, wait_s: float) -> Server:
    """``server`` once /healthz answers; RuntimeError with the log when it exits or never does."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.proc.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url + "/healthz", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{name} did not answer /healthz within {wait_s}s:\n{server.log()}")


def demo_database(admin_url: str, name: str, data_dir: Path, users: dict[str, tuple[str, str]]) -> str:
    """Create (or empty) database ``name``, migrate it, load the demo data as ``icp demo``
    does (its tier history recorded) and add ``users`` ({email: (role, password)}); return
    its URL."""
    import sqlalchemy as sa

    from app.commands.demo import LoadDemo
    from app.commands.users import AddUser
    from db import migrate
    from db.engine import drop_database, ensure_database

    drop_database(admin_url, name)
    ensure_database(admin_url, name)
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    try:
        LoadDemo(engine, data_dir / "demo").run()
        for email, (role, password) in users.items():
            AddUser(engine, email, role, password).run()
    finally:
        engine.dispose()
    return url
