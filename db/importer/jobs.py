"""Checks and imports as jobs: each runs in its own process, with limits, never in a web worker.

A hostile file (a zip bomb, a sheet claiming a million columns) can at worst end its own
job. :func:`start_job` stores the uploaded files and the options in ``import_jobs`` /
``import_job_files`` and starts ``python -m db.importer.job_runner JOB`` as a child
process, in its own session, with a memory cap (``ICP_IMPORT_MEMORY_MB``) and a CPU and
wall-clock cap (``ICP_IMPORT_TIMEOUT_S``); a thread of the starting process waits for it.
The child reports its stage and progress (read, validate, load, commit: see
``db.importer.progress``) and a heartbeat, then its result: the plan of a check, the
import's result, or the problems of rejected files.

Whatever ends a job, the job says so: a child that dies (killed, out of memory, out of
time) is marked failed by the waiting thread with the reason, and an import recorded as
a failed batch; a job whose process is gone without a word (the web worker that
waited died too) is marked failed by the next :func:`job_status` that finds its
heartbeat stale. The files of a job stay with it so the page can check them again
with other kinds or mappings, or import them, after a reload.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from db.config import get_config
from db.importer.read import ImportFile

STALE_SECONDS = 60
"""A running job whose heartbeat is older than this and whose process is gone has died."""
HEARTBEAT_SECONDS = 5.0
"""How often a job's process says it is alive."""
KEEP_JOBS = 200
"""Jobs (and their files) kept; older ones are removed when a new one starts."""


def start_job(
    engine: sa.Engine,
    action: str,
    user: str,
    *,
    files: Sequence[ImportFile] = (),
    from_job: int | None = None,
    options: Mapping[str, Any] | None = None,
    wait: bool = False,
    on_success: Callable[[int], None] | None = None,
) -> int:
    """Record a ``check`` or ``import`` job of ``files`` (or of job ``from_job``'s files)
    and start its process; the job id. ``options``: ``kinds``, ``mappings``,
    ``keep_demo``. With ``wait`` return only when the job has ended. ``on_success(job_id)``
    is called by the thread waiting for the process once it ended normally (the app
    records the tier history of what an import committed, whoever watches the job)."""
    if action not in ("check", "import"):
        raise ValueError(f"unknown job action {action!r}")
    with engine.begin() as conn:
        job_id = conn.scalar(
            sa.text(
                "INSERT INTO import_jobs (created_by, action, options, stage) "
                "VALUES (:user, :action, CAST(:options AS jsonb), 'queued') RETURNING job_id"
            ),
            {"user": user, "action": action, "options": json.dumps(dict(options or {}))},
        )
        if from_job is not None:
            conn.execute(
                sa.text(
                    "INSERT INTO import_job_files (job_id, position, name, data) "
                    "SELECT :job, position, name, data FROM import_job_files WHERE job_id = :src"
                ),
                {"job": job_id, "src": from_job},
            )
        else:
            conn.execute(
                sa.text(
                    "INSERT INTO import_job_files (job_id, position, name, data) "
                    "VALUES (:job, :position, :name, :data)"
                ),
                [
                    {"job": job_id, "position": i, "name": f.name, "data": f.data}
                    for i, f in enumerate(files)
                ],
            )
        _forget_old_jobs(conn)
    waiter = _spawn(engine, job_id, on_success)
    if wait:
        waiter.join()
    return job_id


def _forget_old_jobs(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "DELETE FROM import_jobs WHERE status <> 'running' AND job_id <= "
            "(SELECT max(job_id) FROM import_jobs) - :keep"
        ),
        {"keep": KEEP_JOBS},
    )


def apply_limits() -> None:
    """In the job's process, before it reads a file: its memory, CPU time and file size
    caps (``resource.setrlimit``; exceeding them ends this process only)."""
    import resource

    cfg = get_config()
    memory = cfg.icp_import_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = cfg.icp_import_timeout_s
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    # The job writes no file of its own: anything large it writes is a runaway.
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024 * 1024, 64 * 1024 * 1024))


