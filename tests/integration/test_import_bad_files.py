"""Every file of the bad corpus is rejected with its exact problem and changes nothing.

The warehouse is seeded with the good exports first; after each rejected import
every data and audit table has the same row count and checksum as before, and
the only new batch is one marked ``failed``.
"""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from db.importer import ImportFile, ImportRejected, ReadLimits, import_history, run_import
from tests.data.make_bad_files import BINARY_FILES, TEXT_FILES
from tests.integration.test_import_support import BAD, batch_statuses, checksums, seed

DATE = (
    "a date: YYYY-MM-DD, MM/DD/YYYY or DD/MM/YYYY (one order per column), DD.MM.YYYY "
    "or an Excel date"
)
MONEY = "an amount such as 1234.50, 1,234.50, $1,234.50 or 1 234,50 €"
NEGATIVE = "an amount of 0 or more (negative amounts are not accepted)"
NOT_TABULAR = "not a CSV or XLSX file; export it as CSV or XLSX"
OTHER_DIGITS = "written with the digits 0-9 (this one has other digits)"
TOO_LARGE = (
    "an amount below 1,000,000,000,000 once rounded to the cent "
    "(the warehouse keeps 12 digits before the decimal point)"
)
INVISIBLE = (
    "an id without invisible characters (zero-width spaces or joiners, byte-order marks, "
    "direction marks, control characters)"
)
FAR_CELL = (
    "the cells of sheet 'accounts' span A1:XFD1048576 (17,179,869,184 cells); "
    "the limit is 40,000,000 cells"
)


def _ambiguous(col: str) -> str:
    return (
        f"dates whose day/month order is clear: no date in column '{col}' has a day above 12 "
        "to tell DD/MM/YYYY from MM/DD/YYYY; export dates as YYYY-MM-DD"
    )


