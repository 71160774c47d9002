"""Turn an uploaded file's bytes into a table of strings, refusing what is unsafe to parse.

Every check that can be made before parsing is made first: the size cap, what
the bytes are (CSV text or an XLSX workbook, whatever the file is called), the
header line's length and width; XLSX workbooks are inflated and measured by
workbook.py before calamine reads a checked copy. Cells are read as text;
values.py parses them. Whatever a file holds, reading it ends in a
:class:`RawTable` or an :class:`ImportRefused` naming the file (and the row).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from db.importer.columns import KINDS, header_score
from db.importer.errors import ImportRefused
from db.importer.limits import ReadLimits, size_text
from db.importer.workbook import HEADER_SEARCH_ROWS, open_workbook

DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class ImportFile:
    """One uploaded file: its name as the user knows it and its bytes."""

    name: str
    data: bytes

    @classmethod
    def from_path(cls, path: str | Path) -> ImportFile:
        """Read a file from disk, named by its file name."""
        p = Path(path)
        return cls(p.name, p.read_bytes())


@dataclass
class RawTable:
    """A file's cells as text, with what is needed to report rows as the user sees them."""

    name: str
    frame: pl.DataFrame
    """One String column per header, in file order."""
    headers: list[str]
    first_row: int
    """Spreadsheet row number of the first data row (2 for a CSV)."""
    file_format: str
    decimal_comma: bool = False
    sheet: str | None = None
    notices: list[str] = field(default_factory=list)
    formula_columns: dict[str, int] = field(default_factory=dict)
    """XLSX only: header -> number of formula cells (their cached values were read)."""


def read_table(
    f: ImportFile, limits: ReadLimits, kind: str | None = None, mapped: Collection[str] = ()
) -> RawTable:
    """Read ``f`` into a :class:`RawTable`, or raise :class:`ImportRefused` saying why not.

    ``mapped`` are headers an explicit mapping names: they count as known columns
    when recognizing the header row.
    """
    if len(f.data) > limits.max_bytes:
        raise ImportRefused(
            f"{f.name}: the file is {size_text(len(f.data))}; the limit is {size_text(limits.max_bytes)}"
        )
    # A prefix first: stripping a whole 50 MB upload just to find it is not empty copies it.
    if not f.data[:65536].strip() and not f.data.strip():
        raise ImportRefused(f"{f.name}: the file is empty")
    what = _not_tabular(f.data)
    if what:
        raise ImportRefused(
            f"{f.name}: this is {what}, not a CSV or XLSX file; export it as CSV or XLSX"
        )
    if f.data.startswith(b"PK\x03\x04"):
        return _read_xlsx(f, limits, kind, mapped)
    return _read_csv(f, limits, mapped)


def _not_tabular(data: bytes) -> str | None:
    """What the bytes are when they are neither CSV text nor an XLSX workbook."""
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        return None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel 97-2003 workbook (.xls) or another OLE document"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"\x1f\x8b", b"BZh", b"7z\xbc\xaf", b"Rar!")):
        return "a compressed archive"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "an image"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<table", b"<body")):
        return "an HTML page (some CRMs save HTML under a .csv or .xls name)"
    if text.startswith(b"<?xml"):
        return "an XML document (perhaps an 'XML Spreadsheet 2003')"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    # Text files hold no NUL and almost no other control bytes; binary files hold many.
    # A few stray ones (a form feed, an in-cell vertical tab) do not make a short file binary:
    # the cells holding them are checked like any other.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or controls > max(len(head) // 100, 4):
        return "binary data"
    return None


