"""The metrics cache: concurrent misses of one entry are computed once (single flight through
a warehouse advisory lock), and a held or failed lock never blocks or breaks a page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from app import cache as app_cache
from db.config import get_config
from loadtest.server import free_port


@pytest.fixture
def flask_app(tmp_path) -> Iterator[Flask]:
    """A Flask app whose metrics cache is a fresh filesystem cache (as in production)."""
    server = Flask("cache-test")
    app_cache.cache.init_app(server, config={"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path)})
    with server.app_context():
        yield server


def _advisory_locks(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )


def test_concurrent_misses_compute_once(flask_app: Flask, db: sa.Engine) -> None:
    calls: list[int] = []
    results: list[object] = []
    start = threading.Barrier(6)

    def compute() -> dict[str, int]:
        calls.append(1)
        time.sleep(0.3)
        return {"answer": 42}

    def worker() -> None:
        with flask_app.app_context():
            start.wait()
            results.append(app_cache.memoized("view", 7, {"by": "vertical"}, compute, db))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert results == [{"answer": 42}] * 6
    assert _advisory_locks(db) == 0


def test_a_lock_held_too_long_does_not_block_the_page(
    flask_app: Flask, db: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_cache, "LOCK_WAIT", "200ms")
    key = app_cache.cache_key("view", 1, {})
    with db.connect() as holder:
        holder.execute(
            sa.text("SELECT pg_advisory_lock(hashtext(:s), hashtext(:k))"),
            {"s": app_cache.LOCK_SPACE, "k": key},
        )
        holder.commit()
        started = time.perf_counter()
        value = app_cache.memoized("view", 1, {}, lambda: "computed anyway", db)
        waited = time.perf_counter() - started
        assert value == "computed anyway"
        assert waited < 5
        assert _advisory_locks(db) == 1  # only the holder's
        holder.invalidate()  # closed, not pooled: its session lock goes with it
    # The server ends the closed session's backend on its own time (slower under load).
    deadline = time.monotonic() + 10
    while _advisory_locks(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _advisory_locks(db) == 0
    # The pooled connections kept no lock_timeout of their own.
    with db.connect() as conn:
        assert conn.scalar(sa.text("SHOW lock_timeout")) == "0"


def test_a_failing_computation_releases_the_lock(flask_app: Flask, db: sa.Engine) -> None:
    def broken() -> None:
        raise RuntimeError("metrics failed")

    with pytest.raises(RuntimeError, match="metrics failed"):
        app_cache.memoized("view", 3, {}, broken, db)
    assert _advisory_locks(db) == 0
    assert app_cache.memoized("view", 3, {}, lambda: "second try", db) == "second try"
    # A cached result of None is a hit, not a miss.
    calls: list[int] = []
    app_cache.memoized("none", 3, {}, lambda: calls.append(1), db)
    app_cache.memoized("none", 3, {}, lambda: calls.append(1), db)
    assert calls == [1]


def test_keys_differ_by_version_and_parameters() -> None:
    base = app_cache.cache_key("scorecard", 4, {"by": ["vertical"], "as_of": "2026-10"})
    assert base == app_cache.cache_key("scorecard", 4, {"as_of": "2026-10", "by": ["vertical"]})
    assert base != app_cache.cache_key("scorecard", 5, {"by": ["vertical"], "as_of": "2026-10"})
    assert base != app_cache.cache_key("scorecard", 4, {"by": ["region"], "as_of": "2026-10"})


def test_an_unreachable_redis_is_skipped_for_a_while_not_fatal(
    db: sa.Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app_cache, "_skip_until", 0.0)  # the back-off is per process: undo it
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    get_config.cache_clear()
    server = Flask("redis-down")
    app_cache.cache.init_app(server, config=app_cache.cache_config())
    get_config.cache_clear()
    calls: list[int] = []
    with server.app_context():
        assert app_cache.memoized("view", 1, {}, lambda: calls.append(1) or "computed", db) == "computed"
        assert "metrics cache unavailable (ConnectionError" in caplog.text
        started = time.perf_counter()
        assert app_cache.memoized("view", 1, {}, lambda: calls.append(1) or "again", db) == "again"
        assert time.perf_counter() - started < 1  # no second try while backing off
    assert calls == [1, 1]
    assert caplog.text.count("metrics cache unavailable") == 1
    assert _advisory_locks(db) == 0
