"""The error of a write the user asked for and cannot have: every reason, at once.

A leaf module: the commands (``app.commands``) and ``app.users`` both raise it.
"""

from __future__ import annotations

from collections.abc import Sequence


class CommandError(ValueError):
    """A write that cannot be done, with every reason, each written for the person asking."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))