def _spawn(
    engine: sa.Engine, job_id: int, on_success: Callable[[int], None] | None = None
) -> threading.Thread:
    env = dict(os.environ)
    env["ICP_JOB_PARENT"] = str(os.getpid())
    process = subprocess.Popen(
        [sys.executable, "-m", "db.importer.job_runner", str(job_id)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE import_jobs SET pid = :pid WHERE job_id = :job AND pid IS NULL"),
            {"pid": process.pid, "job": job_id},
        )
    waiter = threading.Thread(
        target=_wait, args=(engine, job_id, process, on_success), name=f"icp-job-{job_id}",
        daemon=True,
    )
    waiter.start()
    return waiter


def _wait(
    engine: sa.Engine,
    job_id: int,
    process: subprocess.Popen,
    on_success: Callable[[int], None] | None = None,
) -> None:
    """Wait for the job's process (killing it at the time cap) and say how a crash ended;
    call ``on_success(job_id)`` when it ended normally."""
    timeout = get_config().icp_import_timeout_s
    timed_out = False
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
    code = process.returncode
    if code == 0 and not timed_out:
        if on_success is not None:
            on_success(job_id)
        return
    tail = (err or b"").decode("utf-8", "replace").strip().splitlines()
    reason = crash_reason(code, timed_out, tail[-1] if tail else "")
    fail_job(engine, job_id, reason)


def crash_reason(code: int | None, timed_out: bool, last_line: str = "") -> str:
    """Why a job's process ended without finishing its job, in words."""
    cfg = get_config()
    if timed_out or code == -signal.SIGXCPU:
        return (
            f"the import job took longer than its limit of {cfg.icp_import_timeout_s:,} s "
            "and was stopped; nothing was written (ICP_IMPORT_TIMEOUT_S)"
        )
    if "MemoryError" in last_line or code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV):
        return (
            "the import job ran out of memory or was killed while reading the files "
            f"(limit {cfg.icp_import_memory_mb:,} MB, ICP_IMPORT_MEMORY_MB); nothing was "
            "written. A file that needs more is likely malformed (e.g. a spreadsheet "
            "claiming millions of cells)"
        )
    if code == -signal.SIGXFSZ:
        return "the import job tried to write too much and was stopped; nothing was written"
    detail = f": {last_line}" if last_line else ""
    return f"the import job stopped unexpectedly (exit {code}){detail}; nothing was written"


def fail_job(engine: sa.Engine, job_id: int, reason: str, record: bool = True) -> None:
    """Mark a job that did not finish as failed with ``reason``; an import is also
    recorded as a failed batch (the import history shows the attempt) unless ``record``
    is false (the importer recorded it already)."""
    from db.importer.commands import record_failed
    from db.importer.plan import FilePlan, ImportPlan

    with engine.begin() as conn:
        job = conn.execute(
            sa.text(
                "UPDATE import_jobs SET status = 'failed', error = :reason, finished_at = now(), "
                "pid = NULL WHERE job_id = :job AND status = 'running' "
                "RETURNING action, created_by"
            ),
            {"reason": reason, "job": job_id},
        ).one_or_none()
        files = conn.execute(
            sa.text(
                "SELECT name, length(data) FROM import_job_files WHERE job_id = :job "
                "ORDER BY position"
            ),
            {"job": job_id},
        ).all()
    if job is None or job.action != "import" or not record:
        return
    plan = ImportPlan([FilePlan(name, "", size) for name, size in files], [], 0)
    names = ", ".join(name for name, _ in files)
    batch = record_failed(engine, plan, job.created_by, f"{reason} ({names})")
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE import_jobs SET batch_id = :b WHERE job_id = :job"),
            {"b": batch, "job": job_id},
        )


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_status(engine: sa.Engine, job_id: int) -> dict[str, Any] | None:
    """The job as the page shows it: ``job_id, action, status, stage, progress, result,
    error, batch_id, created_by, seconds`` (None for an unknown job). A running job
    whose heartbeat is stale and whose process is gone is marked failed first."""
    query = sa.text(
        "SELECT job_id, action, status, stage, progress, result, error, batch_id, created_by, "
        "pid, extract(epoch FROM now() - heartbeat_at) AS quiet, "
        "extract(epoch FROM coalesce(finished_at, now()) - created_at) AS seconds "
        "FROM import_jobs WHERE job_id = :job"
    )
    with engine.connect() as conn:
        row = conn.execute(query, {"job": job_id}).mappings().one_or_none()
    if row is None:
        return None
    if row["status"] == "running" and row["quiet"] > STALE_SECONDS and not _alive(row["pid"]):
        fail_job(engine, job_id, "the import job's process is gone (the server restarted?); "
                 "nothing was written: start it again")
        return job_status(engine, job_id)
    out = dict(row)
    out.pop("pid")
    out.pop("quiet")
    out["seconds"] = float(out["seconds"] or 0)
    return out


def job_files(engine: sa.Engine, job_id: int) -> list[ImportFile]:
    """The files of job ``job_id``, in upload order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT name, data FROM import_job_files WHERE job_id = :job ORDER BY position"
            ),
            {"job": job_id},
        ).all()
    return [ImportFile(name, bytes(data)) for name, data in rows]
