"""Fuzzing the reader and the validator: mutated CSV and XLSX exports end in a clean
plan or in problems naming the file -- never an exception, a crash or a runaway.

Thousands of mutants of the good exports (bytes flipped, truncations, inserted junk,
hostile tokens, zip entries rewritten, zip directories lying) go through
``plan_import`` (read, map, validate; no warehouse) in a child process whose address
space is capped, so an allocation bomb ends the child, not the test run. The seed is
fixed (ICP_FUZZ_SEED overrides it, ICP_FUZZ_CASES the number of mutants) and printed;
every crash is listed with its case, its mutation and where its input was saved.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

GOOD = Path(__file__).resolve().parent.parent / "data" / "good"
SEED = int(os.environ.get("ICP_FUZZ_SEED", "20260601"))
CASES = int(os.environ.get("ICP_FUZZ_CASES", "2000"))
MEMORY_CAP = 3 << 30
"""Address space of the fuzzing process: far above what any mutant may take once capped."""
SLOWEST = 15.0
"""Seconds one mutant may take (a loaded two-core machine included)."""

CSV_TOKENS = [
    b'"',
    b'""',
    b'"\n',
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b",",
    b";",
    b"\t",
    b"|",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"sep=;\n",
    b'"sep=,";;\n',
    b"\xc3",
    b"\x80\x81",
    b"\x0b\x0c\x1b",
    "\u202e\u2066\u200f".encode(),
    "\u200b\u200d\ufeff\u2060".encode(),
    "\u0661\u0660\u0660".encode(),
    "\uff11\uff10\uff10".encode(),
    "\u00df\u0130".encode(),
    b"=HYPERLINK(1)",
    b"999999999999.995",
    b"1e308",
    b"-0",
    b"(5)",
    b"N/A",
    b"13/13/2024",
    b"2024-02-30",
    b"45000",
    b"x" * 40_000,
    b"," * 3_000,
    b"\n" * 2_000,
    b'a"b',
]
XML_TOKENS = [
    b'<c r="XFD1048576"><v>1</v></c>',
    b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>',
    b'<row r="1048576"><c><v>1</v></c></row>',
    b'<dimension ref="A1:XFD1048576"/>',
    b'uniqueCount="99999999999"',
    b'uniqueCount="3"',
    b'<!-- <c r="XFD1"> -->',
    b'<![CDATA[<c r="A1"><v>1</v></c>]]>',
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    b"&b;",
    b"</row>",
    b"<row>",
    b"</sheetData>",
    b"<c><v>1</v></c>",
    b'<x:c r="B2"><x:v>7</x:v></x:c>',
    b'r="ZZZ9999999"',
    b'r="a1"',
    b'r="A0"',
    b'<f t="shared" ref="A1:XFD1048576" si="4000000000">A1</f>',
    b"<si><t>x</t></si>",
    b'<c r="A2" t="s"><v>99999999</v></c>',
    b'<c r="B2" t="inlineStr"><is><t>_x0000_\xe2\x80\xae</t></is></c>',
    b'<c r="C2" t="d"><v>2024-13-45</v></c>',
    b'<c r="D2" t="e"><v>#N/A</v></c>',
    b'Target="../../../../etc/passwd"',
    b'Target="/xl/worksheets/sheet1.xml"',
    b'date1904="1"',
    b"&#0;",
    b"\x00",
    b'<sheet name="accounts" sheetId="9" r:id="rId99"/>',
    b'<numFmt numFmtId="200" formatCode="yyyy-mm-dd"/>',
    b'<xf numFmtId="14"/>',
]


def _good_csv() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(GOOD.glob("*.csv"))]


def _good_xlsx() -> list[tuple[str, bytes]]:
    """The good exports as workbooks: shared strings, dates, numbers, a formula; one with a
    title block and a second sheet, one written with inline strings."""
    import datetime

    import xlsxwriter

    books = []
    sheets = {
        "accounts.csv": "accounts",
        "subscriptions.csv": "subscriptions",
        "opportunities.csv": "opportunities",
        "hubspot_deals.csv": "deals",
    }
    for name, sheet in sheets.items():
        rows = [line.split(",") for line in (GOOD / name).read_text().splitlines()]
        for options in ({}, {"constant_memory": True}):
            buf = io.BytesIO()
            wb = xlsxwriter.Workbook(buf, {"in_memory": True, **options})
            date = wb.add_format({"num_format": "yyyy-mm-dd"})
            if not options:
                wb.add_worksheet("Read me").write(0, 0, "Exported 2024-02-01")
            ws = wb.add_worksheet(sheet)
            top = 0 if options else 2
            if not options:
                ws.write(0, 0, "Billing report")
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    if r and len(cell) == 10 and cell[4:5] == "-":
                        ws.write_datetime(top + r, c, datetime.datetime.fromisoformat(cell), date)
                    elif r and cell.replace(".", "", 1).isdigit():
                        ws.write_number(top + r, c, float(cell))
                    else:
                        ws.write_string(top + r, c, cell)
            ws.write_formula(top + len(rows), len(rows[0]), "=1+1", None, 2)
            wb.close()
            books.append((name.replace(".csv", ".xlsx"), buf.getvalue()))
    return books


def _insert(rng: random.Random, data: bytes, tokens: list[bytes]) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    token = rng.choice(tokens)
    return data[:at] + token + data[at:], f"insert {token[:30]!r} at {at}"


def _flip(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    out = bytearray(data)
    spots = [rng.randrange(len(out)) for _ in range(rng.randint(1, 8))] if out else []
    for at in spots:
        out[at] = rng.randrange(256)
    return bytes(out), f"flip bytes at {spots}"


def _truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    return data[:at], f"truncate at {at}"


def _cut(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.randint(1, 200))
    return data[:a] + data[b:], f"delete {a}:{b}"


def _repeat(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.randint(1, 120))
    n = rng.choice((2, 10, 1_000))
    return data[:a] + data[a:b] * n + data[b:], f"repeat {a}:{b} x{n}"


def _junk(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    junk = rng.randbytes(rng.randint(1, 64))
    return data[:at] + junk + data[at:], f"junk {len(junk)} bytes at {at}"


def _byte_mutation(rng: random.Random, data: bytes, tokens: list[bytes]) -> tuple[bytes, str]:
    """One or two random byte-level mutations (some insert hostile tokens)."""
    steps = []
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.choice(("insert", "insert", "flip", "truncate", "cut", "repeat", "junk"))
        if kind == "insert":
            data, what = _insert(rng, data, tokens)
        elif kind == "flip":
            data, what = _flip(rng, data)
        elif kind == "truncate":
            data, what = _truncate(rng, data)
        elif kind == "cut":
            data, what = _cut(rng, data)
        elif kind == "repeat":
            data, what = _repeat(rng, data)
        else:
            data, what = _junk(rng, data)
        steps.append(what)
    return data, "; ".join(steps)


def _csv_mutant(rng: random.Random, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes, str]:
    name, data = rng.choice(seeds)
    if rng.random() < 0.08:
        encoding = rng.choice(("utf-16", "cp1252", "latin-1"))
        data = data.decode("utf-8").encode(encoding, errors="replace")
        data, what = _byte_mutation(rng, data, CSV_TOKENS)
        return name, data, f"{name} as {encoding}; {what}"
    data, what = _byte_mutation(rng, data, CSV_TOKENS)
    return name, data, f"{name}: {what}"


def _rezip(entries: list[tuple[str, bytes]], rng: random.Random) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if rng.random() < 0.1 else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", method) as z:
        warnings.simplefilter("ignore")  # a second entry of one name is the point
        for name, body in entries:
            z.writestr(name, body)
    return out.getvalue()


def _directory_edit(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Rewrite one central-directory field of one entry: sizes, CRC, method, flags, name."""
    at = data.rfind(b"PK\x01\x02")
    starts = []
    while at >= 0:
        starts.append(at)
        at = data.rfind(b"PK\x01\x02", 0, at)
    if not starts:
        return _flip(rng, data)
    entry = rng.choice(starts)
    field, fmt, offset = rng.choice(
        [
            ("file size", "<I", 24),
            ("compressed size", "<I", 20),
            ("crc", "<I", 16),
            ("method", "<H", 10),
            ("flags", "<H", 8),
            ("local header offset", "<I", 42),
        ]
    )
    value = rng.choice(
        {
            "file size": (0, 2000, 0xFFFFFFFF, 1 << 31),
            "compressed size": (0, 1, 0xFFFFFFFF),
            "crc": (0, 0xDEADBEEF),
            "method": (0, 8, 12, 14, 99),
            "flags": (0, 1, 8, 0x800),
            "local header offset": (0, 1, 0xFFFFFFFF),
        }[field]
    )
    patched = (
        data[: entry + offset]
        + struct.pack(fmt, value)
        + data[entry + offset + struct.calcsize(fmt) :]
    )
    return patched, f"directory entry at {entry}: {field} = {value}"


