"""Recording the tier history after a write that changed the data (METRICS.md, "Tier history").

An import, a rollback and the demo load each commit a new data version; right after,
:class:`RecordHistory` computes that version's scorecard through the views and adds
it to ``tier_history``. It runs after the commit, not inside it: the numbers are the
views' own, computed from the committed data, and a failure here never undoes the
import (it is logged, and that version simply has no record).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import sqlalchemy as sa

from app.errors import CommandError
from app.views.context import Context, reread_history, warehouse_context
from app.views.history import snapshot
from app.views.warm import warm_in_background
from db.history import write_tier_history
from db.schema import HISTORY_EVENTS

log = logging.getLogger(__name__)


@dataclass
class RecordHistory:
    """Record the tiers of the warehouse's current data version, made by ``event`` (an
    import, rollback or demo load) of ``batch_id``; ``version`` is the data version that
    write committed. ``backfill`` earlier as-of months are recorded too, computed from
    the same data (``icp history backfill``; the demo load records one)."""

    engine: sa.Engine
    event: str
    batch_id: int | None = None
    version: int | None = None
    backfill: int = 0

    def validate(self) -> None:
        """:class:`CommandError` when the event or the number of months is not one we know."""
        problems = []
        if self.event not in HISTORY_EVENTS or self.event == "backfill":
            problems.append(f"event {self.event!r}: use import, rollback or demo")
        if not 0 <= self.backfill <= 120:
            problems.append(f"backfill {self.backfill}: a number of months from 0 to 120")
        if problems:
            raise CommandError(problems)

    def run(self) -> int:
        """Record the current version (and the months backfilled); the rows added."""
        self.validate()
        ctx = warehouse_context(self.engine)
        version = ctx.data_version
        if ctx.empty or version is None:
            return 0
        # A later write may have committed meanwhile: its version is recorded, and the
        # batch named only if it made that version.
        batch = self.batch_id if self.version in (None, version) else None
        added = write_tier_history(self.engine, version, self.event, batch, snapshot(ctx))
        for month in earlier_months(ctx, self.backfill):
            rows = snapshot(ctx, as_of=month, with_alerts=False)
            added += write_tier_history(self.engine, version, "backfill", None, rows)
        reread_history(self.engine)
        return added


def earlier_months(ctx: Context, count: int) -> list[str]:
    """Up to ``count`` as-of months before the data's default, newest first."""
    return ctx.months_available()[1 : count + 1]


def record_quietly(command: RecordHistory) -> int | None:
    """Run ``command``; on failure log it and return None (the write it follows stands)."""
    try:
        return command.run()
    except Exception:  # the import committed: a missing record must not undo or hide it
        log.exception("recording the tier history failed")
        return None


def record_in_background(
    command: RecordHistory,
    around: Callable[[], AbstractContextManager[object]] | None = None,
) -> threading.Thread:
    """Warm the landing page's views in a daemon thread, then record (the web app: the
    user who imported is not kept waiting, and the upload page shows the result once the
    new numbers are warm); ``around()`` is the context manager to run in (the web app's
    application context). The views read only earlier months' records, so warming
    first changes no number."""
    return warm_in_background(
        lambda: warehouse_context(command.engine), around, then=lambda: record_quietly(command)
    )
