"""Read, map and validate a set of files together; write nothing.

The plan is what the upload page shows before anything is written: each file's
detected kind, its column mapping, ignored columns, notices, row counts, and
every problem (file, row, column, value, expected). Checks that span files --
ids repeated across files of one kind, references to accounts -- are made here,
against the files being imported plus, when an engine is given, the warehouse.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from db.importer.attributes import Attribute, extra_columns
from db.importer.columns import (
    KINDS,
    REFERENCING,
    SPECS,
    closest_kind,
    detect_kind,
    map_columns,
)
from db.importer.errors import ImportRefused, Problem
from db.importer.progress import Progress, no_progress
from db.importer.read import ImportFile, ReadLimits, read_table
from db.importer.validate import (
    MAX_LISTED,
    MONEY_COLUMNS,
    ROW,
    SizeBands,
    check_table,
    problem_frame,
)
from metrics.frames import COLUMNS

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger("icp.importer")

UNKNOWN_ACCOUNT = "an account_id of an accounts file in this import or already in the warehouse"


@dataclass
class FilePlan:
    """What was made of one file."""

    name: str
    sha256: str
    size_bytes: int
    kind: str | None = None
    file_format: str | None = None
    sheet: str | None = None
    headers: list[str] = field(default_factory=list)
    """Every header of the file, in file order (empty when the file could not be read)."""
    mapping: dict[str, str] = field(default_factory=dict)
    """Source header -> canonical column (partial when required columns are missing)."""
    ignored: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rows: int = 0
    problem_count: int = 0
    attributes: list[Attribute] = field(default_factory=list)
    """Custom attributes kept from the ignored columns of an accounts file."""
    frame: pl.DataFrame | None = None
    """Canonical columns (money in integer cents), each custom attribute typed, ``__row``;
    None when unreadable."""

    def to_dict(self) -> dict[str, Any]:
        """The file's plan as JSON-ready values (without its data)."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "kind": self.kind,
            "format": self.file_format,
            "sheet": self.sheet,
            "headers": self.headers,
            "mapping": self.mapping,
            "ignored": self.ignored,
            "attributes": [a.to_dict() for a in self.attributes],
            "notices": self.notices,
            "rows": self.rows,
            "problem_count": self.problem_count,
        }


@dataclass
class ImportPlan:
    """The files read, mapped and validated; ``ok`` when there is nothing wrong."""

    files: list[FilePlan]
    problems: list[Problem]
    """At most MAX_LISTED, in file order then row order."""
    problem_count: int

    @property
    def ok(self) -> bool:
        """True when every file was read and holds no problem."""
        return self.problem_count == 0 and all(f.frame is not None for f in self.files)

    def frames(self) -> dict[str, pl.DataFrame]:
        """Canonical frames per kind (DATA_FORMAT.md columns, then each custom attribute as
        its own column; money as Float64 currency units)."""
        out = {}
        for kind, frame in self.load_frames().items():
            out[kind] = frame.drop("__file", "attributes", strict=False).with_columns(
                (pl.col(c) / 100).alias(c) for c in COLUMNS[kind] if c in MONEY_COLUMNS
            )
        return out

    def load_frames(self) -> dict[str, pl.DataFrame]:
        """Per kind, in load order: canonical columns, money in cents, ``__file`` = file index
        (and the typed custom attributes of accounts files, null where a file has none)."""
        out = {}
        for kind in KINDS:
            parts = [
                f.frame.drop(ROW).with_columns(pl.lit(i, pl.Int32).alias("__file"))
                for i, f in enumerate(self.files)
                if f.kind == kind and f.frame is not None
            ]
            if parts:
                out[kind] = pl.concat(parts, how="diagonal_relaxed")
        if "spend" in out:
            # A spend row's key is its month and its place among that month's rows of
            # this import (files in order), so the same file imported again is unchanged.
            out["spend"] = out["spend"].with_columns(
                pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("month").alias("line")
            )
        return out

    def report(self) -> str:
        """The plan in words: one block per file, then every listed problem."""
        lines = []
        for f in self.files:
            what = f"{f.kind}, {f.rows:,} rows" if f.kind else "not read"
            lines.append(
                f"{f.name}: {what}" + (f" ({f.file_format.upper()})" if f.file_format else "")
            )
            if f.mapping:
                lines.append("  columns: " + ", ".join(f"{s} -> {c}" for s, c in f.mapping.items()))
            dims = [a.describe() for a in f.attributes if a.dimension]
            kept = [a.describe() for a in f.attributes if not a.dimension]
            if dims:
                lines.append("  custom attributes, dimensions: " + ", ".join(dims))
            if kept:
                lines.append("  custom attributes kept, not segmentable: " + ", ".join(kept))
            if f.ignored:
                lines.append("  ignored columns: " + ", ".join(f.ignored))
            lines.extend(f"  note: {n}" for n in f.notices)
        if self.problem_count:
            shown = len(self.problems)
            head = f"{self.problem_count:,} problem{'s' if self.problem_count != 1 else ''}"
            if shown < self.problem_count:
                head += f" (the first {shown:,} listed)"
            lines.append(head + "; nothing was written:")
            lines.extend(f"  {p}" for p in self.problems)
        else:
            lines.append("no problems found")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready values, for ``--format json`` and the upload page."""
        return {
            "ok": self.ok,
            "problem_count": self.problem_count,
            "problems": [p.to_dict() for p in self.problems],
            "files": [f.to_dict() for f in self.files],
        }


class ImportRejected(ImportRefused):
    """The files were read but hold problems; nothing was written.

    ``plan`` is the full :class:`ImportPlan`; ``str()`` is its readable report.
    """

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        super().__init__(plan.report(), None)


SHOWN_CHARS = 100


def shown(value: str | None) -> str | None:
    """A cell as a report quotes it: a long one cut after SHOWN_CHARS, with its length."""
    if value is None or len(value) <= SHOWN_CHARS:
        return value
    return f"{value[:SHOWN_CHARS]}… ({len(value):,} characters)"


def _bands(settings: Any, engine: sa.Engine | None) -> SizeBands:
    """Size-band bounds from ``settings``, else the warehouse's metric settings, else defaults."""
    if settings is not None:
        return SizeBands(settings.size_band_smb_below, settings.size_band_mid_below)
    stored: dict[str, Any] = {}
    if engine is not None:
        import sqlalchemy as sa

        with engine.connect() as conn:
            stored = conn.scalar(sa.text("SELECT value FROM settings WHERE key = 'metrics'")) or {}
    default = SizeBands()
    return SizeBands(
        int(stored.get("size_band_smb_below", default.smb_below)),
        int(stored.get("size_band_mid_below", default.mid_below)),
    )