def _xlsx_mutant(rng: random.Random, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes, str]:
    name, data = rng.choice(seeds)
    roll = rng.random()
    if roll < 0.3:
        data, what = _byte_mutation(rng, data, XML_TOKENS + CSV_TOKENS[:6])
        return name, data, f"{name} (container): {what}"
    if roll < 0.45:
        data, what = _directory_edit(rng, data)
        return name, data, f"{name}: {what}"
    z = zipfile.ZipFile(io.BytesIO(data))
    entries = [(n, z.read(n)) for n in z.namelist()]
    i = rng.randrange(len(entries))
    part, body = entries[i]
    change = rng.random()
    if change < 0.08:
        del entries[i]
        what = f"drop {part}"
    elif change < 0.14:
        entries.append((rng.choice((part, part.upper(), part.replace("/", "\\"))), body))
        what = f"second copy of {part}"
    else:
        body, what = _byte_mutation(rng, body, XML_TOKENS)
        entries[i] = (part, body)
        what = f"{part}: {what}"
    return name, _rezip(entries, rng), f"{name}: {what}"


def run(seed: int, cases: int, progress: Path, crashes: Path) -> dict[str, object]:
    """Fuzz ``cases`` mutants from ``seed``; the summary (and each crash's input saved in
    ``crashes``). ``progress`` names the case under way, for a child that dies."""
    import logging

    from db.importer import ImportFile, ReadLimits, plan_import
    from db.importer.plan import UNREADABLE

    logging.disable(logging.CRITICAL)  # the catch-all logs tracebacks; crashes are listed below
    rng = random.Random(seed)
    csv_seeds, xlsx_seeds = _good_csv(), _good_xlsx()
    limits = ReadLimits()
    found: list[dict[str, object]] = []
    counts = {"csv": 0, "xlsx": 0, "clean": 0, "problems": 0}
    slowest = (0.0, -1)
    started = time.perf_counter()
    for case in range(cases):
        kind = "csv" if case % 2 == 0 else "xlsx"
        mutate: Callable = _csv_mutant if kind == "csv" else _xlsx_mutant
        name, data, what = mutate(rng, csv_seeds if kind == "csv" else xlsx_seeds)
        progress.write_text(json.dumps({"case": case, "mutation": what}))
        counts[kind] += 1
        began = time.perf_counter()
        try:
            # Alone: a file referring to accounts lists them as unknown, after every
            # check of its own (validating the good accounts beside each would double the time).
            plan = plan_import([ImportFile(name, data)], None, limits=limits)
            failure = next((str(p) for p in plan.problems if p.expected == UNREADABLE), None)
            counts["clean" if plan.ok else "problems"] += 1
        except Exception as exc:  # any escape is what the fuzzing looks for
            failure = f"{type(exc).__name__}: {exc}"[:500]
        took = time.perf_counter() - began
        slowest = max(slowest, (took, case))
        if failure or took > SLOWEST:
            saved = crashes / f"case{case}_{name}"
            saved.write_bytes(data)
            found.append(
                {
                    "case": case,
                    "mutation": what,
                    "failure": failure or f"took {took:.1f} s",
                    "input": str(saved),
                }
            )
    return {
        "seed": seed,
        "cases": cases,
        **counts,
        "seconds": round(time.perf_counter() - started, 1),
        "slowest": {"seconds": round(slowest[0], 2), "case": slowest[1]},
        "crashes": found,
    }


