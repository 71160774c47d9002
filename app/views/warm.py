"""Warming the cache: the views a first visit asks for, computed before anyone asks.

After an import (or a server start) every view misses: the first page would pay for
the scorecard's intervals (about 0.5 s at demo scale, seconds at 100k accounts) while
the user waits. :func:`warm` computes, at the defaults, everything the scorecard page
(the landing page) and the navigation badge read, in the order the page needs them,
so that first visit is served from the cache; :func:`warm_in_background` does it in a
daemon thread (a web worker at start, or the worker that has just imported), and marks
the data version warm in the cache when done: :func:`is_warm` tells the upload page
when the new numbers are ready to be shown.

The landing page draws its table and map from the views in ``app.components``, which
this layer cannot import: the page registers that part with :func:`warm_also`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from app.views import memo
from app.views.context import Context, current_tag, warehouse_context, warehouse_engine
from app.views.evidence import flags, open_alert_count
from app.views.history import tier_changes
from app.views.params import ViewParams, resolve
from app.views.priority import priority
from app.views.scorecard import company, scorecard

log = logging.getLogger(__name__)

DEFAULT_VIEWS = ("scorecard", "company", "tier_changes", "priority", "alerts", "flags")
"""Computed by :func:`warm`, in this order: the landing page's table, cards, arrows and
priority list, the navigation badge (alerts by vertical), then the Accidental ICP flags."""

Part = Callable[[Context, ViewParams], object]
_parts: list[Part] = []

WARMED = "warmed"
"""The memo entry :func:`warm_in_background` stores once a data version is warm."""


def warm_also(part: Part) -> None:
    """Also compute ``part(ctx, p)`` at the default view when warming, right after the
    landing page's views (its memoized table rows, map and cards)."""
    if part not in _parts:
        _parts.append(part)


def warm(ctx: Context) -> tuple[str, ...]:
    """Compute and memoize the default views of ``ctx``; the names computed (none when
    the warehouse is empty)."""
    if ctx.empty:
        return ()
    p = resolve(ctx)
    scorecard(ctx, p)
    company(ctx, p)
    tier_changes(ctx, p)
    priority(ctx, p)
    for part in _parts:
        part(ctx, p)
    open_alert_count(ctx)  # the alerts view by vertical: the navigation badge
    flags(ctx, p)
    return DEFAULT_VIEWS


def is_warm(version: str | None = None) -> bool:
    """True once :func:`warm_in_background` has finished (or given up) on the data version
    tagged ``version`` (``Context.version``; default: the warehouse's current one), in any
    process sharing this cache."""
    return memo.cached(WARMED, version if version is not None else current_tag(), {})


def warm_now(
    context: Callable[[], Context],
    around: Callable[[], AbstractContextManager[object]] | None = None,
    then: Callable[[], object] | None = None,
) -> None:
    """Warm the views of ``context()`` in this thread, inside the context manager
    ``around()`` when given (the web app's application context), mark the version warm,
    then run ``then()`` (recording the tier history).

    A failure is logged, never raised: the page then computes its views itself.
    """
    with around() if around is not None else nullcontext():
        ctx = None
        try:
            started = time.perf_counter()
            ctx = context()
            names = warm(ctx)
            log.info("views warmed", extra={"version": ctx.version, "views": list(names),
                                            "ms": round((time.perf_counter() - started) * 1000)})
        except Exception:  # a background nicety must not take a worker down
            log.exception("warming the view cache failed")
        if ctx is not None:
            # Done or given up: either way the upload page need not wait any longer.
            memo.memoized(WARMED, ctx.version, {}, lambda: True)
        if then is not None:
            try:
                then()
            except Exception:
                log.exception("after warming the view cache")


def warm_in_background(
    context: Callable[[], Context],
    around: Callable[[], AbstractContextManager[object]] | None = None,
    then: Callable[[], object] | None = None,
) -> threading.Thread:
    """:func:`warm_now` in a daemon thread; the thread."""
    thread = threading.Thread(
        target=warm_now, args=(context, around, then), name="icp-warm-views", daemon=True
    )
    thread.start()
    return thread


def follow_data_versions(
    around: Callable[[], AbstractContextManager[object]] | None = None,
    engine: Any | None = None,
) -> tuple[threading.Thread, threading.Event]:
    """Start a daemon thread that, each time any process commits a new data version (an
    import job, a rollback, settings saved in another worker), builds this process's
    context of it and warms its views; the thread and the event that stops it.

    Without it only the process that ran the import warms: another web worker would
    rebuild its context (reading the warehouse: ~1 s at 100k accounts) on the first
    request it serves. The views themselves are mostly cache hits by then.
    """
    stop = threading.Event()

    def run() -> None:
        from db.notify import follow_versions

        warehouse = engine
        while warehouse is None and not stop.is_set():
            try:
                warehouse = warehouse_engine()
            except Exception as exc:  # the warehouse down at start: the pages say so
                log.warning("cannot follow data versions yet (%s); again in 5 s", exc)
                stop.wait(5)
        if warehouse is not None:
            follow_versions(
                warehouse, lambda _version: warm_now(lambda: warehouse_context(warehouse), around),
                stop,
            )

    thread = threading.Thread(target=run, name="icp-follow-versions", daemon=True)
    thread.start()
    return thread, stop