def _file_problem(
    plan: FilePlan, row: int | None, message: str
) -> tuple[FilePlan, pl.DataFrame, int]:
    """A file that stops at one problem about the whole file (``row``: where it was met)."""
    return (
        plan,
        problem_frame([{"row": row, "column": None, "value": None, "expected": message}]),
        1,
    )


UNREADABLE = (
    "a file ICP Lens can read: reading this one failed unexpectedly (the error is in the "
    "server log); export it again as CSV, or report the file"
)


def _digest(f: ImportFile) -> str:
    return hashlib.sha256(f.data).hexdigest()


def _plan_file(
    f: ImportFile,
    limits: ReadLimits,
    kind: str | None,
    explicit: Mapping[str, str] | None,
    bands: SizeBands,
    digest: bool = True,
) -> tuple[FilePlan, pl.DataFrame, int]:
    plan = FilePlan(f.name, _digest(f) if digest else "", len(f.data))
    try:
        return _checked_file(plan, f, limits, kind, explicit, bands)
    except ImportRefused as exc:
        message = str(exc).removeprefix(f"{f.name}: ")
        return _file_problem(plan, exc.row, message)
    except MemoryError:
        raise  # the job's memory cap: its runner says so (jobs.py)
    except Exception:
        # A file no check foresaw: still a problem naming the file, never a crash that
        # leaves no failed batch; the traceback goes to the log as the bug it is.
        log.exception("reading %s failed unexpectedly", f.name)
        return _file_problem(plan, None, UNREADABLE)


def _checked_file(
    plan: FilePlan,
    f: ImportFile,
    limits: ReadLimits,
    kind: str | None,
    explicit: Mapping[str, str] | None,
    bands: SizeBands,
) -> tuple[FilePlan, pl.DataFrame, int]:
    """``plan`` filled in for file ``f`` read, mapped and checked, with its problems."""
    raw = read_table(f, limits, kind, tuple(explicit or ()))
    plan.file_format, plan.sheet, plan.notices = raw.file_format, raw.sheet, list(raw.notices)
    plan.headers = list(raw.headers)
    plan.rows = raw.frame.height
    mapped = (
        map_columns(kind, raw.headers, explicit) if kind else detect_kind(raw.headers, explicit)
    )
    if mapped is None or not mapped.complete:
        near = mapped or closest_kind(raw.headers)
        plan.kind = kind
        if kind:
            # The partial mapping lets the page offer the missing columns to map by hand.
            plan.mapping, plan.ignored = near.mapping, list(near.ignored)
        found = ", ".join(repr(h) for h in raw.headers)
        hint = "" if kind else " (the closest match)"
        message = (
            f"the columns of a{'n' if near.kind[0] in 'aeiou' else ''} {near.kind} file{hint}: "
            f"missing {', '.join(near.missing)}; found {found}"
        )
        return _file_problem(plan, raw.first_row - 1, message)
    extras, extra_notices = extra_columns(mapped.kind, mapped.ignored, tuple(explicit or ()))
    plan.kind, plan.mapping = mapped.kind, mapped.mapping
    plan.ignored = [h for h in mapped.ignored if h not in extras]
    plan.notices.extend(extra_notices)
    repeated = sorted({h for h in raw.headers if raw.headers.count(h) > 1})
    if repeated:
        message = "each column once; the header repeats " + ", ".join(repr(h) for h in repeated)
        return _file_problem(plan, raw.first_row - 1, message)
    if raw.frame.height == 0:
        message = "at least one data row (the file has only a header)"
        return _file_problem(plan, raw.first_row, message)
    checked = check_table(raw, mapped.kind, mapped.mapping, bands, extras)
    if checked.frame.height == 0:
        message = "at least one data row (the file's rows are all empty)"
        return _file_problem(plan, raw.first_row, message)
    plan.notices.extend(checked.notices)
    plan.attributes = checked.attributes
    plan.frame = checked.frame
    plan.rows = checked.frame.height
    return plan, checked.problems, checked.problem_count