@pytest.mark.slow
def test_mutated_exports_end_in_a_plan_never_a_crash(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    progress, crashes = tmp_path / "progress.json", tmp_path / "crashes"
    crashes.mkdir()
    code = (
        "import json; from pathlib import Path;"
        "from tests.integration.test_reader_fuzz import run;"
        f"print(json.dumps(run({SEED}, {CASES}, Path({str(progress)!r}), Path({str(crashes)!r}))))"
    )
    print(f"reader fuzz: seed {SEED} (ICP_FUZZ_SEED), {CASES} mutants (ICP_FUZZ_CASES)")
    record_property("fuzz_seed", SEED)

    def under_way() -> str:
        return progress.read_text() if progress.exists() else "{}"

    try:
        child = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=Path(__file__).resolve().parents[2],
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP)),
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"seed {SEED}: the fuzzing ran over 10 minutes, during {under_way()}")
    if child.returncode != 0:
        pytest.fail(
            f"seed {SEED}: the fuzzing process died (status {child.returncode}) during "
            f"{under_way()}\n{child.stderr[-3000:]}"
        )
    summary = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(summary, indent=1))
    record_property(
        "fuzz_summary", json.dumps({k: v for k, v in summary.items() if k != "crashes"})
    )
    assert not summary["crashes"], (
        f"seed {SEED}: {len(summary['crashes'])} crash(es): {summary['crashes'][:10]}"
    )
    assert summary["slowest"]["seconds"] < SLOWEST
