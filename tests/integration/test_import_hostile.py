"""Hostile uploads (an adversarial review): refused fast with a problem naming the file,
read when they are only odd, and never a crash -- every attempt is a failed batch.

The small hostile files are in the bad corpus (test_import_bad_files.py); the big ones
(a 40 MB line, a 100,000-column header, a zip whose directory lies) are made here.
"""

from __future__ import annotations

import io
import re
import resource
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
import xlsxwriter
from typer.testing import CliRunner

from app.cli import app
from db.importer import (
    ImportFailed,
    ImportFile,
    ImportRejected,
    ReadLimits,
    import_history,
    plan_import,
    run_import,
)
from db.importer.limits import MB
from db.importer.plan import UNREADABLE
from db.importer.values import MAX_CENTS
from db.importer.workbook import _exact_extent, _Parts, _SheetScan, open_workbook
from db.schema import MONEY
from tests.integration.test_import_support import BAD, batch_statuses, checksums, seed

ACCOUNTS = "account_id,vertical\nA100,Software\n"


@pytest.fixture
def seeded(db: sa.Engine) -> sa.Engine:
    seed(db)
    return db


def _rejected(engine: sa.Engine, files: list[ImportFile]) -> ImportRejected:
    """Import ``files``: rejected, nothing changed, one failed batch more."""
    before, batches = checksums(engine), batch_statuses(engine)
    with pytest.raises(ImportRejected) as info:
        run_import(files, engine, user="tester")
    assert checksums(engine) == before
    assert [s for _, s in batch_statuses(engine)[len(batches) :]] == ["failed"]
    return info.value


def _only_problem(error: ImportRejected) -> tuple[int | None, str]:
    (problem,) = error.plan.problems
    return problem.row, problem.expected


# --- CSV -------------------------------------------------------------------


def test_forty_megabyte_line_is_refused_at_once(seeded: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"account_id,vertical," + b"x" * (40 * MB))
    started = time.perf_counter()
    error = _rejected(seeded, [ImportFile.from_path(path)])
    assert time.perf_counter() - started < 10
    assert _only_problem(error) == (
        1,
        "row 1 is 41,943,060 characters long without a line break; a header is at most "
        "1,048,576 characters (is this a CSV export?)",
    )


def test_hundred_thousand_column_header_is_refused_at_once(seeded: sa.Engine) -> None:
    header = ",".join(["account_id", "vertical", *(f"c{i}" for i in range(99_998))])
    data = (header + "\nA100,Software" + "," * 99_998 + "\n").encode()
    started = time.perf_counter()
    error = _rejected(seeded, [ImportFile("wide.csv", data)])
    assert time.perf_counter() - started < 10
    assert _only_problem(error) == (
        1,
        "row 1 (the header) has 100,000 columns; the limit is 2,000",
    )


@pytest.mark.parametrize(
    "first_line",
    ["sep=;", "sep=;;;;", '"sep=;";;;', "SEP=;", "sep=; "],
    ids=["plain", "padded", "quoted", "upper-case", "trailing-space"],
)
def test_excel_sep_line_is_honoured_however_a_spreadsheet_saved_it(first_line: str) -> None:
    data = f"{first_line}\r\naccount_id;vertical;employees\r\nA1;Software;12\r\n".encode()
    plan = plan_import([ImportFile("excel.csv", data)], None)
    assert plan.ok, plan.report()
    assert plan.files[0].notices == ["semicolon-separated"]
    assert plan.frames()["accounts"]["employees"].to_list() == [12]


def test_classic_mac_line_endings_are_read_as_lines() -> None:
    data = b"account_id,vertical\rA1,Software\rA2,Retail\r"
    plan = plan_import([ImportFile("mac.csv", data)], None)
    assert plan.ok, plan.report()
    assert plan.files[0].rows == 2
    assert plan.files[0].notices == [
        "lines end in a carriage return alone (old Mac format): read as line breaks"
    ]


def test_bidi_controls_in_names_and_dimensions_are_kept_as_typed() -> None:
    # Harmless outside ids: the text is shown as typed, HTML-escaped.
    data = "account_id,account_name,vertical\nA1,\u202eemca,\u2067Retail\u2069\n\x0c\n".encode()
    plan = plan_import([ImportFile("names.csv", data)], None)
    assert plan.ok, plan.report()
    row = plan.frames()["accounts"].row(0, named=True)
    assert (row["account_name"], row["vertical"]) == ("\u202eemca", "\u2067Retail\u2069")


def test_one_id_on_sixty_thousand_rows_in_two_spellings_is_listed_in_linear_memory() -> None:
    # Each row once carried the list of every row sharing its id: 60,000 x 30,000 entries.
    lines = ["account_id,vertical"] + [f"{'A' if i % 2 else 'a'}1,Software" for i in range(60_000)]
    started = time.perf_counter()
    plan = plan_import([ImportFile("cases.csv", "\n".join(lines).encode())], None)
    assert time.perf_counter() - started < 20
    # Every row repeats another exactly and differs from half of them by case.
    assert plan.problem_count == 120_000
    assert plan.problems[1].expected == (
        "a unique account_id ignoring case ('A1' is on rows 3, 5, 7, 9, 11, 13, 15, 17, 19, 21)"
    )


