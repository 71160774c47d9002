"""The views by name, each memoized per data version through its context.

A view function takes ``(context, params)`` and returns a :class:`View`. It is
registered with :func:`view`, naming the parameters it reads: the memo key holds
those only, so two views that differ in a parameter the view ignores share one
result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace

from app.views.context import Context
from app.views.params import ViewParams
from app.views.view import View

ViewFn = Callable[[Context, ViewParams], View]
VIEWS: dict[str, ViewFn] = {}


def view(name: str, uses: Sequence[str]) -> Callable[[ViewFn], ViewFn]:
    """Register a view function under ``name``, memoized on the parameters it ``uses``."""

    def wrap(fn: ViewFn) -> ViewFn:
        @functools.wraps(fn)
        def run(ctx: Context, params: ViewParams) -> View:
            result = ctx.memo(name, params.key(uses), lambda: fn(ctx, params))
            return replace(result, params=params, uses=tuple(uses))

        VIEWS[name] = run
        return run

    return wrap
