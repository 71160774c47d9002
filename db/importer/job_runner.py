"""``python -m db.importer.job_runner JOB``: run one check or import job (``db.importer.jobs``).

The process loads its code, caps its own memory, CPU time and file sizes, then reads the job's
files and options from the warehouse, runs the check (``plan_import``) or the import
(``ImportCommand``) reporting progress and a heartbeat, and stores the result. Any
exception it can catch ends the job as failed with its message; what it cannot (killed,
out of memory) the waiting process reports (``jobs.crash_reason``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import sqlalchemy as sa

from db.importer.jobs import HEARTBEAT_SECONDS, apply_limits, fail_job, job_files

# Progress is written at most this often (seconds); the last of a stage always.
_EVERY = 0.3


class _Reporter:
    """Writes the job's stage, progress and heartbeat (a thread keeps the heartbeat going)."""

    def __init__(self, engine: sa.Engine, job_id: int) -> None:
        self.engine, self.job_id = engine, job_id
        self.last = 0.0
        self.stages: dict[str, Any] = {}
        self.done = threading.Event()
        threading.Thread(target=self._beat, daemon=True).start()

    def _beat(self) -> None:
        while not self.done.wait(HEARTBEAT_SECONDS):
            with self.engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE import_jobs SET heartbeat_at = now() WHERE job_id = :job"),
                    {"job": self.job_id},
                )

    def __call__(self, stage: str, done: int, total: int, detail: str) -> None:
        new_stage = stage not in self.stages
        self.stages[stage] = {"done": done, "total": total, "detail": detail}
        now = time.monotonic()
        if now - self.last < _EVERY and done < total and not new_stage:
            return
        self.last = now
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE import_jobs SET stage = :stage, progress = CAST(:p AS jsonb), "
                    "heartbeat_at = now() WHERE job_id = :job"
                ),
                {"stage": stage, "p": json.dumps(self.stages), "job": self.job_id},
            )


def _finish(engine: sa.Engine, job_id: int, result: dict[str, Any], batch: int | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE import_jobs SET status = 'done', result = CAST(:r AS jsonb), "
                "batch_id = :b, finished_at = now(), pid = NULL, stage = 'done' "
                "WHERE job_id = :job AND status = 'running'"
            ),
            {"r": json.dumps(result, default=str), "b": batch, "job": job_id},
        )


def run(job_id: int) -> int:
    """Run job ``job_id``; the exit code (0 when the job ended, failed or not)."""
    from db.engine import get_engine
    from db.importer import ImportCommand, ImportFailed, ImportRefused, ImportRejected, plan_import

    engine = get_engine()
    with engine.connect() as conn:
        job = conn.execute(
            sa.text("SELECT action, created_by, options FROM import_jobs WHERE job_id = :job"),
            {"job": job_id},
        ).one()
    options = job.options or {}
    reporter = _Reporter(engine, job_id)
    try:
        files = job_files(engine, job_id)
        kinds, mappings = options.get("kinds") or None, options.get("mappings") or None
        if job.action == "check":
            plan = plan_import(files, engine, kinds=kinds, mappings=mappings, progress=reporter)
            _finish(engine, job_id, {"plan": plan.to_dict()}, None)
        else:
            command = ImportCommand(
                files, engine, job.created_by, kinds=kinds, mappings=mappings,
                keep_demo=bool(options.get("keep_demo")), progress=reporter,
            )
            try:
                result = command.run()
            except ImportRejected as exc:
                _finish(engine, job_id, {"rejected": exc.plan.to_dict()}, None)
            else:
                out = result.to_dict()
                out["changed"] = result.changed
                _finish(engine, job_id, {"import": out}, result.batch_id)
    except ImportFailed as exc:  # the load failed; the importer recorded the failed batch
        fail_job(engine, job_id, str(exc), record=False)
    except ImportRefused as exc:
        fail_job(engine, job_id, str(exc))
    except MemoryError:
        fail_job(engine, job_id, "the files need more memory than an import job may use "
                 "(ICP_IMPORT_MEMORY_MB); nothing was written")
    except Exception as exc:  # every failure ends the job with a reason, never silently
        fail_job(engine, job_id, f"the import job failed: {type(exc).__name__}: {exc}")
    finally:
        reporter.done.set()
    return 0


def load_code() -> None:
    """Import what a job runs before its caps apply: the caps are for the files' sake.
    Loaded under a low memory cap, the code's own shared libraries (polars', libpq's:
    hundreds of MB of address space) could fail to map, an ImportError that said nothing
    of memory instead of the cap's message."""
    import polars  # noqa: F401
    import psycopg  # noqa: F401

    import db.engine  # noqa: F401
    import db.importer.commands  # noqa: F401
    import db.importer.plan  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Entry point: load the code, apply the limits, run the job named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    load_code()
    apply_limits()
    return run(int(args[0]))


if __name__ == "__main__":
    sys.exit(main())