def _listed(rows: pl.DataFrame, header: str, value: pl.Expr, expected: pl.Expr) -> pl.DataFrame:
    """The first MAX_LISTED of ``rows`` as problems of the column ``header``."""
    return (
        rows.sort(ROW)
        .head(MAX_LISTED)
        .select(
            pl.col(ROW).alias("row"),
            pl.lit(header).alias("column"),
            value.alias("value"),
            expected.alias("expected"),
        )
    )


def _cross_file_duplicates(files: list[FilePlan]) -> list[tuple[int, pl.DataFrame, int]]:
    """Keys of one kind present in two files: reported in each later file.

    An id (a one-column key) matches ignoring case, as within a file (``case_variants``).
    """
    found = []
    for kind in KINDS:
        if kind == "spend":
            continue  # spend rows are numbered across the import's files (load_frames)
        if sum(1 for f in files if f.kind == kind and f.frame is not None) < 2:
            continue  # one file cannot clash with another: its keys need not be folded
        key = list(SPECS[kind].key)
        folded = [pl.col(key[0]).str.to_lowercase().alias("__folded")] if len(key) == 1 else []
        on = ["__folded"] if folded else key
        seen: pl.DataFrame | None = None
        for i, f in enumerate(files):
            if f.kind != kind or f.frame is None:
                continue
            keys = f.frame.select(*key, ROW).drop_nulls(key).with_columns(folded)
            if seen is not None:
                clash = keys.join(seen, on=on, how="inner")
                if clash.height:
                    header = next((s for s, c in f.mapping.items() if c == key[0]), key[0])
                    other = pl.format(
                        "a {} not also in {}", pl.lit(" + ".join(key)), pl.col("__name")
                    )
                    if folded:
                        other = (
                            pl.when(pl.col(key[0]) == pl.col("__seen"))
                            .then(other)
                            .otherwise(
                                pl.format("{} ignoring case ('{}' there)", other, pl.col("__seen"))
                            )
                        )
                    listed = _listed(
                        clash,
                        header,
                        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=" / "),
                        other,
                    )
                    found.append((i, listed, clash.height))
            named = keys.select(
                *on,
                *([pl.col(key[0]).alias("__seen")] if folded else []),
                pl.lit(f.name).alias("__name"),
            )
            seen = named if seen is None else pl.concat([seen, named]).unique(on, keep="first")
    return found


def _unknown_accounts(
    files: list[FilePlan], engine: sa.Engine | None
) -> list[tuple[int, pl.DataFrame, int]]:
    """Rows referring to an account in neither the accounts files nor the warehouse."""
    in_files = [
        f.frame.select("account_id") for f in files if f.kind == "accounts" and f.frame is not None
    ]
    known = (
        pl.concat(in_files)
        if in_files
        else pl.DataFrame({"account_id": []}, schema={"account_id": pl.String})
    )
    referring = [
        (i, f) for i, f in enumerate(files) if f.kind in REFERENCING and f.frame is not None
    ]
    if not referring:
        return []
    # Each file's references not in the accounts files (usually none), then their distinct
    # ids: half the work of first finding the distinct ids of every reference.
    missing = (
        pl.concat(
            [
                f.frame.select("account_id").join(known, on="account_id", how="anti")
                for _, f in referring
            ]
        )
        .drop_nulls()
        .unique()
    )
    if missing.height and engine is not None:
        import sqlalchemy as sa

        with engine.connect() as conn:
            stored = (
                conn.execute(
                    sa.text("SELECT account_id FROM accounts WHERE account_id = ANY(:ids)"),
                    {"ids": missing["account_id"].to_list()},
                )
                .scalars()
                .all()
            )
        missing = missing.filter(~pl.col("account_id").is_in(stored))
    if not missing.height:
        return []
    found = []
    for i, f in referring:
        bad = f.frame.join(missing, on="account_id", how="semi")
        if bad.height:
            header = next(s for s, c in f.mapping.items() if c == "account_id")
            listed = _listed(bad, header, pl.col("account_id"), pl.lit(UNKNOWN_ACCOUNT))
            found.append((i, listed, bad.height))
    return found


