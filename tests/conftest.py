"""Shared fixtures: a real embedded Postgres with a throwaway database per test session, and
the real servers of production (Debian's PostgreSQL, Redis) started once per session."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from db import migrate
from db.config import get_config
from db.engine import drop_database, embedded_server, ensure_database, normalize_url
from db.schema import metadata
from tests import services

# Tables emptied after each test that used `db`; data_version is reset, not emptied.
_RESET_SQL = "TRUNCATE {tables} RESTART IDENTITY CASCADE; UPDATE data_version SET version = 0"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The embedded server's maintenance database (the server `make run` uses)."""
    return normalize_url(embedded_server().get_uri())


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped at the end."""
    name = f"icp_test_{os.getpid()}_{secrets.token_hex(3)}"
    ensure_database(pg_admin_url, name)
    url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the session's test database."""
    eng = sa.create_engine(database_url, pool_pre_ping=True)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[sa.Engine]:
    """The test database, emptied again after the test (isolation per test)."""
    yield engine
    _end_background_work(engine)
    tables = ", ".join(t.name for t in metadata.sorted_tables if t.name != "data_version")
    with engine.begin() as conn:
        for stmt in _RESET_SQL.format(tables=tables).split(";"):
            conn.execute(sa.text(stmt))
    _forget_views()


def _end_background_work(engine: sa.Engine) -> None:
    """End what a test left running against the database before it is reset: import
    jobs' processes (killed) and the threads waiting for them or warming views (joined).
    Left alone, one could commit or bump the data version in the next test's database."""
    with engine.connect() as conn:
        pids = conn.scalars(
            sa.text("SELECT pid FROM import_jobs WHERE status = 'running' AND pid IS NOT NULL")
        ).all()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    for thread in threading.enumerate():
        if thread.name.startswith(("icp-job-", "icp-warm-views")):
            thread.join(timeout=60)


def _forget_views() -> None:
    """Forget this process's warehouse context and memoized views: the data version
    starts again at 0, and the next test's version 1 is other data."""
    from app.views import context, memo

    context._current = None
    memo._local.clear()


@pytest.fixture(autouse=True)
def _process_state_reset() -> Iterator[None]:
    """After each test, undo what it may have left in this process's globals: the
    metrics cache's back-off (30 s without the cache after a Redis error), a cached
    config read while the test's environment held other variables, an installed
    view store or data-version reader of a web app the test built."""
    yield
    import sys

    get_config.cache_clear()
    cache = sys.modules.get("app.cache")
    if cache is not None:
        cache._skip_until = 0.0
    memo, context = sys.modules.get("app.views.memo"), sys.modules.get("app.views.context")
    if memo is not None:
        memo.install(memo.local_store)
    if context is not None:
        context.install_version_reader(context._warehouse_version)


@pytest.fixture
def env_db(db: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """The test database, also named by DATABASE_URL for code that reads the config."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_config.cache_clear()
    yield db
    get_config.cache_clear()


def _started(start) -> Iterator[services.Service]:
    try:
        service = start()
    except services.Unavailable as exc:
        pytest.skip(str(exc))
    yield service
    service.stop()


@pytest.fixture(scope="session")
def system_postgres() -> Iterator[services.Service]:
    """Debian's PostgreSQL (another major version than the embedded one), in a temp folder."""
    yield from _started(services.start_postgres)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.Service]:
    """A Redis server, as the shared cache of gunicorn's workers in production."""
    yield from _started(services.start_redis)
