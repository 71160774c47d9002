"""XLSX workbooks opened and checked here, so that the reader only ever sees checked bytes.

calamine (fastexcel) believes what a workbook declares and finds its parts its own
way: it reserves memory for as many shared strings as the file claims, builds one
dense grid from the first to the farthest cell holding a value, and looks parts up
by a case-insensitive name that Python's zip reader may resolve to another entry.
So calamine never reads the upload itself. The parts it needs are inflated here in
chunks, never past the size their directory entry states (checked against the caps
first) nor past the caps, their CRC checked; the sheet streams past a scan that
measures where its cells really are (its ``<dimension>`` is never trusted); the
shared-string count is checked against the strings present; and a new workbook
holding exactly those bytes, with the one chosen sheet, is what calamine reads.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

import numpy as np

from db.importer.columns import KINDS, normalize
from db.importer.errors import ImportRefused
from db.importer.limits import MB, ReadLimits, size_text

HEADER_SEARCH_ROWS = 20
"""Top rows of a sheet searched for the header (below report titles)."""
MAX_SHEET_ROWS = 1_048_576
MAX_SHEET_COLUMNS = 16_384
"""Excel's grid: no cell of a real workbook lies beyond XFD1048576."""

_CHUNK = 8 * MB
_XML_PART_MAX = 16 * MB
"""workbook.xml and its relationships are parsed whole; no real one comes near this."""
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
)
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"<]*)"')
_REFERENCE = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_ROW_NUMBER = re.compile(r"[A-Za-z]{0,3}([0-9]{1,7})")


@dataclass(frozen=True)
class Workbook:
    """The chosen sheet of an upload, re-packed for calamine, and what the scan found."""

    data: bytes
    """A workbook holding only the checked parts and the one sheet, named ``sheet``."""
    sheet: str
    sheets: list[str]
    """Every sheet of the upload, in workbook order."""
    first_row: int
    """Sheet row number of the first row holding a value (1 for an empty sheet)."""
    first_column: int
    """Index from 0 of the first column holding a value: where calamine's range starts."""
    formulas: dict[int, int]
    """Column index -> formula cells in it (their cached values are what is read)."""


def column_letters(index: int) -> str:
    """Excel's letters for the column of index ``index`` (0 -> A, 16383 -> XFD)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_name(row: int, column: int) -> str:
    return f"{column_letters(column)}{row}"


def _reference(text: str) -> tuple[int, int] | None:
    """(row from 1, column from 0) of an A1 reference inside Excel's grid, else None."""
    m = _REFERENCE.fullmatch(text)
    if not m:
        return None
    column = 0
    for ch in m.group(1).upper():
        column = column * 26 + ord(ch) - 64
    row = int(m.group(2))
    if not (1 <= row <= MAX_SHEET_ROWS and column <= MAX_SHEET_COLUMNS):
        return None
    return row, column - 1


def _pick_sheet(sheets: list[str], kind: str | None) -> str:
    """The sheet named after the kind (or any kind when none is given), else the first."""
    wanted = [kind] if kind else list(KINDS)
    for sheet in sheets:
        n = normalize(sheet)
        if any(
            n in (normalize(k), normalize(k).rstrip("s"), normalize(k).replace(" ", ""))
            for k in wanted
        ):
            return sheet
    return sheets[0]


