"""What can go wrong with an import, in words the person uploading can act on."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell, row or file.

    ``row`` is the row as a spreadsheet shows it (the header is row 1, so the
    first data row is row 2; for XLSX the sheet's own row number); ``None`` when
    the problem is about the whole file or a whole column. ``column`` is the
    column as named in the file.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def to_dict(self) -> dict[str, object]:
        """The problem as plain JSON-ready values."""
        return asdict(self)

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        got = "" if self.value is None else f": {self.value!r}"
        return f"{', '.join(where)}{got} -- expected {self.expected}"


class ImportRefused(Exception):
    """An import or rollback refused for a reason the user can act on.

    Raised for files that cannot be read at all (too big, not CSV or XLSX by
    their bytes, zip bombs, too many rows) and for refused rollbacks. ``str()``
    is the message for the user; ``row`` the spreadsheet row it concerns, if any.
    """

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


class ImportFailed(ImportRefused):
    """The load itself failed (connection lost, server stopped); nothing was written."""