def _decode(f: ImportFile) -> tuple[str, str | None]:
    """The file's text and a notice when it was not plain UTF-8."""
    data = f.data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "read as UTF-16"
        except UnicodeDecodeError as exc:
            raise ImportRefused(
                f"{f.name}: the file starts as UTF-16 text but is not valid UTF-16 (at byte "
                f"{exc.start:,}); export it again as CSV UTF-8"
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        # Windows exports called "Latin-1" are nearly always Windows-1252 (it has the euro sign).
        return data.decode(
            "cp1252"
        ), f"not valid UTF-8 (first at byte {bad:,}); read as Latin-1 (Windows-1252)"
    except UnicodeDecodeError:
        return data.decode(
            "latin-1"
        ), f"not valid UTF-8 (first at byte {bad:,}); read as Latin-1 (ISO-8859-1)"


def _header_fields(first_line: str, delimiter: str) -> list[str]:
    """The fields of a header line; split plainly when the csv module cannot read it
    (a field over its 131,072-character limit, a stray line break)."""
    try:
        rows = list(csv.reader(io.StringIO(first_line), delimiter=delimiter))
    except csv.Error:
        return first_line.split(delimiter)
    return rows[0] if rows else []


def _score(fields: list[str], mapped: Collection[str]) -> int:
    return header_score(fields) + sum(1 for h in fields if h in mapped)


def choose_delimiter(
    first_line: str, mapped: Collection[str] = (), max_columns: int = 2_000
) -> str | None:
    """The delimiter whose split of the header line names the most known columns.

    Only the first ``max_columns + 1`` fields of each split are scored: a wider header
    is refused anyway, and scoring 100,000 fields four times would take seconds.
    """
    best: tuple[int, int, str] | None = None
    for d in DELIMITERS:
        fields = _header_fields(first_line, d)
        candidate = (_score(fields[: max_columns + 1], mapped), len(fields), d)
        if candidate[0] > 0 and (best is None or candidate[:2] > best[:2]):
            best = candidate
    return best[2] if best else None


_SEP_LINE = re.compile(r'"?sep=(.?)', re.IGNORECASE)


def _first_line(text: str) -> tuple[str, int]:
    """The text's first line (without its line break) and where the next line starts."""
    end = text.find("\n")
    if end < 0:
        return text.rstrip("\r"), len(text)
    return text[:end].rstrip("\r"), end + 1


def _excel_delimiter(name: str, line: str) -> str | None:
    """The delimiter named by Excel's ``sep=;`` first line, None when the line is not one.

    A spreadsheet that re-saves such a file quotes and pads it (``"sep=;";;;``); either
    way it names one character, which must be one of the delimiters read here.
    """
    m = _SEP_LINE.match(line)
    if not m:
        return None
    char = m.group(1)
    if char not in DELIMITERS:
        named = f"names {char!r}" if char and char != '"' else "names no delimiter"
        raise ImportRefused(
            f"{name}: row 1 {line[:40]!r} is Excel's delimiter line, but it {named}; "
            "ICP Lens reads files separated by commas, semicolons, tabs or pipes: "
            "remove that line or export the file again",
            row=1,
        )
    return char


def _read_csv(f: ImportFile, limits: ReadLimits, mapped: Collection[str]) -> RawTable:
    # Counting line ends is cheap; parsing tens of millions of tiny lines is not.
    # Twice the cap leaves room for quoted multi-line cells; the exact row count is checked after.
    # A file has no more line ends than bytes, and most have no carriage return to count.
    max_lines = 2 * limits.max_rows + 1
    if len(f.data) > max_lines:
        lines = f.data.count(b"\n")
        if b"\r" in f.data:
            lines = max(lines, f.data.count(b"\r"))
        if lines > max_lines:
            raise ImportRefused(
                f"{f.name}: {lines:,} lines; the limit is {limits.max_rows:,} rows per file"
            )
    text, notice = _decode(f)
    notices = [notice] if notice else []
    if "\r" in text and "\n" not in text:
        # Classic Mac OS ends lines with a carriage return alone; polars reads only \n.
        text = text.replace("\r", "\n")
        notices.append("lines end in a carriage return alone (old Mac format): read as line breaks")
    first_line, after = _first_line(text)
    # Excel's "sep=;" first line names the delimiter; Excel hides it, so rows keep their numbers.
    hint = _excel_delimiter(f.name, first_line)
    if hint:
        text = text[after:]
        first_line, after = _first_line(text)
    if len(first_line) > limits.max_header_chars:
        raise ImportRefused(
            f"{f.name}: row 1 is {len(first_line):,} characters long without a line break; "
            f"a header is at most {limits.max_header_chars:,} characters (is this a CSV export?)",
            row=1,
        )
    delimiter = hint or choose_delimiter(first_line, mapped, limits.max_columns)
    if delimiter is None:
        raise ImportRefused(
            f"{f.name}: row 1 is not a header naming known columns (found {first_line[:200]!r}); "
            "expected the columns of docs/import.md, e.g. account_id, vertical",
            row=1,
        )
    headers = _header_fields(first_line, delimiter)
    if len(headers) > limits.max_columns:
        raise ImportRefused(
            f"{f.name}: row 1 (the header) has {len(headers):,} columns; "
            f"the limit is {limits.max_columns:,}",
            row=1,
        )
    if hint and _score(headers, mapped) == 0:
        raise ImportRefused(
            f"{f.name}: the first line names the {_DELIMITER_NAMES[hint]} as the delimiter "
            f"(Excel's sep= line), but the header below it names no known column when split "
            f"there (found {first_line[:200]!r}); remove the sep= line or correct it",
            row=1,
        )
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            separator=delimiter,
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        message, row = _csv_structure_error(f.name, text, delimiter)
        reason = str(exc).strip().split("\n", 1)[0]
        raise ImportRefused(
            message or f"{f.name}: cannot be read as CSV ({reason})", row=row
        ) from None
    if frame.height > limits.max_rows:
        raise ImportRefused(
            f"{f.name}: {frame.height:,} rows; the limit is {limits.max_rows:,} rows per file"
        )
    if len(headers) != frame.width:
        headers = frame.columns
    headers = _named(headers)
    frame.columns = [f"c{i}" for i in range(frame.width)]
    if delimiter != ",":
        notices.append(f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated")
    return RawTable(
        name=f.name,
        frame=frame,
        headers=headers,
        first_row=2,
        file_format="csv",
        decimal_comma=delimiter == ";",
        notices=notices,
    )


def _named(headers: list[str]) -> list[str]:
    """Headers with the empty ones named by position, so reports can point at them."""
    return [h.strip() or f"(unnamed column {i + 1})" for i, h in enumerate(headers)]


def _csv_structure_error(name: str, text: str, delimiter: str) -> tuple[str | None, int | None]:
    """Why the CSV cannot be read, in words, and the row it starts on.

    Strict parsing finds a quoted cell never closed (it would swallow every later
    row) and a stray quote; then the first row whose field count differs from the
    header's.
    """
    # The csv module refuses fields over 131,072 characters; a long cell is not what
    # made the file unreadable, so lift that limit while looking for what did.
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    number = 0
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
        width = None
        for number, row in enumerate(reader, start=1):
            if width is None:
                width = len(row)
            elif row and len(row) != width:
                return f"{name}: row {number} has {len(row)} fields; the header has {width}", number
    except csv.Error as exc:
        row = number + 1
        if "unexpected end of data" in str(exc):
            return (
                f"{name}: an unterminated quote: the quoted cell starting on row {row} is never "
                "closed, so every row after it would be read into that cell; close the quote "
                '(") or remove it',
                row,
            )
        if "expected after" in str(exc):
            return (
                f"{name}: row {row} has text after a quoted cell's closing quote; a quote "
                'inside a quoted cell is written twice ("")',
                row,
            )
        return f"{name}: row {row} is not valid CSV ({exc})", row
    finally:
        csv.field_size_limit(limit)
    return None, None


# --- XLSX -------------------------------------------------------------------


def _read_xlsx(
    f: ImportFile, limits: ReadLimits, kind: str | None, mapped: Collection[str]
) -> RawTable:
    book = open_workbook(f.name, f.data, limits, kind)
    sheet = book.sheet
    # XLSX readers are imported here: most exports are CSV.
    import fastexcel

    try:
        reader = fastexcel.read_excel(book.data)
        # Report-style exports put a title block above the header: take the first
        # of the top rows that names the most known columns.
        top = reader.load_sheet(sheet, header_row=None, n_rows=HEADER_SEARCH_ROWS, dtypes="string")
        scores = [
            _score([str(v) for v in row if v is not None], mapped) for row in top.to_polars().rows()
        ]
        offset = (
            max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores and max(scores) else 0
        )
        frame = reader.load_sheet(sheet, header_row=offset, dtypes="string").to_polars()
    except Exception as exc:  # fastexcel raises its own family, unrelated to Python's
        raise ImportRefused(f"{f.name}: cannot read sheet {sheet!r} ({exc})") from None
    title_rows = offset
    header_row = book.first_row + offset
    if frame.height > limits.max_rows:
        raise ImportRefused(
            f"{f.name}: {frame.height:,} rows; the limit is {limits.max_rows:,} rows per file"
        )
    headers = _named([h if not h.startswith("__UNNAMED__") else "" for h in frame.columns])
    if _score(headers, mapped) == 0:
        others = [s for s in book.sheets if s != sheet]
        hint = (
            f"; the workbook's sheets are {', '.join(repr(s) for s in book.sheets)}: name the data "
            f"sheet after its kind ({', '.join(KINDS)}) or move it first"
            if others
            else ""
        )
        raise ImportRefused(
            f"{f.name}: sheet {sheet!r} row {header_row} is not a header naming known columns "
            f"(found {', '.join(h for h in headers[:8] if not h.startswith('__UNNAMED'))!r}){hint}"
        )
    frame.columns = [f"c{i}" for i in range(frame.width)]
    notices = [f"sheet {sheet!r}"] if len(book.sheets) > 1 else []
    if title_rows:
        notices.append(f"header found on row {header_row}, below {title_rows} title row(s)")
    formula_columns = {
        headers[c - book.first_column]: n
        for c, n in sorted(book.formulas.items())
        if 0 <= c - book.first_column < len(headers)
    }
    if formula_columns:
        listed = ", ".join(f"'{h}' ({n:,})" for h, n in formula_columns.items())
        notices.append(f"formula cells read as their last computed values: {listed}")
    return RawTable(
        name=f.name,
        frame=frame,
        headers=headers,
        first_row=header_row + 1,
        file_format="xlsx",
        sheet=sheet,
        notices=notices,
        formula_columns=formula_columns,
    )
