"""Write the corpus of bad export files under tests/data/bad/ (run: python tests/data/make_bad_files.py).

Each file holds one kind of mistake RevOps exports really contain, or one hostile
construction an adversarial review found (a far cell, a lying zip directory, digits
that are not ASCII, invisible characters, ...); the tests in
tests/integration/test_import_bad_files.py assert the exact problem each one
reports. They refer to the accounts of tests/data/good/accounts.csv (A001-A004),
which the tests load first. Big files (100,000 rows, the zip bombs, a 40 MB line,
a 100,000-column header) are made at test time instead, to keep the repository small.
"""

from __future__ import annotations

import datetime
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

BAD = Path(__file__).resolve().parent / "bad"
FIXED_TIME = datetime.datetime(2024, 2, 1)

SUBS_HEADER = "subscription_id,account_id,product,start_date,end_date,mrr\n"
OPPS_HEADER = "opportunity_id,account_id,opportunity_type,created_date,close_date,status,amount\n"
ACCTS_HEADER = "account_id,account_name,vertical,size_band,employees\n"

TEXT_FILES: dict[str, str | bytes] = {
    "missing_required_column.csv": "subscription_id,account_id,product,mrr\nS100,A001,Pro,100\n",
    "no_header.csv": "S100,A001,Pro,2024-01-01,,100\nS101,A002,Pro,2024-01-01,,100\n",
    "empty.csv": "",
    "header_only.csv": SUBS_HEADER,
    "html_renamed.csv": "<!DOCTYPE html>\n<html><body><table><tr><td>account_id</td></tr></table></body></html>\n",
    "pdf_renamed.csv": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "bad_date.csv": SUBS_HEADER + "S100,A001,Pro,2024-01-01,,100\nS101,A002,Pro,2024-13-45,,100\n",
    "two_digit_year.csv": SUBS_HEADER
    + "S100,A001,Pro,2024-01-01,,100\nS101,A002,Pro,1/15/24,,100\n",
    "ambiguous_dates.csv": OPPS_HEADER
    + "O100,A001,new_business,03/04/2024,05/06/2024,won,100\nO101,A002,new_business,02/01/2024,,open,100\n",
    "mixed_date_order.csv": SUBS_HEADER
    + "S100,A001,Pro,01/13/2024,,100\nS101,A002,Pro,01/20/2024,,100\nS102,A003,Pro,25/01/2024,,100\n",
    "bad_money.csv": SUBS_HEADER + "S100,A001,Pro,2024-01-01,,12abc\n",
    "negative_amount.csv": OPPS_HEADER + "O100,A001,new_business,2024-01-01,2024-02-01,won,-500\n",
    "negative_parentheses.csv": SUBS_HEADER + 'S100,A001,Pro,2024-01-01,,"($1,200.00)"\n',
    "duplicate_ids.csv": ACCTS_HEADER
    + "A100,One,Software,SMB,10\nA101,Two,Software,SMB,10\nA100,Three,Software,SMB,10\n",
    "unknown_account.csv": SUBS_HEADER
    + "S100,A001,Pro,2024-01-01,,100\nS101,A999,Pro,2024-01-01,,100\n",
    "end_before_start.csv": SUBS_HEADER + "S100,A001,Pro,2024-03-01,2024-02-28,100\n",
    "close_before_created.csv": OPPS_HEADER
    + "O100,A001,new_business,2024-03-01,2024-02-01,won,100\n",
    "bad_status.csv": OPPS_HEADER + "O100,A001,new_business,2024-01-01,,pending,100\n",
    "won_without_close_date.csv": OPPS_HEADER + "O100,A001,new_business,2024-01-01,,won,100\n",
    "missing_required_value.csv": ACCTS_HEADER + "A100,One,,SMB,10\n",
    "bad_employees.csv": ACCTS_HEADER + "A100,One,Software,,-5\n",
    "bad_size_band.csv": ACCTS_HEADER + "A100,One,Software,Huge,10\n",
    "bad_opportunity_type.csv": OPPS_HEADER + "O100,A001,Partnership,2024-01-01,,open,100\n",
    "bad_month.csv": "account_id,month,mrr\nA001,2024-01,100\nA001,2024-13,100\n",
    "formula_in_id_and_amount.csv": SUBS_HEADER
    + 'S100,A001,Pro,2024-01-01,,100\n=1+1,A001,Pro,2024-01-01,,"=SUM(F2:F3)"\n',
    "duplicate_header.csv": "account_id,vertical,Industry,vertical\nA100,Software,Tech,Software\n",
    "only_empty_rows.csv": ACCTS_HEADER + ",,,,\n\n,,,,\n",
    "ragged_row.csv": SUBS_HEADER
    + "S100,A001,Pro,2024-01-01,,100\nS101,A002,Pro,2024-01-01,,100,extra,fields\n",
    "latin1_with_bad_amount.csv": (ACCTS_HEADER + "A100,Café Crème,Hôtellerie,SMB,ten\n").encode(
        "latin-1"
    ),
    "semicolon_decimal_comma_bad.csv": (
        "subscription_id;account_id;product;start_date;end_date;mrr\n"
        "S100;A001;Pro;01.02.2024;;1.234,50\nS101;A002;Pro;01.02.2024;;12,5,0\n"
    ),
    "unterminated_quote.csv": SUBS_HEADER
    + 'S100,A001,"Pro,2024-01-01,,100\nS101,A002,Pro,2024-01-01,,100\nS102,A003,Pro,2024-01-01,,100\n',
    "excel_sep_line_contradicted.csv": "sep=,\n"
    + SUBS_HEADER.replace(",", ";")
    + "S100;A001;Pro;2024-01-01;;100\n",
    "excel_sep_line_unknown.csv": "sep=#\n"
    + SUBS_HEADER.replace(",", "#")
    + "S100#A001#Pro#2024-01-01##100\n",
    "arabic_indic_digits.csv": SUBS_HEADER + "S100,A001,Pro,2024-01-01,,\u0661\u0660\u0660\n",
    "fullwidth_digits.csv": SUBS_HEADER
    + "S100,A001,Pro,2024-01-01,,\uff11\uff10\uff10\n"
    + "S101,A002,Pro,\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661,,100\n",
    "mrr_overflow.csv": SUBS_HEADER
    + "S100,A001,Pro,2024-01-01,,999999999999.995\n"
    + 'S101,A002,Pro,2024-01-01,,"$1,000,000,000,000.00"\n',
    "nul_after_8k.csv": SUBS_HEADER
    + "".join(f"S{1000 + i},A00{1 + i % 4},Pro,2024-01-01,,100\n" for i in range(300))
    + "S9999,A001,P\x00ro,2024-01-01,,100\n",
    "bidi_override_in_id.csv": ACCTS_HEADER
    + "A1\u202e00,Acme \u202eInc,Software,SMB,10\nA101,\u2067Beta\u2069,Software,SMB,10\n",
    "zero_width_in_id.csv": SUBS_HEADER
    + "S\u200b100,A001,Pro,2024-01-01,,100\n"
    + "S101,A00\u200d2,Pro,2024-01-01,,100\n"
    + "\ufeffS102,A003,Pro,2024-01-01,,100\n"
    + "S10\u20603,A004,Pro,2024-01-01,,100\n",
    "ids_differing_by_case.csv": ACCTS_HEADER
    + "A100,One,Software,SMB,10\nA101,Two,Software,SMB,10\na100,Three,Software,SMB,10\n",
    "long_dimension_value.csv": ACCTS_HEADER
    + "A100,One,"
    + "-".join(["Software"] * 40)
    + ",SMB,10\n",
    "long_custom_attribute.csv": "account_id,vertical,Plan\nA100,Software," + "x" * 250 + "\n",
}


