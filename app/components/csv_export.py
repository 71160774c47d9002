"""CSV downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from app.views.render import neutralised


def safe_cell(value: object) -> str:
    """The cell as text, prefixed with a quote when a spreadsheet would run it as a formula
    (OWASP CSV injection); plain numbers such as -250.00 stay as they are."""
    return neutralised("" if value is None else str(value))


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document of ``rows`` under ``header``, every cell formula-injection safe."""
    buf = io.StringIO()
    # RFC 4180 line ends: the writer then quotes any cell holding a CR or an LF.
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()
