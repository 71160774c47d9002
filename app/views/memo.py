"""Memoization of views per data version: the one place results are cached.

A process starts with a small in-memory store (the CLI, tests). The web app
installs flask-caching's store (``app.cache.memoized``: files or Redis, shared by
workers, single-flighted) with :func:`install`, so the view layer never imports Flask.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Store = Callable[[str, str, dict[str, Any], Callable[[], Any]], Any]
Peek = Callable[[str, str, dict[str, Any]], bool]

_MAX_ENTRIES = 256
_local: OrderedDict[str, Any] = OrderedDict()
_local_lock = threading.Lock()


def _local_key(name: str, version: str, params: dict[str, Any]) -> str:
    return f"{name}:{version}:{json.dumps(params, sort_keys=True, default=str)}"


def local_store(name: str, version: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
    """An in-process LRU store keyed by view name, data version and parameters."""
    key = _local_key(name, version, params)
    with _local_lock:
        if key in _local:
            _local.move_to_end(key)
            return _local[key]
    value = compute()
    with _local_lock:
        _local[key] = value
        while len(_local) > _MAX_ENTRIES:
            _local.popitem(last=False)
    return value


def local_peek(name: str, version: str, params: dict[str, Any]) -> bool:
    """True when the in-process store holds (name, version, params)."""
    with _local_lock:
        return _local_key(name, version, params) in _local


_store: Store = local_store
_peek: Peek = local_peek


def install(store: Store, peek: Peek = local_peek) -> None:
    """Use ``store`` for every view from now on (the web app's shared cache), and ``peek``
    to ask it whether it holds a result."""
    global _store, _peek
    _store = store
    _peek = peek


def memoized(name: str, version: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
    """The stored result of ``compute()`` for (name, version, params), computed on a miss."""
    return _store(name, version, params, compute)


def cached(name: str, version: str, params: dict[str, Any]) -> bool:
    """True when a result for (name, version, params) is stored; nothing is computed."""
    return _peek(name, version, params)