def _binary_garbage() -> bytes:
    return random.Random(4).randbytes(4096)


def _old_xls() -> bytes:
    # The OLE2 compound-file signature opens every Excel 97-2003 workbook.
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    wb.set_properties({"created": FIXED_TIME})  # same bytes on every run
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    wb.close()
    return buf.getvalue()


def _second_sheet() -> bytes:
    rows = [
        ["subscription_id", "account_id", "product", "start_date", "end_date", "mrr"],
        ["S100", "A001", "Pro", "2024-01-01", None, 100],
    ]
    return _workbook({"Read me": [["Exported from Billing on 2024-02-01"]], "Export": rows})


def _formula_text_xlsx() -> bytes:
    rows = [
        ["subscription_id", "account_id", "product", "start_date", "end_date", "mrr"],
        ['=B2&"-1"', "A001", "Pro", "2024-01-01", None, 100],
    ]
    return _workbook({"subscriptions": rows})


def _far_dimension() -> bytes:
    """A tiny workbook whose sheet claims to span A1:XFD1048576 (calamine would allocate it all)."""
    data = _workbook({"accounts": [["account_id", "vertical"], ["A100", "Software"]]})
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(
                    rb'<dimension ref="[^"]+"/>', b'<dimension ref="A1:XFD1048576"/>', body
                )
            dst.writestr(
                zipfile.ZipInfo(item.filename, FIXED_TIME.timetuple()[:6]),
                body,
                zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


def _edited(data: bytes, part: str, edit: Callable[[bytes], bytes]) -> bytes:
    """``data`` (a workbook) with part ``part`` rewritten by ``edit``, re-zipped."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            dst.writestr(
                zipfile.ZipInfo(item.filename, FIXED_TIME.timetuple()[:6]),
                edit(body) if item.filename == part else body,
                zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
_FAR_CELL = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'


def _accounts_book() -> bytes:
    return _workbook({"accounts": [["account_id", "vertical"], ["A100", "Software"]]})


def _far_cell_no_dimension() -> bytes:
    """No <dimension>, one value at XFD1048576: calamine would allocate the whole grid (549 GB)."""
    return _edited(
        _accounts_book(),
        SHEET,
        lambda b: re.sub(rb"<dimension[^>]*/>", b"", b).replace(b"</sheetData>", _FAR_CELL),
    )


def _far_cell_dimension_late() -> bytes:
    """A small <dimension> after 70 KB of whitespace (past any prefix check), a far cell."""
    return _edited(
        _accounts_book(),
        SHEET,
        lambda b: re.sub(
            rb"<dimension[^>]*/>", b" " * 70_000 + b'<dimension ref="A1:B2"/>', b
        ).replace(b"</sheetData>", _FAR_CELL),
    )


def _bad_crc() -> bytes:
    """The sheet's stored CRC-32 (local header and directory) off by one bit."""
    data = _accounts_book()
    crc = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET).CRC
    return data.replace(struct.pack("<I", crc), struct.pack("<I", crc ^ 1))


