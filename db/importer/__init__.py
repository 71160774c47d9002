"""RevOps import: read, map, validate and load export files; roll back; audit.

Public API (the upload page, ``icp import``, ``icp demo`` and ``icp report`` use these):

- ``ImportFile(name, data)`` -- one file's name and bytes; ``ImportFile.from_path(path)``.
- ``plan_import(files, engine, *, kinds=None, mappings=None, settings=None) -> ImportPlan``
  reads, detects each file's kind from its header, maps columns, validates against
  the file set plus the warehouse; writes nothing. ``kinds`` ({file name: kind})
  and ``mappings`` ({file name: {source header: canonical column}}) override
  detection. ``ImportPlan`` has ``files`` (``FilePlan``: kind, file_format, sheet, headers,
  mapping, ignored, notices, rows, problem_count, sha256), ``problems``
  (``Problem``: file, row as a spreadsheet shows it, column as named in the file,
  value, expected; at most 1,000), ``problem_count`` (all), ``ok``, ``report()``,
  ``to_dict()``, ``frames()`` (canonical polars frames per kind).
- ``read_export_folder(path) -> dict[kind, pl.DataFrame]`` -- canonical frames of
  the export files in a folder, the warehouse not consulted; raises
  ``ImportRejected`` with the report when a file is bad.
- ``ImportCommand(files, engine, user, kinds=None, mappings=None, dry_run=False,
  demo=False, keep_demo=False)``: ``validate()`` returns the plan or raises
  ``ImportRejected``; ``run()`` validates then loads in one transaction (serialized
  by an advisory lock, accounts first, COPY to staging, upsert). ``ImportResult``:
  ``batch_id``, ``files`` (``FileResult``: inserted / updated / unchanged),
  ``inserted``, ``updated``, ``unchanged``, ``changed``, ``message``,
  ``data_version``, ``demo_rows_removed``, ``to_dict()``. A real import replaces the
  demo data in the same transaction (every demo row deleted and recorded, so a
  rollback restores it) unless ``keep_demo``; ``demo`` marks the batch as demo
  data. ``run_import(files, engine, **options)`` is ``ImportCommand(...).run()``.
  Re-importing the same export changes nothing; the attempt is still recorded as a
  committed batch whose message starts "no changes".
  Optional: ``settings`` (size-band bounds, as for plan_import), ``limits``
  (``ReadLimits``: size, row, column and zip caps; default from ICP_UPLOAD_MAX_MB and
  ICP_MAX_ROWS) and ``after_staging(backend_pid)``, a hook called once the rows
  are staged and before they are applied (fault-injection tests use it).
- ``RollbackCommand(engine, batch_id, user)`` (``validate()``, ``run()``) and
  ``rollback_batch(engine, batch_id, *, user) -> RollbackResult`` restore every row
  the batch inserted (deleted), updated (restored) or deleted (reinstated), in one
  transaction.
- ``holds_demo(engine) -> bool`` -- the warehouse holds demo rows (the ribbon).
- ``import_history(engine, limit=100) -> list[dict]`` -- batches newest first
  with who, when, status, kinds, counts, message and their files.
- The data version the metrics cache keys on (``db.queries.read_data_version``) is
  bumped by every import that changed rows and by every rollback, in their
  transaction (``db.data_version.bump_data_version``).

Errors: ``ImportRefused`` (a user-facing refusal: file too big, not CSV/XLSX,
zip bomb, too many rows, a rollback blocked by later batches); its subclasses
``ImportRejected`` (``.plan`` holds every problem; ``str()`` is the report; a
``failed`` batch is recorded) and ``ImportFailed`` (the load itself failed, e.g.
the connection was lost; nothing was written).
"""

import importlib
from typing import Any

# Name -> submodule, loaded on first use (PEP 562): reading a folder for ``icp report``
# needs plan/read/validate, not the loader's SQLAlchemy and psycopg.
_WHERE = {
    "ImportCommand": "commands",
    "RollbackCommand": "commands",
    "rollback_batch": "commands",
    "run_import": "commands",
    "holds_demo": "demo_rows",
    "ImportFailed": "errors",
    "ImportRefused": "errors",
    "ImportRejected": "plan",
    "Problem": "errors",
    "import_history": "history",
    "FileResult": "load",
    "ImportResult": "load",
    "FilePlan": "plan",
    "ImportPlan": "plan",
    "plan_import": "plan",
    "read_export_folder": "plan",
    "ImportFile": "read",
    "ReadLimits": "limits",
    "RollbackResult": "rollback",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'db.importer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"db.importer.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "FilePlan",
    "ImportCommand",
    "RollbackCommand",
    "FileResult",
    "ImportFailed",
    "ImportFile",
    "ImportPlan",
    "ImportRefused",
    "ImportRejected",
    "ImportResult",
    "Problem",
    "ReadLimits",
    "RollbackResult",
    "holds_demo",
    "import_history",
    "plan_import",
    "read_export_folder",
    "rollback_batch",
    "run_import",
]
