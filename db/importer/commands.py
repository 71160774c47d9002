"""The importer's writes as commands: ``validate()`` then ``run()`` (STYLE.md, Superset).

``validate()`` raises one user-facing error holding every problem and writes no
data; ``run()`` validates, then does all the writing in one transaction that also
bumps the data version, so the change and the bump commit together or not at all.
``run_import`` and ``rollback_batch`` are the same commands in one call.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa

from db.data_version import bump_data_version
from db.importer.errors import ImportFailed, ImportRefused
from db.importer.load import FileResult, ImportResult, load_plan, record_files
from db.importer.plan import FilePlan, ImportPlan, ImportRejected, plan_import
from db.importer.progress import Progress
from db.importer.read import ImportFile, ReadLimits
from db.importer.rollback import RollbackResult, check_batch, undo_batch

log = logging.getLogger("icp.importer")


@dataclass
class ImportCommand:
    """Import ``files`` as one batch recorded as ``user``.

    A real import replaces the demo data in its transaction unless ``keep_demo``;
    ``demo`` marks the batch as demo data (``icp demo``). ``kinds`` ({file name:
    kind}) and ``mappings`` ({file name: {source header: canonical column}})
    override detection; ``after_staging(backend_pid)`` is a hook for
    fault-injection tests, called once the rows are staged.
    """

    files: Sequence[ImportFile]
    engine: sa.Engine
    user: str
    kinds: Mapping[str, str] | None = None
    mappings: Mapping[str, Mapping[str, str]] | None = None
    dry_run: bool = False
    settings: Any = None
    limits: ReadLimits | None = None
    demo: bool = False
    keep_demo: bool = False
    after_staging: Callable[[int], None] | None = None
    progress: Progress | None = None
    """Hears of each stage (``db.importer.progress``): read, validate, load, commit."""

    def validate(self) -> ImportPlan:
        """The plan of a valid import; :class:`ImportRejected` listing every problem otherwise
        (recorded as a failed batch unless it is a dry run)."""
        try:
            plan = plan_import(
                self.files, self.engine, kinds=self.kinds, mappings=self.mappings,
                settings=self.settings, limits=self.limits, progress=self.progress,
            )
        except (ImportRefused, MemoryError):
            raise  # a refusal as it is; the job's memory cap, which its runner names
        except Exception as exc:
            # Every file's own failure is already a problem of the plan (plan.py); this is
            # a bug elsewhere in checking: logged, recorded, and told as a refusal.
            log.exception("checking an import failed unexpectedly")
            if not self.dry_run:
                record_failed(
                    self.engine, _unchecked(self.files), self.user,
                    f"rejected: checking the files failed unexpectedly ({type(exc).__name__})",
                )
            raise ImportFailed(
                "checking the files failed unexpectedly and nothing was written (the error is "
                "in the server log); try again, or report the files"
            ) from exc
        if not plan.ok:
            if not self.dry_run:
                record_failed(self.engine, plan, self.user)
            raise ImportRejected(plan)
        return plan

    def run(self) -> ImportResult:
        """Validate, then load in one transaction; :class:`ImportFailed` when the load fails."""
        plan = self.validate()
        if self.dry_run:
            results = [FileResult(f.name, f.kind or "", f.rows) for f in plan.files]
            return ImportResult(None, plan, results, dry_run=True)
        try:
            with self.engine.begin() as conn:
                result = load_plan(
                    conn, plan, self.user, demo=self.demo,
                    replace_demo=not (self.demo or self.keep_demo),
                    after_staging=self.after_staging, progress=self.progress,
                )
                if self.progress is not None:
                    self.progress("commit", 0, 1, "committing the batch")
                result.data_version = (
                    bump_data_version(conn)
                    if result.changed
                    else conn.scalar(sa.text("SELECT version FROM data_version"))
                )
        except sa.exc.DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            if isinstance(getattr(exc, "orig", None), psycopg.errors.ForeignKeyViolation):
                # References were checked before the lock; only a rollback in between
                # removes an account.
                reason = (
                    "an account the files refer to was removed meanwhile, by a rollback? "
                    f"({reason})"
                )
            record_failed(self.engine, plan, self.user, f"load failed: {reason}")
            raise ImportFailed(
                f"the import failed and nothing was written ({reason}); try again"
            ) from exc
        except (ImportRefused, MemoryError):
            raise
        except Exception as exc:
            log.exception("loading an import failed unexpectedly")
            record_failed(
                self.engine, plan, self.user, f"load failed unexpectedly ({type(exc).__name__})"
            )
            raise ImportFailed(
                "the import failed unexpectedly and nothing was written (the error is in the "
                "server log); try again, or report the files"
            ) from exc
        return result


def _unchecked(files: Sequence[ImportFile]) -> ImportPlan:
    """A plan of ``files`` that could not be checked, to record the attempt."""
    plans = [FilePlan(f.name, hashlib.sha256(f.data).hexdigest(), len(f.data)) for f in files]
    return ImportPlan(plans, [], 0)


def run_import(files: Sequence[ImportFile], engine: sa.Engine, **options: Any) -> ImportResult:
    """Validate ``files`` and load them in one transaction: ``ImportCommand(...).run()``."""
    return ImportCommand(files, engine, **options).run()


def record_failed(
    engine: sa.Engine, plan: ImportPlan, user: str, message: str | None = None
) -> int | None:
    """Record an import attempt that wrote nothing, in its own transaction; its batch id.

    Best effort: when the warehouse cannot be reached the attempt goes unrecorded
    rather than hiding the original error.
    """
    kinds = sorted({f.kind for f in plan.files if f.kind})
    names = ", ".join(f.name for f in plan.files)
    first = str(plan.problems[0]) if plan.problems else ""
    text = message or f"rejected: {plan.problem_count:,} problem(s) in {names}; first: {first}"
    try:
        with engine.begin() as conn:
            batch_id = conn.scalar(
                sa.text(
                    "INSERT INTO import_batches "
                    "(created_by, status, kinds, error_count, message, finished_at) "
                    "VALUES (:user, 'failed', :kinds, :errors, :message, now()) "
                    "RETURNING batch_id"
                ),
                {
                    "user": user,
                    "kinds": ",".join(kinds),
                    "errors": max(plan.problem_count, 1 if message else 0),
                    "message": text[:2000],
                },
            )
            record_files(
                conn, batch_id, plan, [FileResult(f.name, f.kind or "", f.rows) for f in plan.files]
            )
            return batch_id
    except sa.exc.DBAPIError:
        return None


@dataclass
class RollbackCommand:
    """Undo import batch ``batch_id`` exactly, recorded as rolled back by ``user``."""

    engine: sa.Engine
    batch_id: int
    user: str

    def validate(self) -> None:
        """:class:`ImportRefused` saying why the batch cannot be rolled back, if it cannot."""
        with self.engine.connect() as conn, conn.begin():
            check_batch(conn, self.batch_id)

    def run(self) -> RollbackResult:
        """Restore every row the batch changed and bump the data version, in one transaction."""
        self.validate()
        with self.engine.begin() as conn:
            result = undo_batch(conn, self.batch_id, self.user)
            result.data_version = bump_data_version(conn)
        return result


def rollback_batch(engine: sa.Engine, batch_id: int, *, user: str) -> RollbackResult:
    """Restore every row batch ``batch_id`` changed: ``RollbackCommand(...).run()``."""
    return RollbackCommand(engine, batch_id, user).run()