# file -> every problem expected, as (row, column, value, expected)
EXPECTED: dict[str, list[tuple[int | None, str | None, str | None, str]]] = {
    "missing_required_column.csv": [
        (
            1,
            None,
            None,
            "the columns of a subscriptions file (the closest match): missing start_date; "
            "found 'subscription_id', 'account_id', 'product', 'mrr'",
        ),
    ],
    "no_header.csv": [
        (
            1,
            None,
            None,
            "row 1 is not a header naming known columns (found 'S100,A001,Pro,2024-01-01,,100'); "
            "expected the columns of docs/import.md, e.g. account_id, vertical",
        ),
    ],
    "empty.csv": [(None, None, None, "the file is empty")],
    "header_only.csv": [(2, None, None, "at least one data row (the file has only a header)")],
    "html_renamed.csv": [
        (
            None,
            None,
            None,
            "this is an HTML page (some CRMs save HTML under a .csv or .xls name), " + NOT_TABULAR,
        )
    ],
    "pdf_renamed.csv": [(None, None, None, "this is a PDF document, " + NOT_TABULAR)],
    "binary_garbage.csv": [(None, None, None, "this is binary data, " + NOT_TABULAR)],
    "old_excel_renamed.xlsx": [
        (
            None,
            None,
            None,
            "this is an old Excel 97-2003 workbook (.xls) or another OLE document, " + NOT_TABULAR,
        )
    ],
    "zip_not_xlsx.xlsx": [
        (
            None,
            None,
            None,
            "this is a zip archive but not an XLSX workbook; export it as CSV or XLSX",
        )
    ],
    "far_dimension.xlsx": [
        (
            None,
            None,
            None,
            "the sheet spans A1:XFD1048576 (17,179,869,184 cells); the limit is 40,000,000 cells",
        )
    ],
    "data_on_second_sheet.xlsx": [
        (
            None,
            None,
            None,
            "sheet 'Read me' row 1 is not a header naming known columns (found "
            "'Exported from Billing on 2024-02-01'); the workbook's sheets are 'Read me', 'Export': name the data "
            "sheet after its kind (accounts, subscriptions, mrr_monthly, opportunities, spend) or move it first",
        ),
    ],
    "bad_date.csv": [(3, "start_date", "2024-13-45", DATE)],
    "two_digit_year.csv": [(3, "start_date", "1/15/24", DATE)],
    "ambiguous_dates.csv": [
        (2, "close_date", "05/06/2024", _ambiguous("close_date")),
        (2, "created_date", "03/04/2024", _ambiguous("created_date")),
    ],
    "mixed_date_order.csv": [
        (
            4,
            "start_date",
            "25/01/2024",
            "a date in the column's MM/DD/YYYY order (this one only reads the other way)",
        )
    ],
    "bad_month.csv": [(3, "month", "2024-13", "a month (YYYY-MM) or " + DATE)],
    "bad_money.csv": [(2, "mrr", "12abc", MONEY)],
    "semicolon_decimal_comma_bad.csv": [(3, "mrr", "12,5,0", MONEY)],
    "negative_amount.csv": [(2, "amount", "-500", NEGATIVE)],
    "negative_parentheses.csv": [(2, "mrr", "($1,200.00)", NEGATIVE)],
    "duplicate_ids.csv": [
        (2, "account_id", "A100", "a unique account_id (the same one is on rows 2, 4)"),
        (4, "account_id", "A100", "a unique account_id (the same one is on rows 2, 4)"),
    ],
    "unknown_account.csv": [
        (
            3,
            "account_id",
            "A999",
            "an account_id of an accounts file in this import or already in the warehouse",
        )
    ],
    "end_before_start.csv": [
        (2, "end_date", "2024-02-28", "an end date on or after the start date 2024-03-01")
    ],
    "close_before_created.csv": [
        (2, "close_date", "2024-02-01", "a close date on or after the created date 2024-03-01")
    ],
    "bad_status.csv": [
        (
            2,
            "status",
            "pending",
            "open, won or lost (or a CRM stage such as Closed Won / Closed Lost)",
        )
    ],
    "won_without_close_date.csv": [
        (2, "status", "won", "a close date for a won opportunity ('close_date' is empty)")
    ],
    "missing_required_value.csv": [(2, "vertical", "", "a value (this column is required)")],
    "bad_employees.csv": [(2, "employees", "-5", "a whole number of 0 or more")],
    "latin1_with_bad_amount.csv": [(2, "employees", "ten", "a whole number such as 250")],
    "bad_size_band.csv": [(2, "size_band", "Huge", "SMB, Mid-Market or Enterprise")],
    "bad_opportunity_type.csv": [
        (
            2,
            "opportunity_type",
            "Partnership",
            "new_business, expansion or renewal (CRM values such as New "
            "Business, Existing Business - Upgrade, Upsell or Renewal are read too)",
        ),
    ],
    "formula_in_id_and_amount.csv": [
        (3, "mrr", "=SUM(F2:F3)", "an amount, not a formula"),
        (3, "subscription_id", "=1+1", "an id, not a formula"),
    ],
    "formula_text_id.xlsx": [(2, "subscription_id", '=B2&"-1"', "an id, not a formula")],
    "ragged_row.csv": [(3, None, None, "row 3 has 8 fields; the header has 6")],
    "duplicate_header.csv": [(1, None, None, "each column once; the header repeats 'vertical'")],
    "only_empty_rows.csv": [
        (2, None, None, "at least one data row (the file's rows are all empty)")
    ],
    # Hostile files (adversarial review): each once crashed the import, passed
    # validation and failed at load, or was refused with a misleading message.
    "unterminated_quote.csv": [
        (
            2,
            None,
            None,
            "an unterminated quote: the quoted cell starting on row 2 is never closed, so every "
            'row after it would be read into that cell; close the quote (") or remove it',
        )
    ],
    "excel_sep_line_contradicted.csv": [
        (
            1,
            None,
            None,
            "the first line names the comma as the delimiter (Excel's sep= line), but the header "
            "below it names no known column when split there (found "
            "'subscription_id;account_id;product;start_date;end_date;mrr'); remove the sep= line "
            "or correct it",
        )
    ],
    "excel_sep_line_unknown.csv": [
        (
            1,
            None,
            None,
            "row 1 'sep=#' is Excel's delimiter line, but it names '#'; ICP Lens reads files "
            "separated by commas, semicolons, tabs or pipes: remove that line or export the file "
            "again",
        )
    ],
    "arabic_indic_digits.csv": [(2, "mrr", "\u0661\u0660\u0660", "an amount " + OTHER_DIGITS)],
    "fullwidth_digits.csv": [
        (2, "mrr", "\uff11\uff10\uff10", "an amount " + OTHER_DIGITS),
        (
            3,
            "start_date",
            "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661",
            "a date " + OTHER_DIGITS,
        ),
    ],
    "mrr_overflow.csv": [
        (2, "mrr", "999999999999.995", TOO_LARGE),
        (3, "mrr", "$1,000,000,000,000.00", TOO_LARGE),
    ],
    "nul_after_8k.csv": [
        (
            302,
            "product",
            "P\x00ro",
            "text without NUL characters (\\x00, which the warehouse cannot store)",
        )
    ],
    "bidi_override_in_id.csv": [(2, "account_id", "A1\u202e00", INVISIBLE)],
    "zero_width_in_id.csv": [
        (2, "subscription_id", "S\u200b100", INVISIBLE),
        (3, "account_id", "A00\u200d2", INVISIBLE),
        (4, "subscription_id", "\ufeffS102", INVISIBLE),
        (5, "subscription_id", "S10\u20603", INVISIBLE),
    ],
    "ids_differing_by_case.csv": [
        (2, "account_id", "A100", "a unique account_id ignoring case ('a100' is on row 4)"),
        (4, "account_id", "a100", "a unique account_id ignoring case ('A100' is on row 2)"),
    ],
    "long_dimension_value.csv": [
        (
            2,
            "vertical",
            "-".join(["Software"] * 40)[:100] + "… (359 characters)",
            "at most 200 characters (this one has 359)",
        )
    ],
    "long_custom_attribute.csv": [
        (2, "Plan", "x" * 100 + "… (250 characters)", "at most 200 characters (this one has 250)")
    ],
    "far_cell_no_dimension.xlsx": [(None, None, None, FAR_CELL)],
    "far_cell_dimension_late.xlsx": [(None, None, None, FAR_CELL)],
    "bad_crc.xlsx": [
        (
            None,
            None,
            None,
            "a damaged XLSX workbook: part xl/worksheets/sheet1.xml cannot be unpacked (Bad "
            "CRC-32 for file 'xl/worksheets/sheet1.xml'); export it again as CSV or XLSX",
        )
    ],
    "sheet_outside_the_workbook.xlsx": [
        (
            None,
            None,
            None,
            "a damaged XLSX workbook: sheet 'accounts' points to '../../../../etc/passwd', "
            "which the workbook does not hold",
        )
    ],
    "shared_string_count_lie.xlsx": [
        (
            None,
            None,
            None,
            "a damaged XLSX workbook: its shared strings declare '99999999999' strings but hold 4",
        )
    ],
}


