"""Imports as the upload page asks for them: plan, import, roll back, history, demo check.

The page never touches the warehouse or the importer (import-linter holds that): it
calls these, each on the warehouse of this process, and maps the importer's errors
(``ImportRefused``: the files cannot be read; ``ImportRejected``: every problem of
valid files) to its messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from db.config import get_config
from db.engine import get_engine
from db.importer import (
    ImportCommand,
    ImportFile,
    ImportPlan,
    ImportRefused,
    ImportRejected,
    RollbackCommand,
    RollbackResult,
    import_history,
    plan_import,
)
from db.importer import holds_demo as _holds_demo
from db.importer.columns import KINDS, SPECS
from db.importer.read import ReadLimits, read_table

__all__ = [
    "KINDS",
    "ImportFile",
    "ImportRefused",
    "ImportRejected",
    "canonical_columns",
    "file_headers",
    "history",
    "holds_demo",
    "import_command",
    "plan",
    "roll_back",
    "upload_cap_mb",
]

Mappings = Mapping[str, Mapping[str, str]] | None


def upload_cap_mb() -> int:
    """The size cap of one uploaded file (ICP_UPLOAD_MAX_MB)."""
    return get_config().icp_upload_max_mb


def canonical_columns(kind: str) -> list[str]:
    """The columns a file of ``kind`` can feed (empty for an unknown kind)."""
    return list(SPECS[kind].names) if kind in SPECS else []


def file_headers(file: ImportFile, kind: str | None) -> list[str]:
    """The file's own header, read by the importer's reader (empty when it cannot be read)."""
    try:
        return read_table(file, ReadLimits.from_config(), kind).headers
    except ImportRefused:
        return []


def plan(
    files: Sequence[ImportFile], kinds: Mapping[str, str] | None, mappings: Mappings
) -> ImportPlan:
    """What importing ``files`` would do, with every problem; nothing is written."""
    return plan_import(files, get_engine(), kinds=kinds, mappings=mappings)


def import_command(
    files: Sequence[ImportFile],
    user: str,
    kinds: Mapping[str, str] | None,
    mappings: Mappings,
    keep_demo: bool,
) -> ImportCommand:
    """The import of ``files`` as ``user`` (run it; a real import replaces the demo unless
    ``keep_demo``)."""
    return ImportCommand(
        files, get_engine(), user, kinds=kinds, mappings=mappings, keep_demo=keep_demo
    )


def roll_back(batch_id: int, user: str) -> RollbackResult:
    """Undo import batch ``batch_id`` exactly, recorded as rolled back by ``user``."""
    return RollbackCommand(get_engine(), batch_id, user).run()


def history() -> list[dict[str, Any]]:
    """The import batches, newest first, with their files."""
    return import_history(get_engine())


def holds_demo() -> bool:
    """True while the warehouse holds the demo data."""
    return _holds_demo(get_engine())
