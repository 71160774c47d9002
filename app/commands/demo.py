"""Loading the demo: seeded export files, imported as demo data (``icp demo``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.commands.history import RecordHistory, record_quietly
from app.errors import CommandError
from db import demo as demo_data
from db.importer import ImportRefused
from db.importer.demo_rows import real_account_count

DEMO_BACKFILL_MONTHS = 1
"""Earlier as-of months recorded with the demo's own (computed from the demo's data)."""


@dataclass
class LoadDemo:
    """Write the demo exports of ``seed`` up to ``as_of`` (YYYY-MM) into ``out`` and import
    them as demo data; with ``if_empty``, do nothing when the warehouse holds accounts."""

    engine: sa.Engine
    out: Path
    seed: int = demo_data.DEFAULT_SEED
    as_of: str | None = None
    if_empty: bool = False

    def _month(self) -> str:
        return demo_data.demo_month(self.as_of)

    def validate(self) -> str:
        """The demo's last month; :class:`CommandError` when the month is bad or the warehouse
        holds real data (demo and real data never mix)."""
        problems = []
        month = None
        try:
            month = self._month()
        except ValueError as exc:
            problems.append(f"--as-of: {exc}")
        with self.engine.connect() as conn:
            real = real_account_count(conn)
        if real:
            problems.append(
                f"the warehouse holds {real:,} accounts of your own data; the demo is loaded "
                "only into an empty warehouse or one holding the demo (roll back your imports "
                "with `icp import rollback BATCH` to start again)"
            )
        if problems:
            raise CommandError(problems)
        assert month is not None
        return month

    def run(self) -> str:
        """Load the demo; what happened, in words."""
        if self.if_empty:
            with self.engine.connect() as conn:
                existing = conn.scalar(sa.text("SELECT count(*) FROM accounts"))
            if existing:
                return f"warehouse already has {existing:,} accounts; nothing loaded"
        month = self.validate()
        try:
            message = demo_data.load_demo(self.engine, self.out, seed=self.seed, as_of=month)
        except ImportRefused as exc:
            raise CommandError([f"demo data not loaded: {exc}"]) from None
        # The demo's history starts the month before its last, so the scorecard shows
        # its change since last month from the first visit.
        record_quietly(RecordHistory(self.engine, "demo", backfill=DEMO_BACKFILL_MONTHS))
        return message
