"""Checks and imports run as jobs in their own process, with limits: progress, results,
and every way a job can end is said (db.importer.jobs)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import sqlalchemy as sa

from db.config import get_config
from db.importer import ImportFile
from db.importer.jobs import fail_job, job_status, start_job
from tests.integration.test_import_support import checksums, good


def _wait(engine: sa.Engine, job_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job_status(engine, job_id)
        assert status is not None
        if status["status"] != "running":
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running: {status}")


def _batches(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.text("SELECT batch_id, status, message FROM import_batches ORDER BY batch_id")
        )]


def test_a_check_then_an_import_of_the_same_files(env_db: sa.Engine) -> None:
    check = start_job(env_db, "check", "admin@example.com", files=good(), wait=True)
    status = _wait(env_db, check)
    assert status["status"] == "done" and status["action"] == "check"
    plan = status["result"]["plan"]
    assert plan["ok"] and [f["kind"] for f in plan["files"]] == [
        "accounts", "subscriptions", "opportunities"
    ]
    assert status["progress"]["read"]["done"] == 3 == status["progress"]["read"]["total"]
    assert _batches(env_db) == []  # a check writes no data and no batch

    imported = start_job(env_db, "import", "admin@example.com", from_job=check, wait=True)
    status = _wait(env_db, imported)
    assert status["status"] == "done", status
    result = status["result"]["import"]
    assert result["inserted"] == 13 and result["changed"] is True
    assert status["batch_id"] == result["batch_id"] is not None
    assert set(status["progress"]) == {"read", "validate", "load", "commit"}
    assert _batches(env_db)[-1][1] == "committed"


def test_rejected_files_are_a_result_not_a_crash(env_db: sa.Engine) -> None:
    bad = ImportFile("accounts.csv", b"account_id,vertical\nA1,\n")
    job = start_job(env_db, "import", "admin@example.com", files=[bad], wait=True)
    status = _wait(env_db, job)
    assert status["status"] == "done"
    problems = status["result"]["rejected"]["problems"]
    assert problems[0]["row"] == 2 and problems[0]["column"] == "vertical"
    assert _batches(env_db)[-1][1] == "failed"


def test_a_killed_job_is_failed_with_its_reason_and_writes_nothing(
    env_db: sa.Engine, tmp_path: Path
) -> None:
    before = checksums(env_db)
    rows = "\n".join(f"K{i},Tech,Sub,SMB,10" for i in range(400_000))
    big = ImportFile("accounts.csv", f"account_id,vertical,sub_industry,size_band,employees\n{rows}\n".encode())
    job = start_job(env_db, "import", "admin@example.com", files=[big])
    deadline = time.monotonic() + 60
    pid = None
    while pid is None and time.monotonic() < deadline:
        with env_db.connect() as conn:
            pid = conn.scalar(sa.text("SELECT pid FROM import_jobs WHERE job_id = :j"), {"j": job})
        time.sleep(0.05)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    status = _wait(env_db, job)
    assert status["status"] == "failed"
    assert "killed" in status["error"] and "nothing was written" in status["error"]
    assert checksums(env_db) == before
    batch = _batches(env_db)[-1]
    assert batch[1] == "failed" and "killed" in batch[2] and "accounts.csv" in batch[2]
    assert status["batch_id"] == batch[0]


def test_a_job_out_of_memory_ends_alone(env_db: sa.Engine, monkeypatch) -> None:
    monkeypatch.setenv("ICP_IMPORT_MEMORY_MB", "256")
    get_config.cache_clear()
    try:
        job = start_job(env_db, "check", "admin@example.com", files=good(), wait=True)
    finally:
        monkeypatch.delenv("ICP_IMPORT_MEMORY_MB")
        get_config.cache_clear()
    status = _wait(env_db, job)
    assert status["status"] == "failed"
    assert "memory" in status["error"], status["error"]


def test_a_job_whose_process_vanished_is_failed_when_looked_at(env_db: sa.Engine) -> None:
    with env_db.begin() as conn:
        job = conn.scalar(
            sa.text(
                "INSERT INTO import_jobs (created_by, action, pid, heartbeat_at) "
                "VALUES ('admin@example.com', 'check', 999999, now() - interval '5 minutes') "
                "RETURNING job_id"
            )
        )
    status = job_status(env_db, job)
    assert status["status"] == "failed" and "process is gone" in status["error"]
    fail_job(env_db, job, "again")  # a second word changes nothing
    assert job_status(env_db, job)["error"] == status["error"]