def test_ids_of_two_files_differing_only_by_case_are_reported_in_the_later() -> None:
    header = "subscription_id,account_id,product,start_date,end_date,mrr\n"
    files = [
        ImportFile("accounts.csv", b"account_id,vertical\nA001,Software\n"),
        ImportFile("jan.csv", (header + "S500,A001,Pro,2024-01-01,,10\n").encode()),
        ImportFile("feb.csv", (header + "s500,A001,Pro,2024-01-01,,10\n").encode()),
    ]
    plan = plan_import(files, None)
    assert [(p.file, p.row, p.value, p.expected) for p in plan.problems] == [
        ("feb.csv", 2, "s500", "a subscription_id not also in jan.csv ignoring case ('S500' there)")
    ]


def test_money_cap_is_the_warehouse_columns_precision() -> None:
    assert (MONEY.precision, MONEY.scale) == (len(str(MAX_CENTS)), 2)


# --- XLSX ------------------------------------------------------------------


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _hand_zip(parts: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, deflated bytes, CRC-32, declared size) written by hand, so that its
    directory can state whatever size it likes."""
    out = io.BytesIO()
    directory = []
    for name, data, crc, size in parts:
        offset, encoded = out.tell(), name.encode()
        head = (0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<IHHHHHIIIHH", *head) + encoded + data)
        entry = (0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0, 0, 0)
        directory.append(struct.pack("<IHHHHHHIIIHHHHHII", *entry, 0, 0, offset) + encoded)
    listing = b"".join(directory)
    start = out.tell()
    out.write(listing)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(listing), start, 0)
    )
    return out.getvalue()


def _book(rows: list[list[object]], sheet: str = "accounts") -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    wb.close()
    return buf.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {name: z.read(name) for name in z.namelist()}


def test_zip_directory_lying_about_a_part_size_inflates_no_further(seeded: sa.Engine) -> None:
    # 5 MB on disk; its directory says sharedStrings.xml is 2,000 bytes; it inflates to 2 GB.
    parts = _parts(_book([["account_id", "vertical"], ["A100", "Software"]]))
    strings = parts.pop("xl/sharedStrings.xml").replace(b"</sst>", b"")
    filler = b"<si><t>x</t></si>" * (1 << 16)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(strings) + c.flush(zlib.Z_FULL_FLUSH)
    # A fully flushed block stands alone: repeated, it inflates to the filler repeated.
    segment = c.compress(filler) + c.flush(zlib.Z_FULL_FLUSH)
    bomb = head + segment * ((2 << 30) // len(filler)) + c.flush()
    declared = (strings + filler)[:2000]
    entries = [(n, _deflated(b), zlib.crc32(b), len(b)) for n, b in parts.items()]
    entries.append(("xl/sharedStrings.xml", bomb, zlib.crc32(declared), len(declared)))
    data = _hand_zip(entries)
    assert 4 * MB < len(data) < 6 * MB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    error = _rejected(seeded, [ImportFile("bomb.xlsx", data)])
    assert time.perf_counter() - started < 10
    # Linux counts ru_maxrss in KiB; inflating the part would add 2 GB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 300 * 1024
    row, expected = _only_problem(error)
    # What calamine got was the 2,000 bytes the directory declares: a truncated part.
    assert row is None and expected.startswith("cannot read sheet 'accounts' (")


def _with_sheet(data: bytes, edit) -> bytes:
    parts = _parts(data)
    parts["xl/worksheets/sheet1.xml"] = edit(parts["xl/worksheets/sheet1.xml"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def _without_references(sheet: bytes) -> bytes:
    return re.sub(rb' r="[A-Z]+[0-9]+"', b"", sheet)


def test_sheet_without_cell_references_is_read_and_numbered_as_calamine_places_it() -> None:
    rows = [["Billing export"], [], ["account_id", "vertical", "employees"]]
    rows += [["A1", "Software", 10], ["A2", "Retail", "many"]]
    data = _with_sheet(_book(rows), _without_references)
    plan = plan_import([ImportFile("norefs.xlsx", data)], None)
    assert [(p.row, p.column, p.value) for p in plan.problems] == [(5, "employees", "many")]
    assert plan.files[0].notices == ["header found on row 3, below 2 title row(s)"]


def test_far_cell_is_found_by_the_exact_pass_too() -> None:
    # One cell without its reference sends the scan to the exact pass; XFD1048576 is seen.
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    rows = [["account_id", "vertical"], ["A1", "Software"]]
    data = _with_sheet(
        _book(rows),
        lambda s: re.sub(rb' r="A1"', b"", s, count=1).replace(b"</sheetData>", far),
    )
    plan = plan_import([ImportFile("far.xlsx", data)], None)
    assert [p.expected for p in plan.problems] == [
        "the cells of sheet 'accounts' span A1:XFD1048576 (17,179,869,184 cells); "
        "the limit is 40,000,000 cells"
    ]


@pytest.mark.parametrize(
    ("edit", "fast"),
    [
        pytest.param(lambda s: s, True, id="references"),
        pytest.param(_without_references, False, id="no-references"),
        pytest.param(
            lambda s: (
                s.replace(b"<c ", b"<x:c ")
                .replace(b"</c>", b"</x:c>")
                .replace(
                    b"<worksheet ",
                    b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
                )
            ),
            False,
            id="prefixed",
        ),
    ],
)
def test_fast_scan_and_exact_pass_measure_the_same_extent(edit, fast: bool) -> None:
    # Rows fill their columns from A, so dropping the references moves no cell.
    rows = [["Report"], [], ["account_id", "vertical", "mrr"]]
    rows += [[f"A{i}", "Software", i * 1.5] for i in range(1, 300)]
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("accounts")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    ws.write_formula(400, 0, "=SUM(C4:C302)", None, 1)
    wb.close()
    data = _with_sheet(buf.getvalue(), edit)
    book = open_workbook("x.xlsx", data, ReadLimits(), "accounts")
    parts = _Parts("x.xlsx", data, ReadLimits())
    exact = _exact_extent(parts, parts.get("xl/worksheets/sheet1.xml"), "accounts")
    assert (book.first_row, book.first_column, book.formulas) == (1, 0, {0: 1})
    assert (exact.top, exact.left, exact.bottom, exact.right) == (1, 0, 401, 2)
    assert (exact.cells, dict(exact.formulas)) == (1 + 3 + 3 * 299 + 1, {0: 1})
    scan = _SheetScan(parts, "accounts")
    for chunk in parts.chunks(parts.get("xl/worksheets/sheet1.xml")):
        scan.feed(chunk)
    scan.close()
    assert scan.simple is fast
    if fast:
        assert scan.extent == exact


# --- Nothing escapes as a crash --------------------------------------------


def test_a_file_that_breaks_the_reader_is_a_problem_and_a_failed_batch(
    seeded: sa.Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("db.importer.plan.read_table", broken)
    error = _rejected(seeded, [ImportFile("accounts.csv", ACCOUNTS.encode())])
    assert _only_problem(error) == (None, UNREADABLE)
    assert "ZeroDivisionError: a bug" in caplog.text
    assert import_history(seeded, 1)[0]["message"].startswith(
        "rejected: 1 problem(s) in accounts.csv"
    )


def test_running_out_of_memory_is_left_to_the_job_runner_which_names_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exhausted(*_args: object, **_kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr("db.importer.plan.read_table", exhausted)
    with pytest.raises(MemoryError):
        plan_import([ImportFile("accounts.csv", ACCOUNTS.encode())], None)


def test_a_crash_while_checking_the_files_is_a_failed_batch(
    seeded: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("db.importer.plan._unknown_accounts", broken)
    before, batches = checksums(seeded), batch_statuses(seeded)
    with pytest.raises(ImportFailed) as info:
        run_import([ImportFile("accounts.csv", ACCOUNTS.encode())], seeded, user="tester")
    assert str(info.value).startswith(
        "checking the files failed unexpectedly and nothing was written"
    )
    assert checksums(seeded) == before
    assert [s for _, s in batch_statuses(seeded)[len(batches) :]] == ["failed"]
    assert import_history(seeded, 1)[0]["message"] == (
        "rejected: checking the files failed unexpectedly (RuntimeError)"
    )


def test_a_crash_while_loading_is_a_failed_batch(
    seeded: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr("db.importer.commands.load_plan", broken)
    before, batches = checksums(seeded), batch_statuses(seeded)
    with pytest.raises(ImportFailed):
        run_import([ImportFile("accounts.csv", ACCOUNTS.encode())], seeded, user="tester")
    assert checksums(seeded) == before
    assert [s for _, s in batch_statuses(seeded)[len(batches) :]] == ["failed"]
    assert import_history(seeded, 1)[0]["message"] == "load failed unexpectedly (ValueError)"


@pytest.mark.parametrize(
    "name",
    ["bad_crc.xlsx", "sheet_outside_the_workbook.xlsx", "mrr_overflow.csv", "nul_after_8k.csv"],
)
def test_cli_reports_a_hostile_file_without_a_traceback(env_db: sa.Engine, name: str) -> None:
    seed(env_db)
    result = CliRunner().invoke(app, ["import", str(BAD / name)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and name in result.output
    assert batch_statuses(env_db)[-1][1] == "failed"