def _sheet_outside_the_workbook() -> bytes:
    """The sheet's relationship target climbs out of the archive."""
    return _edited(
        _accounts_book(),
        "xl/_rels/workbook.xml.rels",
        lambda b: b.replace(b'Target="worksheets/sheet1.xml"', b'Target="../../../../etc/passwd"'),
    )


def _shared_string_count_lie() -> bytes:
    """uniqueCount claims 99,999,999,999 strings: calamine reserves memory for them first."""
    return _edited(
        _accounts_book(),
        "xl/sharedStrings.xml",
        lambda b: re.sub(rb'uniqueCount="[0-9]+"', b'uniqueCount="99999999999"', b),
    )


def _zip_not_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            zipfile.ZipInfo("report.csv", FIXED_TIME.timetuple()[:6]),
            "account_id,vertical\nA1,Software\n",
        )
    return out.getvalue()


BINARY_FILES = {
    "binary_garbage.csv": _binary_garbage,
    "old_excel_renamed.xlsx": _old_xls,
    "data_on_second_sheet.xlsx": _second_sheet,
    "formula_text_id.xlsx": _formula_text_xlsx,
    "far_dimension.xlsx": _far_dimension,
    "zip_not_xlsx.xlsx": _zip_not_xlsx,
    "far_cell_no_dimension.xlsx": _far_cell_no_dimension,
    "far_cell_dimension_late.xlsx": _far_cell_dimension_late,
    "bad_crc.xlsx": _bad_crc,
    "sheet_outside_the_workbook.xlsx": _sheet_outside_the_workbook,
    "shared_string_count_lie.xlsx": _shared_string_count_lie,
}


def write_all(folder: Path = BAD) -> list[Path]:
    """Write every bad file into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in TEXT_FILES.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        written.append(path)
    for name, make in BINARY_FILES.items():
        path = folder / name
        path.write_bytes(make())
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all():
        print(p.relative_to(BAD.parent.parent.parent))