class _Parts:
    """The upload's zip: parts found by name as calamine finds them (case and slashes
    ignored), inflated in chunks within the caps."""

    def __init__(self, name: str, data: bytes, limits: ReadLimits) -> None:
        self.name, self.limits = name, limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            entries = self.zip.infolist()
        except _ZIP_ERRORS:
            raise self.refused("a damaged zip/XLSX file; export it again as CSV or XLSX") from None
        self._check_directory(entries, len(data))
        self.parts: dict[str, zipfile.ZipInfo] = {}
        for entry in entries:
            key = entry.filename.replace("\\", "/").lower()
            if key in self.parts:
                raise self.refused(
                    f"a damaged XLSX workbook: it holds two parts named {entry.filename!r}"
                )
            self.parts[key] = entry
        self.inflated = 0

    def refused(self, message: str) -> ImportRefused:
        return ImportRefused(f"{self.name}: {message}")

    def _check_directory(self, entries: list[zipfile.ZipInfo], size: int) -> None:
        """Refuse zip bombs from the central directory, before inflating anything.

        Only a first line: the sizes it states are never trusted (``chunks`` stops at
        them, and at the caps, whatever the compressed data holds).
        """
        limits = self.limits
        if len(entries) > limits.max_zip_entries:
            raise self.refused(
                f"the workbook holds {len(entries):,} parts; the limit is {limits.max_zip_entries:,}"
            )
        total = sum(e.file_size for e in entries)
        if total > limits.max_unzipped_bytes:
            raise self.refused(
                f"the workbook unpacks to {size_text(total)}; the limit is "
                f"{size_text(limits.max_unzipped_bytes)} (a zip bomb, or a sheet far too large)"
            )
        for e in entries:
            ratio = e.file_size / max(e.compress_size, 1)
            if e.file_size > MB and ratio > limits.max_ratio:
                raise self.refused(
                    f"part {e.filename} is compressed {ratio:,.0f} to 1; "
                    f"the limit is {limits.max_ratio:,.0f} to 1 (a zip bomb)"
                )
        if total > limits.max_ratio * max(size, 1):
            raise self.refused(f"the workbook is compressed {total / size:,.0f} to 1 (a zip bomb)")

    def get(self, path: str) -> zipfile.ZipInfo | None:
        """The part at ``path``, found as calamine would (any case, / or \\)."""
        return self.parts.get(path.replace("\\", "/").lower())

    def chunks(self, part: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's bytes in chunks, inflated here and counted against the caps.

        Python's zip reader never yields more than the directory's size for a part
        (checked against the caps above) and checks the CRC at the end; the count
        below stops at the total cap as well, whatever the data holds.
        """
        if part.flag_bits & 0x1:
            raise self.refused("the workbook is password-protected; save it without a password")
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.refused(
                f"a damaged XLSX workbook: part {part.filename} uses compression method "
                f"{part.compress_type}, which Excel never writes"
            )
        try:
            with self.zip.open(part) as fh:
                while chunk := fh.read(_CHUNK):
                    self.inflated += len(chunk)
                    if self.inflated > self.limits.max_unzipped_bytes:
                        raise self.refused(
                            f"the workbook unpacks to more than {size_text(self.limits.max_unzipped_bytes)} "
                            "(a zip bomb)"
                        )
                    if b"\x00" in chunk:
                        raise self.refused(
                            f"a damaged XLSX workbook: part {part.filename} holds NUL bytes, "
                            "so it is not the XML it should be"
                        )
                    yield chunk
        except _ZIP_ERRORS as exc:
            raise self.refused(
                f"a damaged XLSX workbook: part {part.filename} cannot be unpacked ({exc}); "
                "export it again as CSV or XLSX"
            ) from None

    def xml(self, part: zipfile.ZipInfo) -> Element:
        """A small part (workbook, relationships) parsed whole, entities and DTDs refused."""
        from defusedxml import ElementTree

        if part.file_size > _XML_PART_MAX:
            raise self.refused(
                f"a damaged XLSX workbook: part {part.filename} is {size_text(part.file_size)}; "
                f"such a part is never over {size_text(_XML_PART_MAX)}"
            )
        data = b"".join(self.chunks(part))
        try:
            return ElementTree.fromstring(data)
        except (ElementTree.ParseError, ValueError) as exc:
            raise self.refused(f"a damaged XLSX workbook ({part.filename}: {exc})") from None


def _local(tag: str) -> str:
    """An element or attribute name without its namespace (``{ns}sheet`` -> ``sheet``)."""
    return tag.rsplit("}", 1)[-1]


def _resolve(target: str) -> str | None:
    """The part path a workbook relationship target names, or None when it leaves the archive."""
    path = target.replace("\\", "/")
    path = path.lstrip("/") if path.startswith("/") else "xl/" + path
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(segment)
    return "/".join(parts)


def _sheets(book: _Parts) -> tuple[list[tuple[str, str]], bool]:
    """(sheet name, relationship target) of every sheet in workbook order, and date1904."""
    workbook = book.get("xl/workbook.xml")
    if workbook is None:
        raise book.refused(
            "this is a zip archive but not an XLSX workbook; export it as CSV or XLSX"
        )
    rels = book.get("xl/_rels/workbook.xml.rels")
    if rels is None:
        raise book.refused("a damaged XLSX workbook (it has no xl/_rels/workbook.xml.rels)")
    wb = book.xml(workbook)
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in book.xml(rels).iter()
        if _local(r.tag) == "Relationship"
    }
    date1904 = False
    sheets = []
    for e in wb.iter():
        name = _local(e.tag)
        if name == "workbookPr":
            date1904 = e.get("date1904", "") in ("1", "true")
        elif name == "sheet":
            rel = next((v for k, v in e.attrib.items() if _local(k) == "id" and "}" in k), None)
            sheets.append((e.get("name", ""), targets.get(rel, "")))
    return sheets, date1904


@dataclass
class _Extent:
    """Where the cells holding a value are, and how many cells there are."""

    cells: int = 0
    top: int | None = None
    bottom: int = 0
    left: int | None = None
    right: int = -1
    formulas: Counter = field(default_factory=Counter)

    def add(self, rows: np.ndarray, columns: np.ndarray) -> None:
        """Cells holding a value at ``rows`` (from 1) and ``columns`` (from 0)."""
        if rows.size:
            self.add_cell(int(rows.min()), int(columns.min()))
            self.add_cell(int(rows.max()), int(columns.max()))

    def add_cell(self, row: int, column: int) -> None:
        self.top = row if self.top is None else min(self.top, row)
        self.left = column if self.left is None else min(self.left, column)
        self.bottom, self.right = max(self.bottom, row), max(self.right, column)

    def check(self, book: _Parts, sheet: str) -> None:
        """Refuse a sheet beyond the caps: calamine would allocate its whole extent."""
        limits = book.limits
        if self.cells > limits.max_cells:
            raise book.refused(
                f"sheet {sheet!r} holds more than {limits.max_cells:,} cells, the limit"
            )
        if self.top is None:
            return
        rows = self.bottom - self.top + 1
        cells = rows * (self.right - self.left + 1)
        if rows > limits.max_rows + HEADER_SEARCH_ROWS:
            raise book.refused(
                f"sheet {sheet!r} spans {rows:,} rows; the limit is {limits.max_rows:,} rows per file"
            )
        if cells > limits.max_cells:
            span = f"{_cell_name(self.top, self.left)}:{_cell_name(self.bottom, self.right)}"
            raise book.refused(
                f"the cells of sheet {sheet!r} span {span} ({cells:,} cells); "
                f"the limit is {limits.max_cells:,} cells"
            )
        if self.right - self.left + 1 > limits.max_columns:
            span = f"{column_letters(self.left)} to {column_letters(self.right)}"
            raise book.refused(
                f"the cells of sheet {sheet!r} span columns {span} "
                f"({self.right - self.left + 1:,} columns); the limit is {limits.max_columns:,}"
            )


def _check_dimension(book: _Parts, ref: str) -> None:
    """Refuse a declared ``<dimension>`` beyond the caps (never used as a bound: see _Extent)."""
    corners = [_reference(part) for part in ref.split(":")]
    if len(corners) != 2 or None in corners:
        return
    (top, left), (bottom, right) = corners
    rows, cells = bottom - top + 1, (bottom - top + 1) * (right - left + 1)
    limits = book.limits
    if rows > limits.max_rows + HEADER_SEARCH_ROWS:
        raise book.refused(
            f"the sheet spans {rows:,} rows; the limit is {limits.max_rows:,} rows per file"
        )
    if cells > limits.max_cells:
        raise book.refused(
            f"the sheet spans {ref} ({cells:,} cells); the limit is {limits.max_cells:,} cells"
        )


_NAME_END = np.zeros(256, dtype=bool)
_NAME_END[list(b" \t\r\n/>")] = True
"""Bytes that end an element name (quick-xml's whitespace, '/' and '>')."""
_PAD = bytes(64)


def _references(a: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows from 1, columns from 0, valid) of the ``B7"`` references starting at ``start``."""
    window = a[start[:, None] + np.arange(12)].astype(np.int32)
    upper = (window >= 65) & (window <= 90)
    letters = np.argmin(upper, axis=1)
    column = np.zeros(start.size, dtype=np.int32)
    for k in range(3):
        column = np.where(k < letters, column * 26 + window[:, k] - 64, column)
    digits_at = np.take_along_axis(window, letters[:, None] + np.arange(8), axis=1)
    digit = (digits_at >= 48) & (digits_at <= 57)
    digits = np.argmin(digit, axis=1)
    quote = np.take_along_axis(digits_at, digits[:, None], axis=1)[:, 0]
    row = np.zeros(start.size, dtype=np.int32)
    for k in range(7):
        row = np.where(k < digits, row * 10 + digits_at[:, k] - 48, row)
    valid = (
        (letters >= 1)
        & (letters <= 3)
        & (digits >= 1)
        & (digits <= 7)
        & (quote == ord('"'))
        & (row >= 1)
        & (row <= MAX_SHEET_ROWS)
        & (column >= 1)
        & (column <= MAX_SHEET_COLUMNS)
    )
    return row, column - 1, valid


class _SheetScan:
    """Where a sheet's cells are, measured from its XML as it streams past.

    The fast path reads the form every common writer uses, ``<c r="B7" ...>`` with its
    ``<v>``, ``<is>`` or ``<f>`` children, with numpy over each chunk: a value child
    belongs to the last cell tag before it. Anything else -- a cell without its
    reference, a namespace prefix, a comment, CDATA or a DOCTYPE that could hide or
    fake a tag -- sets ``simple`` to False, and the exact pass (``_exact_extent``) reads
    the sheet again the way calamine places cells.
    """

    def __init__(self, book: _Parts, sheet: str) -> None:
        self.book, self.sheet = book, sheet
        self.simple = True
        self.extent = _Extent()
        self._tail = b""
        self._first = True
        self._owner = (-1, -1)
        """(row, column) of the last cell tag of the chunks before."""

    def feed(self, chunk: bytes) -> None:
        if not self.simple:
            return
        buf = self._tail + chunk
        # Keep a tag that starts near the end for the next chunk; every tag read here
        # needs at most 40 bytes after its '<', which the buffer then holds.
        k = buf.rfind(b"<", max(len(buf) - len(_PAD), 0))
        cut = k if k >= 0 else len(buf)
        self._scan(buf, cut)
        self._tail = buf[cut:]

    def close(self) -> None:
        if self.simple:
            self._scan(self._tail, len(self._tail))
            self._tail = b""

    def _scan(self, buf: bytes, cut: int) -> None:
        a = np.frombuffer(buf + _PAD, dtype=np.uint8)
        head = a[:cut]
        lt = np.flatnonzero(head == 60)
        n1, n2, n3 = a[lt + 1], a[lt + 2], a[lt + 3]
        special = (n1 == ord("!")) | (n1 == ord("?"))
        if self._first and lt.size and n1[0] == ord("?") and buf[: lt[0]] in (b"", b"\xef\xbb\xbf"):
            special[0] = False  # the XML declaration
        self._first = False
        colon = np.flatnonzero(head == 58)
        c1, c2, c3 = a[colon + 1], a[colon + 2], a[colon + 3]
        prefixed = (np.isin(c1, (ord("c"), ord("v"), ord("f"))) & _NAME_END[c2]) | (
            (c1 == ord("i")) & (c2 == ord("s")) & _NAME_END[c3]
        )
        cells = lt[(n1 == ord("c")) & _NAME_END[n2]]
        opens_with_reference = (
            (a[cells + 2] == ord(" "))
            & (a[cells + 3] == ord("r"))
            & (a[cells + 4] == ord("="))
            & (a[cells + 5] == ord('"'))
        )
        if b"<dimension" in buf:
            for m in _DIMENSION.finditer(buf):
                if m.start() < cut:
                    _check_dimension(self.book, m.group(1).decode("ascii", "replace"))
        if special.any() or prefixed.any() or not opens_with_reference.all():
            self.simple = False
            return
        rows, columns, valid = _references(a, cells + 6)
        if not valid.all():
            self.simple = False
            return
        self.extent.cells += cells.size
        owner_rows = np.concatenate(([self._owner[0]], rows))
        owner_columns = np.concatenate(([self._owner[1]], columns))
        values = lt[
            ((n1 == ord("v")) & _NAME_END[n2])
            | ((n1 == ord("i")) & (n2 == ord("s")) & _NAME_END[n3])
        ]
        owners = np.searchsorted(cells, values)
        owners = owners[owner_rows[owners] >= 1]
        self.extent.add(owner_rows[owners], owner_columns[owners])
        # Positions are in order, so the owners are sorted: one formula cell counts once.
        formulas = np.searchsorted(cells, lt[(n1 == ord("f")) & _NAME_END[n2]])
        formulas = formulas[np.diff(formulas, prepend=-1) != 0]
        formulas = formulas[owner_rows[formulas] >= 1]
        found, counts = np.unique(owner_columns[formulas], return_counts=True)
        self.extent.formulas.update(dict(zip(found.tolist(), counts.tolist(), strict=True)))
        if cells.size:
            self._owner = (int(rows[-1]), int(columns[-1]))
        self.extent.check(self.book, self.sheet)


def _exact_extent(book: _Parts, part: zipfile.ZipInfo, sheet: str) -> _Extent:
    """The sheet's extent read with expat, cells placed as calamine places them.

    A cell without ``r`` is at the current row (its ``<row r>``, else one after the
    previous row) and one column after the previous cell; only cells with a value
    child count, as calamine keeps only those.
    """
    extent = _Extent()
    row, column = 0, 0
    cell: tuple[int, int] | None = None
    value = formula = False

    def damaged(what: str) -> ImportRefused:
        return book.refused(f"a damaged XLSX workbook: sheet {sheet!r} {what}")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal row, column, cell, value, formula
        name = tag.partition(":")[2] if ":" in tag else tag
        if name == "row" and "r" in attrs:
            number = _ROW_NUMBER.fullmatch(attrs["r"])
            if not number or not 1 <= int(number.group(1)) <= MAX_SHEET_ROWS:
                raise damaged(f"has a row numbered {attrs['r'][:20]!r}")
            row = int(number.group(1)) - 1
        elif name == "c":
            extent.cells += 1
            if "r" in attrs:
                cell = _reference(attrs["r"])
                if cell is None:
                    raise damaged(f"has a cell at {attrs['r'][:20]!r}, not a cell of Excel's grid")
            else:
                cell = (row + 1, column)
            value = formula = False
        elif cell is not None and name in ("v", "is"):
            value = True
        elif cell is not None and name == "f":
            formula = True
        elif name == "dimension" and "ref" in attrs:
            _check_dimension(book, attrs["ref"])

    def end(tag: str) -> None:
        nonlocal row, column, cell
        name = tag.partition(":")[2] if ":" in tag else tag
        if name == "c" and cell is not None:
            if value:
                extent.add_cell(*cell)
            if formula:
                extent.formulas[cell[1]] += 1
            column = cell[1] + 1
            cell = None
        elif name == "row":
            row, column = row + 1, 0

    def no_dtd(*_args: object) -> None:
        raise damaged("declares a DTD, which a sheet never has")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_dtd
    try:
        for chunk in book.chunks(part):
            parser.Parse(chunk, False)
            extent.check(book, sheet)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise damaged(f"is not well-formed XML ({exc})") from None
    extent.check(book, sheet)
    return extent


class _StringsScan:
    """The shared strings' declared count against the ``<si>`` elements present.

    calamine reserves memory for ``uniqueCount`` strings before reading one: a count
    above the strings present (or the cell cap) is a lie, refused.
    """

    def __init__(self, book: _Parts) -> None:
        self.book = book
        self.present = 0
        self.declared: str | None = None
        self._found = False
        self._tail = b""
        self._parser = expat.ParserCreate()
        self._parser.StartElementHandler = self._start

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        if not self._found and (tag.partition(":")[2] if ":" in tag else tag) == "sst":
            self._found = True
            self.declared = attrs.get("uniqueCount")

    def feed(self, chunk: bytes) -> None:
        if not self._found:
            try:
                self._parser.Parse(chunk, False)
            except expat.ExpatError as exc:
                raise self.book.refused(
                    f"a damaged XLSX workbook: its shared strings are not well-formed XML ({exc})"
                ) from None
        buf = self._tail + chunk
        cut = max(len(buf) - 4, 0)
        self._count(buf, cut)
        self._tail = buf[cut:]

    def _count(self, buf: bytes, cut: int) -> None:
        a = np.frombuffer(buf + _PAD, dtype=np.uint8)
        marks = np.flatnonzero((a[:cut] == 60) | (a[:cut] == 58))
        self.present += int(
            (
                (a[marks + 1] == ord("s")) & (a[marks + 2] == ord("i")) & _NAME_END[a[marks + 3]]
            ).sum()
        )

    def check(self) -> None:
        """Refuse a declared count above the strings present or the cell cap."""
        self._count(self._tail, len(self._tail))
        self._tail = b""
        if self.declared is None:
            return
        limit = min(self.present, self.book.limits.max_cells)
        if not self.declared.isascii() or not self.declared.isdigit() or int(self.declared) > limit:
            raise self.book.refused(
                f"a damaged XLSX workbook: its shared strings declare {self.declared[:20]!r} "
                f"strings but hold {self.present:,}"
            )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = (
    f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
    f'Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
    f'Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _workbook_xml(sheet: str, date1904: bool) -> str:
    return (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_OFFICE}">'
        + ('<workbookPr date1904="1"/>' if date1904 else "")
        + f'<sheets><sheet name={quoteattr(sheet)} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _copy(
    book: _Parts,
    part: zipfile.ZipInfo,
    new: zipfile.ZipFile,
    target: str,
    scan: Callable[[bytes], None],
) -> None:
    """Inflate ``part`` through ``scan`` into ``target`` of the new workbook."""
    with new.open(target, "w", force_zip64=part.file_size > (1 << 30)) as out:
        for chunk in book.chunks(part):
            scan(chunk)
            out.write(chunk)


def open_workbook(name: str, data: bytes, limits: ReadLimits, kind: str | None) -> Workbook:
    """The sheet of upload ``name`` to read, checked and re-packed; :class:`ImportRefused`
    saying why not (zip bomb, damaged parts, cells beyond the caps, ...)."""
    book = _Parts(name, data, limits)
    sheets, date1904 = _sheets(book)
    if not sheets:
        raise book.refused("the workbook has no sheets")
    names = [s for s, _ in sheets]
    sheet = _pick_sheet(names, kind)
    target = next(t for s, t in sheets if s == sheet)
    path = _resolve(target)
    part = book.get(path) if path else None
    if part is None:
        raise book.refused(
            f"a damaged XLSX workbook: sheet {sheet!r} points to {target[:200]!r}, "
            "which the workbook does not hold"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new:
        new.writestr("[Content_Types].xml", _CONTENT_TYPES)
        new.writestr("_rels/.rels", _PACKAGE_RELS)
        new.writestr("xl/workbook.xml", _workbook_xml(sheet, date1904))
        new.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        styles = book.get("xl/styles.xml")
        if styles is not None:
            _copy(book, styles, new, "xl/styles.xml", lambda _chunk: None)
        strings = book.get("xl/sharedStrings.xml")
        if strings is not None:
            counted = _StringsScan(book)
            _copy(book, strings, new, "xl/sharedStrings.xml", counted.feed)
            counted.check()
        scan = _SheetScan(book, sheet)
        _copy(book, part, new, "xl/worksheets/sheet1.xml", scan.feed)
        scan.close()
    extent = scan.extent if scan.simple else _exact_extent(book, part, sheet)
    return Workbook(
        data=out.getvalue(),
        sheet=sheet,
        sheets=names,
        first_row=extent.top or 1,
        first_column=extent.left or 0,
        formulas=dict(extent.formulas),
    )
