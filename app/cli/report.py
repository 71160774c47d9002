"""``icp report``: the metrics of METRICS.md on the command line.

Reads the warehouse (default) or a folder of export files (``--data DIR``,
validated like an upload) and prints a table, CSV or JSON to stdout. Ratios are
fractions (1.07, not 107) in CSV and JSON; undefined values are empty in CSV and
``null`` in JSON.
"""

from __future__ import annotations

import csv
import io
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

report_app = typer.Typer(
    help="Segment scorecard, cohorts, MRR movements, Accidental ICP flags and drift alerts.",
    no_args_is_help=True,
)

SCORECARD_KEYS = (
    "accounts",
    "nrr",
    "grr",
    "logo_retention",
    "arpa",
    "clv",
    "clv_low",
    "clv_high",
    "clv_simple",
    "win_rate",
    "avg_deal_size",
    "days_to_close",
    "sales_velocity",
    "prospects",
    "tam",
    "tier",
)
COHORT_KEYS = ("cohort", "age", "accounts", "nrr", "grr", "logo_retention")
MOVEMENT_KEYS = (
    "month",
    "starting_mrr",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "ending_mrr",
    "quick_ratio",
)
RATIO_KEYS = {"nrr", "grr", "logo_retention", "win_rate", "quick_ratio"}
MONEY_KEYS = {
    "arpa",
    "clv",
    "clv_low",
    "clv_high",
    "clv_simple",
    "avg_deal_size",
    "sales_velocity",
    "tam",
    "starting_mrr",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "ending_mrr",
}
# Cells Excel would run as a formula (PITFALLS.md).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    """Output formats."""

    table = "table"
    csv = "csv"
    json = "json"


class Period(StrEnum):
    """Cohort periods."""

    month = "month"
    quarter = "quarter"
    year = "year"


AS_OF = typer.Option(None, "--as-of", help="As-of month YYYY-MM (default: last complete month).")
WINDOW = typer.Option(None, "--window", min=1, help="Window in months (default 12).")
FORMAT = typer.Option(Format.table, "--format", help="table, csv or json.")
DATA = typer.Option(
    None,
    "--data",
    help="Folder of export files (accounts.csv, subscriptions.csv or mrr_monthly.csv, "
    "opportunities.csv) instead of the warehouse.",
)
BY = typer.Option("vertical", "--by", help="One or two dimensions, comma-separated.")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _check_segment(ds: Any, by: str, value: str) -> None:
    """A ``--segment`` no account has is a typo: name the values there are."""
    from metrics.model import MetricsError, check_dimensions

    check_dimensions([by])
    values = ds.accounts.get_column(by).unique().sort().to_list()
    if value not in values:
        raise MetricsError(f"no account has {by} {value!r}; the values are: {', '.join(values)}")


def _load(data: Path | None) -> tuple[Any, Any]:
    """The prepared dataset and settings, from ``--data`` or the warehouse."""
    from metrics.model import MetricsError, build_dataset
    from metrics.settings import MetricSettings

    try:
        if data is not None:
            from db.importer import ImportRefused
            from db.queries import read_export_folder

            settings = MetricSettings()
            try:
                frames = read_export_folder(data, settings)
            except ImportRefused as exc:
                # ImportRejected's text is the full report of every problem.
                raise _fail(f"{data} is not a valid export folder\n{exc}") from None
        else:
            from db.engine import get_engine
            from db.queries import load_frames, load_settings

            engine = get_engine()
            settings = load_settings(engine)
            frames = load_frames(engine)
        return build_dataset(frames, settings), settings
    except MetricsError as exc:
        raise _fail(str(exc)) from None


def _dims(by: str) -> list[str]:
    return [d.strip() for d in by.split(",") if d.strip()]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _cell(key: str, value: Any) -> str:
    """A value for the human-readable table."""
    if value is None:
        return "-"
    if key in RATIO_KEYS and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if key in MONEY_KEYS and isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return value


def _emit_rows(rows: list[dict[str, Any]], keys: list[str], fmt: Format) -> None:
    rows = [{k: _clean(r.get(k)) for k in keys} for r in rows]
    if fmt is Format.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif fmt is Format.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(keys)
        for r in rows:
            writer.writerow([_csv_cell(r[k]) for k in keys])
        typer.echo(buf.getvalue(), nl=False)
    else:
        typer.echo(_table(rows, keys))


