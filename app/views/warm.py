"""Warming the cache: the views a first visit asks for, computed as soon as data changes.

After an import the data version changes and every view misses: the first page
would pay for the scorecard's intervals (about 0.5 s at demo scale, seconds at
100k accounts) while the user waits. :func:`warm` computes, at the defaults, what
the scorecard page (the landing page) and the navigation badge read, so that first
visit is served from the cache; :func:`warm_in_background` does it in a daemon
thread, for the web worker that has just imported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from app.views.context import Context
from app.views.evidence import flags, open_alert_count
from app.views.params import resolve
from app.views.scorecard import company, scorecard

log = logging.getLogger(__name__)

DEFAULT_VIEWS = ("scorecard", "company", "flags", "alerts")
"""Computed by :func:`warm`: the landing page's table and cards, its flags, the badge."""


def warm(ctx: Context) -> tuple[str, ...]:
    """Compute and memoize the default views of ``ctx``; the names computed (none when
    the warehouse is empty)."""
    if ctx.empty:
        return ()
    p = resolve(ctx)
    scorecard(ctx, p)
    company(ctx, p)
    flags(ctx, p)
    open_alert_count(ctx)  # the alerts view by vertical: the navigation badge
    return DEFAULT_VIEWS


def warm_in_background(
    context: Callable[[], Context],
    around: Callable[[], AbstractContextManager[object]] | None = None,
    first: Callable[[], object] | None = None,
) -> threading.Thread:
    """Start a daemon thread warming the views of ``context()``, inside the context
    manager ``around()`` when given (the web app's application context); the thread.
    ``first()`` runs before, in the same thread (recording the tier history).

    A failure is logged, never raised: the page then computes its views itself.
    """

    def run() -> None:
        try:
            with around() if around is not None else nullcontext():
                if first is not None:
                    first()
                warm(context())
        except Exception:  # a background nicety must not take a worker down
            log.exception("warming the view cache failed")

    thread = threading.Thread(target=run, name="icp-warm-views", daemon=True)
    thread.start()
    return thread
