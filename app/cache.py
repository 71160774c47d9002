"""The metrics cache: results memoized per data version and view parameters.

flask-caching stores the results: a FileSystemCache in ``get_config().cache_dir``
by default, a RedisCache shared by every worker when REDIS_URL is set. Each key
holds the warehouse's data version (the single row of ``data_version``, bumped by
every import, rollback and settings change), so a change is seen at the next
request without any explicit invalidation. A Redis that fails or hangs is skipped
for a while: pages are then computed without it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, g, has_request_context
from flask_caching import Cache
from redis.exceptions import RedisError

from app.views import context as view_context
from app.views import memo
from db.config import get_config
from db.engine import get_engine
from db.queries import read_data_version

T = TypeVar("T")

log = logging.getLogger("icp.cache")

cache = Cache()

# A day: entries of older versions are never read again, so they only need to expire.
TIMEOUT_SECONDS = 24 * 3600
# A cache (Redis) that fails or does not answer within REDIS_TIMEOUT_SECONDS is left
# alone for BACKOFF_SECONDS: pages are computed without it, slower but right, instead
# of failing or each waiting on it. The file cache never fails this way (cachelib
# swallows its errors).
REDIS_TIMEOUT_SECONDS = 2
BACKOFF_SECONDS = 30


def cache_config() -> dict[str, Any]:
    """flask-caching configuration: Redis when REDIS_URL is set, else the filesystem."""
    cfg = get_config()
    if cfg.redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": cfg.redis_url,
            "CACHE_KEY_PREFIX": "icp:",
            "CACHE_DEFAULT_TIMEOUT": TIMEOUT_SECONDS,
            "CACHE_OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    return {
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": str(cfg.cache_dir),
        "CACHE_THRESHOLD": 2000,
        "CACHE_DEFAULT_TIMEOUT": TIMEOUT_SECONDS,
    }


def init_cache(server: Flask) -> None:
    """Attach the metrics cache to the Flask server."""
    cache.init_app(server, config=cache_config())


def current_version(engine: sa.Engine) -> int:
    """The data version, read once per request (every callback of a request agrees)."""
    if not has_request_context():
        return read_data_version(engine)
    if "icp_data_version" not in g:
        g.icp_data_version = read_data_version(engine)
    return g.icp_data_version


def cache_key(name: str, version: int | str, params: dict[str, Any]) -> str:
    """Key of a view's result: its name, the data version and its parameters."""
    digest = hashlib.sha1(
        json.dumps(params, sort_keys=True, default=str).encode(), usedforsecurity=False
    ).hexdigest()
    return f"{name}:v{version}:{digest}"


# Two-key advisory locks (a key space apart from the importer's one-key locks): the first
# key names the cache, the second the entry.
LOCK_SPACE = "icp:metrics-cache"
LOCK_WAIT = "30s"


@contextmanager
def single_flight(engine: sa.Engine | None, key: str) -> Iterator[None]:
    """Hold the warehouse's advisory lock of ``key`` so that one worker computes a missing
    entry while the others (threads or processes, on any host) wait and then read it.

    Without an engine, or when the lock cannot be had within ``LOCK_WAIT``, the caller
    computes anyway: the lock only saves work, correctness never depends on it.
    """
    if engine is None:
        yield
        return
    args = {"space": LOCK_SPACE, "key": key}
    try:
        conn = engine.connect()
    except sa.exc.DBAPIError:
        yield
        return
    with conn:
        try:
            conn.execute(sa.text("SELECT set_config('lock_timeout', :wait, false)"), {"wait": LOCK_WAIT})
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:space), hashtext(:key))"), args)
            # A session lock: it outlives this commit, so no transaction idles while computing.
            conn.commit()
            locked = True
        except sa.exc.DBAPIError:
            conn.invalidate()
            locked = False
        if not locked:
            yield
            return
        try:
            yield
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:space), hashtext(:key))"), args)
                conn.execute(sa.text("RESET lock_timeout"))
                conn.commit()
            except sa.exc.DBAPIError:
                # Never pool a connection that may still hold the lock: closing it releases it.
                conn.invalidate()


def memoized(
    name: str,
    version: int | str,
    params: dict[str, Any],
    compute: Callable[[], T],
    engine: sa.Engine | None = None,
) -> T:
    """The cached result of ``compute()`` for this view, computing and storing it on a miss.

    With ``engine``, concurrent misses of one key are single-flighted through a warehouse
    advisory lock: after an import bumps the data version, every worker would otherwise
    recompute the same views at once. While the cache is unavailable each request
    computes its views itself, without the lock (the others could not read the result).
    """
    key = cache_key(name, version, params)
    hit = _cached(key)
    if hit is _UNAVAILABLE:
        return _computed(name, key, compute)
    if hit is not None:
        return hit[0]
    with single_flight(engine, key):
        hit = _cached(key)
        if hit is not None and hit is not _UNAVAILABLE:
            return hit[0]
        value = _computed(name, key, compute)
        # Boxed so that a result of None is cached too (a miss reads as None).
        _store(key, (value,))
    return value


def holds(name: str, version: int | str, params: dict[str, Any]) -> bool:
    """True when the cache holds this view's result (False while the cache is down)."""
    hit = _cached(cache_key(name, version, params))
    return hit is not None and hit is not _UNAVAILABLE


def _computed(name: str, key: str, compute: Callable[[], T]) -> T:
    started = time.perf_counter()
    value = compute()
    # One line per computation: what a miss costs, and (with the pid) which worker paid it.
    log.info("view computed", extra={"view": name, "key": key,
                                     "ms": round((time.perf_counter() - started) * 1000)})
    return value


_UNAVAILABLE = object()
_skip_until = 0.0


def _cached(key: str) -> Any:
    """``cache.get(key)``, or ``_UNAVAILABLE`` while the cache is down."""
    if time.monotonic() < _skip_until:
        return _UNAVAILABLE
    try:
        return cache.get(key)
    except RedisError as exc:
        _back_off(exc)
        return _UNAVAILABLE


def _store(key: str, value: Any) -> None:
    if time.monotonic() < _skip_until:
        return
    try:
        cache.set(key, value)
    except RedisError as exc:
        _back_off(exc)


def _back_off(exc: Exception) -> None:
    global _skip_until
    _skip_until = time.monotonic() + BACKOFF_SECONDS
    log.warning(
        "metrics cache unavailable (%s: %s); computing views without it for %d s",
        type(exc).__name__, exc, BACKOFF_SECONDS,
    )


def code_version() -> str:
    """A digest of the application's source files (paths, sizes, modification times).

    Part of every cache key: after an upgrade the cache never serves a figure or a
    view computed by the code that was replaced, and every worker of one release
    agrees on it.
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1(usedforsecurity=False)
    for package in ("app", "metrics", "db"):
        for path in sorted((root / package).rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def share_view_cache() -> None:
    """Memoize the views in this cache (shared by workers, single-flighted through the
    warehouse) and read the data version once per request."""
    code = code_version()
    memo.install(
        lambda name, version, params, compute: memoized(
            name, f"{version}:{code}", params, compute, get_engine()
        ),
        lambda name, version, params: holds(name, f"{version}:{code}", params),
    )
    view_context.install_version_reader(current_version)