def _table(rows: list[dict[str, Any]], keys: list[str]) -> str:
    cells = [[_cell(k, r[k]) for k in keys] for r in rows]
    widths = [max([len(k)] + [len(c[i]) for c in cells]) for i, k in enumerate(keys)]
    numeric = [
        all(isinstance(r[k], int | float) or r[k] is None for r in rows) and k not in ("cohort",)
        for k in keys
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(keys)), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _emit_items(items: list[dict[str, Any]], fmt: Format, kind: str) -> None:
    """Flags or alerts: JSON as they are, CSV one row each, table one block each."""
    items = [_clean(i) for i in items]
    if fmt is Format.json:
        typer.echo(json.dumps(items, indent=2, default=str))
        return
    if kind == "flags":
        keys = ["segment_label", "reason", "severity", "severity_score", "explanation", "evidence"]
    else:
        keys = ["type", "segment_label", "started", "explanation", "evidence"]
    if fmt is Format.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(keys)
        for item in items:
            writer.writerow([_csv_cell(item.get(k)) for k in keys])
        typer.echo(buf.getvalue(), nl=False)
        return
    if not items:
        typer.echo(f"No {kind}.")
    for item in items:
        head = (
            f"[{item['severity']}] {item['segment_label']} ({item['reason']})"
            if kind == "flags"
            else f"[{item['type']}] {item['segment_label']} since {item['started']}"
        )
        typer.echo(head)
        typer.echo(f"  {item['explanation']}")
        p = item["evidence"].get("p_value")
        if p is not None:
            typer.echo(f"  test: {item['evidence'].get('test')}, p = {p:.4f}")


@report_app.command("scorecard")
def scorecard(
    as_of: str = AS_OF,
    window: int = WINDOW,
    by: str = BY,
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """One row per segment: retention, CLV, sales metrics, market size and tier."""
    from metrics.model import MetricsError
    from metrics.scorecard import segment_scorecard

    ds, settings = _load(data)
    dims = _dims(by)
    try:
        table = segment_scorecard(ds, settings, as_of, window, by=dims)
    except MetricsError as exc:
        raise _fail(str(exc)) from None
    _emit_rows(table.to_dicts(), [*dims, *SCORECARD_KEYS], fmt)


@report_app.command("cohorts")
def cohorts(
    as_of: str = AS_OF,
    period: Period = typer.Option(Period.quarter, "--period", help="Cohort period."),
    by: str = typer.Option(None, "--by", help="Dimension of --segment."),
    segment: str = typer.Option(None, "--segment", help="Only this value of --by."),
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """Cohort NRR, GRR and logo retention by cohort and age in months."""
    from metrics.cohorts import cohort_curves
    from metrics.model import MetricsError

    if (by is None) != (segment is None):
        raise _fail("--by and --segment go together")
    ds, _ = _load(data)
    filters = {by: [segment]} if by else None
    try:
        if by:
            _check_segment(ds, by, segment)
        table = cohort_curves(ds, as_of, period.value, filters=filters)
    except MetricsError as exc:
        raise _fail(str(exc)) from None
    _emit_rows(table.to_dicts(), list(COHORT_KEYS), fmt)


@report_app.command("movements")
def movements(as_of: str = AS_OF, fmt: Format = FORMAT, data: Path = DATA) -> None:
    """MRR movements per month up to the as-of month, with the quick ratio."""
    from metrics.model import MetricsError
    from metrics.movements import mrr_movements

    ds, _ = _load(data)
    try:
        table = mrr_movements(ds, as_of)
    except MetricsError as exc:
        raise _fail(str(exc)) from None
    _emit_rows(table.to_dicts(), list(MOVEMENT_KEYS), fmt)


@report_app.command("flags")
def flags(
    as_of: str = AS_OF,
    window: int = WINDOW,
    by: str = BY,
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """Accidental ICP flags, most severe first, with their evidence."""
    from metrics.icp import accidental_icp_flags
    from metrics.model import MetricsError
    from metrics.scorecard import company_summary, segment_scorecard

    ds, settings = _load(data)
    dims = _dims(by)
    try:
        table = segment_scorecard(ds, settings, as_of, window, by=dims)
        company = company_summary(ds, settings, as_of, window, intervals=False)
    except MetricsError as exc:
        raise _fail(str(exc)) from None
    _emit_items(accidental_icp_flags(table, company, settings, dims), fmt, "flags")


@report_app.command("alerts")
def alerts(
    as_of: str = AS_OF,
    window: int = WINDOW,
    by: str = BY,
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """ICP drift alerts with their evidence, test and start."""
    from metrics.drift import drift_alerts
    from metrics.model import MetricsError

    ds, settings = _load(data)
    try:
        items = drift_alerts(ds, settings, as_of, window, by=_dims(by))
    except MetricsError as exc:
        raise _fail(str(exc)) from None
    _emit_items(items, fmt, "alerts")
