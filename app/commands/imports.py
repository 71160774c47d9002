"""Imports as the upload page asks for them: plan, import, roll back, history, demo check.

Checks and imports of uploaded files run as jobs in their own process
(``db.importer.jobs``): :func:`start_check` and :func:`start_import` start them,
:func:`status` says how far they got, and :func:`plan_view` turns a check's stored plan
back into what the page draws.

Once an import job or a rollback has committed, the landing page's views of the new data
version are warmed and then its tier history is recorded, in the background
(``app.commands.history``), whether or not anyone still watches the job.

The page never touches the warehouse or the importer (import-linter holds that): it
calls these, each on the warehouse of this process, and maps the importer's errors
(``ImportRefused``: the files cannot be read; ``ImportRejected``: every problem of
valid files) to its messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from app.commands.history import RecordHistory, record_in_background
from db.config import get_config
from db.engine import get_engine
from db.importer import (
    ImportFile,
    ImportRefused,
    ImportRejected,
    RollbackCommand,
    RollbackResult,
    import_history,
)
from db.importer import holds_demo as _holds_demo
from db.importer.attributes import Attribute
from db.importer.columns import KINDS, SPECS
from db.importer.errors import Problem
from db.importer.jobs import job_status, start_job

__all__ = [
    "KINDS",
    "ImportFile",
    "ImportRefused",
    "ImportRejected",
    "after_import",
    "canonical_columns",
    "history",
    "holds_demo",
    "import_and_wait",
    "plan_view",
    "roll_back",
    "start_check",
    "start_import",
    "status",
    "upload_cap_mb",
]

Mappings = Mapping[str, Mapping[str, str]] | None
Around = Callable[[], AbstractContextManager[object]] | None


def upload_cap_mb() -> int:
    """The size cap of one uploaded file (ICP_UPLOAD_MAX_MB)."""
    return get_config().icp_upload_max_mb


def canonical_columns(kind: str) -> list[str]:
    """The columns a file of ``kind`` can feed (empty for an unknown kind)."""
    return list(SPECS[kind].names) if kind in SPECS else []


def after_import(around: Around = None) -> Callable[[int], None]:
    """What runs once an import job's process has ended (in the thread waiting for it, so
    whoever watches the job or not): when it committed a change, warm the landing page's
    views of the new version and then record its tier history, in the background
    (``around``: the app context to run in)."""

    def record(job_id: int) -> None:
        job = job_status(get_engine(), job_id) or {}
        done = (job.get("result") or {}).get("import") or {}
        if done.get("changed"):
            command = RecordHistory(
                get_engine(), "import", done.get("batch_id"), done.get("data_version")
            )
            record_in_background(command, around)

    return record


def roll_back(batch_id: int, user: str, around: Around = None) -> RollbackResult:
    """Undo import batch ``batch_id`` exactly, recorded as rolled back by ``user``; the
    restored version's tier history is recorded in the background."""
    result = RollbackCommand(get_engine(), batch_id, user).run()
    command = RecordHistory(get_engine(), "rollback", batch_id, result.data_version)
    record_in_background(command, around)
    return result


def history() -> list[dict[str, Any]]:
    """The import batches, newest first, with their files."""
    return import_history(get_engine())


def holds_demo() -> bool:
    """True while the warehouse holds the demo data."""
    return _holds_demo(get_engine())


def start_check(
    user: str,
    files: Sequence[ImportFile] = (),
    *,
    from_job: int | None = None,
    kinds: Mapping[str, str] | None = None,
    mappings: Mappings = None,
) -> int:
    """Start checking ``files`` (or job ``from_job``'s files) in a job of its own; its id."""
    options = {"kinds": dict(kinds or {}), "mappings": {k: dict(v) for k, v in (mappings or {}).items()}}
    return start_job(get_engine(), "check", user, files=files, from_job=from_job, options=options)


def start_import(
    user: str,
    from_job: int,
    *,
    kinds: Mapping[str, str] | None = None,
    mappings: Mappings = None,
    keep_demo: bool = False,
    around: Around = None,
) -> int:
    """Start importing job ``from_job``'s files in a job of its own; its id. Once it has
    committed, the tier history is recorded (``after_import``; ``around``: the app context)."""
    options = {
        "kinds": dict(kinds or {}),
        "mappings": {k: dict(v) for k, v in (mappings or {}).items()},
        "keep_demo": keep_demo,
    }
    return start_job(
        get_engine(), "import", user, from_job=from_job, options=options,
        on_success=after_import(around),
    )


def status(job_id: int) -> dict[str, Any] | None:
    """Job ``job_id`` as ``db.importer.jobs.job_status`` says (None when unknown)."""
    return job_status(get_engine(), job_id)


@dataclass
class FileView:
    """One file of a stored plan, as the page draws it."""

    name: str
    kind: str | None
    headers: list[str]
    mapping: dict[str, str]
    ignored: list[str]
    notices: list[str]
    rows: int
    problem_count: int
    attributes: list[Attribute] = field(default_factory=list)


@dataclass
class PlanView:
    """A stored plan (``ImportPlan.to_dict()``) as the page draws it."""

    ok: bool
    problem_count: int
    files: list[FileView]
    problems: list[Problem]


def plan_view(stored: Mapping[str, Any]) -> PlanView:
    """The plan a check job stored, rebuilt for the page."""
    files = [
        FileView(
            f["name"], f["kind"], list(f.get("headers") or []), dict(f.get("mapping") or {}),
            list(f.get("ignored") or []), list(f.get("notices") or []), int(f.get("rows") or 0),
            int(f.get("problem_count") or 0),
            [Attribute(a["header"], a["name"], a["numeric"], a["values"])
             for a in f.get("attributes") or []],
        )
        for f in stored.get("files", [])
    ]
    problems = [
        Problem(p["file"], p["row"], p["column"], p["value"], p["expected"])
        for p in stored.get("problems", [])
    ]
    return PlanView(bool(stored.get("ok")), int(stored.get("problem_count") or 0), files, problems)


def import_and_wait(
    files: Sequence[ImportFile], user: str, around: Around = None
) -> dict[str, Any]:
    """Import ``files`` in a job of its own and wait for it; the ended job (``status``).
    Its tier history is recorded in the background (``after_import``)."""
    job_id = start_job(
        get_engine(), "import", user, files=files, wait=True, on_success=after_import(around)
    )
    ended = job_status(get_engine(), job_id)
    assert ended is not None
    return ended
