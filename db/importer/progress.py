"""How the importer says how far it has got: ``progress(stage, done, total, detail)``.

Stages, in order: ``read`` (files read and checked, ``done`` of ``total`` files),
``validate`` (references across files and the warehouse), ``load`` (kinds written,
``done`` of ``total``) and ``commit``. A job (``db.importer.jobs``) stores them for the
upload page's progress bar; ``icp import`` prints them on a terminal.
"""

from __future__ import annotations

from typing import Protocol

STAGES = ("read", "validate", "load", "commit")


class Progress(Protocol):
    """A listener to the importer's progress."""

    def __call__(self, stage: str, done: int, total: int, detail: str) -> None: ...


def no_progress(stage: str, done: int, total: int, detail: str) -> None:
    """The listener that hears nothing."""