@pytest.fixture
def seeded(db: sa.Engine) -> sa.Engine:
    seed(db)
    return db


def _assert_rejected_and_unchanged(
    engine: sa.Engine, files: list[ImportFile], **kwargs
) -> ImportRejected:
    before = checksums(engine)
    batches = batch_statuses(engine)
    with pytest.raises(ImportRejected) as info:
        run_import(files, engine, user="tester", **kwargs)
    assert checksums(engine) == before
    after = batch_statuses(engine)
    assert after[: len(batches)] == batches
    assert [status for _, status in after[len(batches) :]] == ["failed"]
    return info.value


def test_corpus_is_complete_and_committed() -> None:
    names = set(TEXT_FILES) | set(BINARY_FILES)
    assert names == set(EXPECTED)
    assert len(names) >= 25
    for name in names:
        assert (BAD / name).exists(), f"run python tests/data/make_bad_files.py ({name} missing)"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_is_rejected_with_its_exact_problem(seeded: sa.Engine, name: str) -> None:
    error = _assert_rejected_and_unchanged(seeded, [ImportFile.from_path(BAD / name)])
    got = [(p.file, p.row, p.column, p.value, p.expected) for p in error.plan.problems]
    assert got == [(name, *want) for want in EXPECTED[name]]
    assert error.plan.problem_count == len(EXPECTED[name])
    assert name in str(error)
    failed = import_history(seeded, 1)[0]
    assert failed["status"] == "failed" and failed["error_count"] == len(EXPECTED[name])


def test_latin1_file_says_how_it_was_read(seeded: sa.Engine) -> None:
    error = _assert_rejected_and_unchanged(
        seeded, [ImportFile.from_path(BAD / "latin1_with_bad_amount.csv")]
    )
    assert error.plan.files[0].notices == [
        "not valid UTF-8 (first at byte 61); read as Latin-1 (Windows-1252)"
    ]