SIDE_BY_SIDE_BYTES = 128 * 1024 * 1024
"""Files of an upload are read side by side up to this many bytes in all."""


def plan_import(
    files: Sequence[ImportFile],
    engine: sa.Engine | None,
    *,
    kinds: Mapping[str, str] | None = None,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    settings: Any = None,
    limits: ReadLimits | None = None,
    progress: Progress | None = None,
    digests: bool = True,
) -> ImportPlan:
    """Read, map and validate ``files`` together; nothing is written.

    ``kinds`` and ``mappings`` (source header -> canonical column) are keyed by
    file name and override detection. ``settings`` (anything with
    ``size_band_smb_below`` / ``size_band_mid_below``, e.g. MetricSettings)
    gives the size-band bounds; without it the warehouse's stored settings are
    used. With ``engine=None`` references are checked against the files alone.
    ``progress(stage, done, total, detail)`` hears of each file read and checked.
    ``digests=False`` leaves each file's ``sha256`` empty: for a caller that writes no
    batch (hashing every byte is a tenth of reading them).
    """
    progress = progress or no_progress
    limits = limits or ReadLimits.from_config()
    if not files:
        raise ImportRefused("no files to import")
    names = [f.name for f in files]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ImportRefused(f"two files share the name {', '.join(repeated)}; rename one")
    kinds = dict(kinds or {})
    mappings = dict(mappings or {})
    for name, kind in kinds.items():
        if kind not in KINDS:
            raise ImportRefused(
                f"{name}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
    bands = _bands(settings, engine)
    progress("read", 0, len(files), ", ".join(names))
    # The files are read and checked side by side: polars releases the GIL, and one
    # file's single-threaded stretches (parsing, Python between passes) leave the
    # cores to the others. Results keep the files' order. Large uploads go one at a
    # time: side by side, their peaks would add up under the import job's memory cap.
    side_by_side = sum(len(f.data) for f in files) <= SIDE_BY_SIDE_BYTES
    workers = min(len(files), os.cpu_count() or 1) if side_by_side else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                _plan_file, f, limits, kinds.get(f.name), mappings.get(f.name), bands, digests
            ): i
            for i, f in enumerate(files)
        }
        plans: list[FilePlan] = [None] * len(files)  # type: ignore[list-item]
        per_file: list[list[tuple[pl.DataFrame, int]]] = [[] for _ in files]
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            plans[i], problems, count = future.result()
            per_file[i].append((problems, count))
            progress("read", done, len(files), f"{plans[i].name}: {plans[i].rows:,} rows")
    progress("validate", 0, 1, "references between the files and the warehouse")
    for i, listed, count in _cross_file_duplicates(plans) + _unknown_accounts(plans, engine):
        per_file[i].append((listed, count))
    problems: list[Problem] = []
    total = 0
    for plan, found in zip(plans, per_file, strict=True):
        count = sum(n for _, n in found)
        plan.problem_count = count
        total += count
        if len(problems) < MAX_LISTED:
            rows = pl.concat([p for p, _ in found]).sort("row", "column", nulls_last=False)
            for r in rows.head(MAX_LISTED - len(problems)).iter_rows(named=True):
                problems.append(
                    Problem(plan.name, r["row"], r["column"], shown(r["value"]), r["expected"])
                )
    return ImportPlan(plans, problems, total)


EXPORT_SUFFIXES = (".csv", ".xlsx", ".txt", ".tsv")


def read_export_folder(path: str | Path, *, settings: Any = None) -> dict[str, pl.DataFrame]:
    """Canonical frames of every export file in folder ``path`` (no warehouse consulted).

    Raises :class:`ImportRejected` with the full report when any file is bad.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ImportRefused(f"{folder}: not a folder")
    files = [
        ImportFile.from_path(p)
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in EXPORT_SUFFIXES
    ]
    if not files:
        raise ImportRefused(f"{folder}: no .csv or .xlsx files")
    plan = plan_import(files, None, settings=settings, digests=False)
    if not plan.ok:
        # The frames need no digest; a rejected plan gets its files' as any plan has them.
        for f, file_plan in zip(files, plan.files, strict=True):
            file_plan.sha256 = _digest(f)
        raise ImportRejected(plan)
    return plan.frames()
