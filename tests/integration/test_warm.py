"""Warming the cache after an import: the landing page's views are then cache hits
(issue 12), in the shared cache the web workers read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import cache as app_cache
from app.views import memo
from app.views.context import Context, warehouse_context
from app.views.evidence import flags, open_alert_count
from app.views.history import tier_changes
from app.views.params import ViewParams, resolve
from app.views.priority import priority
from app.views.scorecard import company, scorecard
from app.views.warm import (
    DEFAULT_VIEWS,
    WARMED,
    _parts,
    is_warm,
    warm,
    warm_also,
    warm_in_background,
)
from db.demo import load_demo


@pytest.fixture
def computed(tmp_path: Path, db: sa.Engine) -> Iterator[tuple[Flask, list[str]]]:
    """Views memoized in a fresh shared cache, as in the web app; the names computed."""
    server = Flask("warm-test")
    app_cache.cache.init_app(
        server, config={"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path / "cache")}
    )
    names: list[str] = []

    def store(name: str, version: str, params: dict[str, Any], compute: Any) -> Any:
        def counted() -> Any:
            names.append(name)
            return compute()

        return app_cache.memoized(name, version, params, counted, db)

    memo.install(store, app_cache.holds)
    # Only the parts a test registers: a page module imported earlier in this process
    # (an app built by another test) registered its own.
    registered = _parts[:]
    _parts.clear()
    try:
        yield server, names
    finally:
        memo.install(memo.local_store)
        _parts[:] = registered


@pytest.mark.slow
def test_after_warming_the_landing_views_are_served_from_the_cache(
    computed: tuple[Flask, list[str]], db: sa.Engine, tmp_path: Path
) -> None:
    server, names = computed
    load_demo(db, tmp_path / "demo", seed=7, as_of="2026-11")
    parts: list[tuple[str, tuple[str, ...]]] = []
    after: list[bool] = []

    def page_part(ctx: Context, p: ViewParams) -> None:
        # What a page draws from the views: they are computed already, at the defaults.
        parts.append((ctx.version, p.by))
        scorecard(ctx, p)

    warm_also(page_part)
    try:
        with server.app_context():
            version = warehouse_context(db).version
            assert not is_warm(version)
        thread = warm_in_background(lambda: warehouse_context(db), server.app_context,
                                    then=lambda: after.append(is_warm(version)))
        thread.join(timeout=120)
    finally:
        _parts.remove(page_part)
    assert not thread.is_alive()
    assert names[: len(DEFAULT_VIEWS)] == list(DEFAULT_VIEWS)
    assert names[len(DEFAULT_VIEWS):] == [WARMED]
    assert parts == [(version, ("vertical",))]
    # ``then`` (the tier history's recording) runs once the version is marked warm.
    assert after == [True]
    names.clear()
    with server.app_context():
        assert is_warm(version)
        ctx = warehouse_context(db)
        p = resolve(ctx)
        assert scorecard(ctx, p).frame.height > 0
        company(ctx, p)
        tier_changes(ctx, p)
        priority(ctx, p)
        flags(ctx, p)
        open_alert_count(ctx)
    assert names == []


def test_a_failed_warm_up_still_ends_the_wait_for_it(
    computed: tuple[Flask, list[str]], db: sa.Engine, tmp_path: Path
) -> None:
    server, _names = computed
    load_demo(db, tmp_path / "demo", seed=7, as_of="2026-11")

    def broken(_ctx: Context, _p: ViewParams) -> None:
        raise RuntimeError("a page part that fails")

    warm_also(broken)
    try:
        warm_in_background(lambda: warehouse_context(db), server.app_context).join(timeout=120)
    finally:
        _parts.remove(broken)
    with server.app_context():
        # The upload page need not wait: the page computes what is missing itself.
        assert is_warm(warehouse_context(db).version)


def test_an_empty_warehouse_has_nothing_to_warm(
    computed: tuple[Flask, list[str]], db: sa.Engine
) -> None:
    server, names = computed
    with server.app_context():
        assert warm(warehouse_context(db)) == ()
    assert names == []