def test_hundred_thousand_rows_with_one_bad_row_at_the_end(seeded: sa.Engine) -> None:
    lines = ["subscription_id,account_id,product,start_date,end_date,mrr"]
    lines += [f"S{i:06d},A00{1 + i % 4},Pro,2024-01-01,,{i % 900 + 100}.00" for i in range(99_999)]
    lines.append("S999999,A001,Pro,2024-01-01,,1O0.00")
    data = ("\n".join(lines) + "\n").encode()
    error = _assert_rejected_and_unchanged(seeded, [ImportFile("big.csv", data)])
    assert [(p.row, p.column, p.value, p.expected) for p in error.plan.problems] == [
        (100_001, "mrr", "1O0.00", MONEY)
    ]


def test_more_than_a_thousand_problems_are_counted_and_capped(seeded: sa.Engine) -> None:
    lines = ["subscription_id,account_id,product,start_date,end_date,mrr"]
    lines += [f"S{i:05d},A001,Pro,2024-01-01,,-{i + 1}" for i in range(1_500)]
    error = _assert_rejected_and_unchanged(
        seeded, [ImportFile("negatives.csv", ("\n".join(lines)).encode())]
    )
    assert error.plan.problem_count == 1_500
    assert len(error.plan.problems) == 1_000
    assert error.plan.problems[0].row == 2 and error.plan.problems[-1].row == 1_001
    assert "1,500 problems (the first 1,000 listed)" in str(error)


def test_zip_bomb_is_refused_before_inflating(seeded: sa.Engine) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    error = _assert_rejected_and_unchanged(seeded, [ImportFile("bomb.xlsx", buf.getvalue())])
    (problem,) = error.plan.problems
    assert problem.row is None and problem.column is None
    assert problem.expected.startswith("part xl/worksheets/sheet1.xml is compressed ")
    assert problem.expected.endswith(" to 1; the limit is 200 to 1 (a zip bomb)")


def test_size_and_row_caps(seeded: sa.Engine) -> None:
    data = (
        "subscription_id,account_id,product,start_date,end_date,mrr\n"
        + "S1,A001,Pro,2024-01-01,,1\n" * 3
    ).encode()
    error = _assert_rejected_and_unchanged(
        seeded, [ImportFile("s.csv", data)], limits=ReadLimits(max_bytes=100)
    )
    assert error.plan.problems[0].expected == "the file is 137 bytes; the limit is 100 bytes"
    error = _assert_rejected_and_unchanged(
        seeded, [ImportFile("s.csv", data)], limits=ReadLimits(max_rows=2)
    )
    assert error.plan.problems[0].expected == "3 rows; the limit is 2 rows per file"


def test_ids_repeated_across_two_files_of_one_kind(seeded: sa.Engine) -> None:
    header = "subscription_id,account_id,product,start_date,end_date,mrr\n"
    first = ImportFile("jan.csv", (header + "S500,A001,Pro,2024-01-01,,10\n").encode())
    second = ImportFile(
        "feb.csv",
        (header + "S501,A001,Pro,2024-01-01,,10\nS500,A002,Pro,2024-01-01,,10\n").encode(),
    )
    error = _assert_rejected_and_unchanged(seeded, [first, second])
    assert [(p.file, p.row, p.column, p.value, p.expected) for p in error.plan.problems] == [
        ("feb.csv", 3, "subscription_id", "S500", "a subscription_id not also in jan.csv")
    ]


def test_dry_run_with_problems_records_nothing(seeded: sa.Engine) -> None:
    before = checksums(seeded)
    batches = batch_statuses(seeded)
    with pytest.raises(ImportRejected):
        run_import(
            [ImportFile.from_path(BAD / "bad_date.csv")], seeded, user="tester", dry_run=True
        )
    assert checksums(seeded) == before and batch_statuses(seeded) == batches


def test_millions_of_empty_lines_are_refused_before_parsing(seeded: sa.Engine) -> None:
    data = b"account_id,vertical\n" + b"\n" * 5_000_000
    error = _assert_rejected_and_unchanged(
        seeded, [ImportFile("lines.csv", data)], limits=ReadLimits(max_rows=1_000_000)
    )
    assert (
        error.plan.problems[0].expected == "5,000,001 lines; the limit is 1,000,000 rows per file"
    )
