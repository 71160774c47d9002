"""``icp report``: the views of ICP Lens on the command line.

Reads the warehouse (default) or a folder of export files (``--data DIR``,
validated like an upload) and prints a view as a table, CSV or JSON. Every
command parses its arguments into ``ViewParams``, calls one view of
``app.views`` and renders it with ``app.views.render``: the numbers are the
pages' numbers. CSV and JSON keep keys and raw numbers (ratios as fractions,
1.07 not 107%; undefined values empty in CSV and ``null`` in JSON); the table
says which as-of month, window and dimensions it used and shows values as the
pages do.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

report_app = typer.Typer(
    help="Segment scorecard, unit economics, ICP priority, discovery and targets, cohorts, "
    "MRR movements, Accidental ICP flags, drift alerts and the accounts behind each number.",
    no_args_is_help=True,
)


class Format(StrEnum):
    """Output formats."""

    table = "table"
    csv = "csv"
    json = "json"


class Movement(StrEnum):
    """MRR movements (METRICS.md)."""

    new = "new"
    reactivation = "reactivation"
    expansion = "expansion"
    contraction = "contraction"
    churn = "churn"


class Period(StrEnum):
    """Cohort periods."""

    month = "month"
    quarter = "quarter"
    year = "year"


AS_OF = typer.Option(None, "--as-of", help="As-of month YYYY-MM (default: last complete month).")
WINDOW = typer.Option(
    None, "--window", min=1, help="Window in months (default: the settings', 12)."
)
FORMAT = typer.Option(Format.table, "--format", help="table, csv or json.")
DATA = typer.Option(
    None,
    "--data",
    help="Folder of export files (accounts.csv, subscriptions.csv or mrr_monthly.csv, "
    "opportunities.csv, spend.csv) instead of the warehouse.",
)
BY = typer.Option(
    "vertical", "--by", help="One or two dimensions, comma-separated, or company (one row)."
)
DEPTH = typer.Option(
    None, "--depth", min=1, max=3, help="Conditions a pocket may combine, 1 to 3 (default 2)."
)


DEMO_LINE = (
    "Demo data: these numbers describe a made-up company; `icp import` your exports to "
    "replace it."
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _report(
    name: str, data: Path | None, fmt: Format, sort: str | None = None, **arguments: Any
) -> None:
    """Load the data, resolve the params, compute view ``name`` and print it.

    ``sort`` (a column key) orders the rows in every format, largest numbers first.
    """
    from app.views import USER_ERRORS, VIEWS, render
    from app.views.context import folder_context, warehouse_context
    from app.views.params import from_cli

    try:
        ctx = folder_context(data) if data is not None else warehouse_context()
        result = VIEWS[name](ctx, from_cli(ctx, **arguments))
    except USER_ERRORS as exc:
        raise _fail(str(exc)) from None
    if sort is not None:
        if sort not in result.keys:
            raise _fail(f"--sort {sort!r} is not a column; use one of {', '.join(result.keys)}")
        result = result.sorted_by(sort).with_sort(sort)
    if fmt is Format.table and ctx.demo:
        typer.echo(DEMO_LINE)
    if fmt is Format.json:
        typer.echo(render.to_json(result))
    elif fmt is Format.csv:
        typer.echo(render.to_csv(result), nl=False)
    else:
        typer.echo(render.to_table(result))


@report_app.command("scorecard")
def scorecard(
    as_of: str = AS_OF,
    window: int = WINDOW,
    by: str = BY,
    fmt: Format = FORMAT,
    data: Path = DATA,
    sort: str = typer.Option(
        None, "--sort", help="Sort by this column, largest first (tables: NRR by default)."
    ),
) -> None:
    """One row per segment: retention, CLV, sales metrics, market size and tier."""
    _report("scorecard", data, fmt, sort, as_of=as_of, window=window, by=by)


@report_app.command("cohorts")
def cohorts(
    as_of: str = AS_OF,
    period: Period = typer.Option(
        None, "--period", help="Cohort period (default: the settings', quarter)."
    ),
    by: str = typer.Option(None, "--by", help="Dimension of --segment."),
    segment: str = typer.Option(None, "--segment", help="Only this value of --by."),
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """Cohort NRR, GRR and logo retention by cohort and age in months."""
    if (by is None) != (segment is None):
        raise _fail("--by and --segment go together")
    _report(
        "cohorts",
        data,
        fmt,
        as_of=as_of,
        period=period.value if period else None,
        by=by or "",
        segment=segment,
    )


@report_app.command("movements")
def movements(as_of: str = AS_OF, fmt: Format = FORMAT, data: Path = DATA) -> None:
    """MRR movements per month up to the as-of month, with the quick ratio."""
    _report("movements", data, fmt, as_of=as_of, by="")


def segment_report(name: str, summary: str, command_name: str | None = None) -> None:
    """Register ``icp report NAME`` (or ``command_name``): view ``name`` of the segments of
    --by, at --as-of over --window, as a table, CSV or JSON (the options every segment view
    takes)."""

    def command(
        as_of: str = AS_OF,
        window: int = WINDOW,
        by: str = BY,
        fmt: Format = FORMAT,
        data: Path = DATA,
    ) -> None:
        _report(name, data, fmt, as_of=as_of, window=window, by=by)

    command.__doc__ = summary
    report_app.command(command_name or name)(command)


segment_report("flags", "Accidental ICP flags, most severe first, with their evidence.")
segment_report("alerts", "ICP drift alerts with their evidence, test and start.")
segment_report(
    "economics",
    "Unit economics per segment: new customers, spend, CAC, LTV:CAC, CAC payback, allowable "
    "CAC and magic number (spend from the optional spend file).",
)
segment_report(
    "tier_changes",
    "Each segment's tier, NRR, GRR and CLV against the previous month recorded in the "
    "tier history (recorded for verticals and the sub-industries of a vertical).",
    "changes",
)


@report_app.command("history")
def history(
    vertical: str = typer.Option(..., "--vertical", help="The vertical."),
    sub_industry: str = typer.Option(
        None, "--sub-industry", help="One of its sub-industries (default: the whole vertical)."
    ),
    as_of: str = AS_OF,
    window: int = WINDOW,
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """A vertical's (or sub-industry's) tier, NRR, GRR and CLV month by month, as each
    import recorded it, then the as-of month now."""
    where = {"vertical": vertical, **({"sub_industry": sub_industry} if sub_industry else {})}
    _report("tier_history", data, fmt, as_of=as_of, window=window, by="", where=where)


@report_app.command("accounts")
def accounts(
    by: str = typer.Option(None, "--by", help="Dimension of --segment."),
    segment: str = typer.Option(None, "--segment", help="Only this value of --by (default: all)."),
    as_of: str = AS_OF,
    window: int = WINDOW,
    movement: Movement = typer.Option(
        None, "--movement", help="The accounts of this MRR movement in --month."
    ),
    month: str = typer.Option(None, "--month", help="Month YYYY-MM of --movement."),
    cohort: str = typer.Option(
        None, "--cohort", help="The accounts of this cohort (2024Q1, 2024-03 or 2024) at --age."
    ),
    age: int = typer.Option(None, "--age", min=0, help="Age in months of the --cohort cell."),
    deals: str = typer.Option(
        None, "--deals", help="The new-business deals of these statuses: won, lost, open "
        "(comma-separated; won and lost closed in the window, open at the as-of month)."
    ),
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """The accounts behind a number, summing to it: by default the segment's starting
    cohort of window retention (start MRR, end MRR, status); or one movement's accounts
    in a month, one cohort cell's accounts, or the deals behind the win rate."""
    if (by is None) != (segment is None):
        raise _fail("--by and --segment go together")
    if month is not None and as_of is not None:
        raise _fail("--month is the as-of month of --movement: give one of them")
    if month is not None and movement is None:
        raise _fail("--month goes with --movement")
    _report(
        "accounts",
        data,
        fmt,
        as_of=month or as_of,
        window=window,
        by=by or "",
        segment=segment,
        movement=movement.value if movement else None,
        cohort=cohort,
        age=age,
        deals=tuple(d.strip() for d in (deals or "").split(",") if d.strip()),
    )


segment_report(
    "priority",
    "Rated segments in priority order (CLV, NRR, logo retention, then TAM) with the reason.",
)


@report_app.command("discover")
def discover(
    depth: int = DEPTH,
    as_of: str = AS_OF,
    window: int = WINDOW,
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """Pockets of attributes whose NRR differs from the rest, in the order found."""
    _report("discover", data, fmt, as_of=as_of, window=window, by="", depth=depth)


@report_app.command("targets")
def targets(
    as_of: str = AS_OF,
    window: int = WINDOW,
    depth: int = DEPTH,
    fmt: Format = FORMAT,
    data: Path = DATA,
) -> None:
    """Target accounts by expected value, with fit score 0-100 and pocket (CSV for ABM)."""
    _report("targets", data, fmt, as_of=as_of, window=window, by="", depth=depth)


@report_app.command("board")
def board(
    out: Path = typer.Option(..., "--out", dir_okay=False, help="The PDF file to write."),
    png: Path = typer.Option(
        None, "--png", dir_okay=False, help="Also write the scorecard (KPIs and table) as a PNG."
    ),
    as_of: str = AS_OF,
    window: int = WINDOW,
    by: str = typer.Option("vertical", "--by", help="The dimension of the segments."),
    data: Path = DATA,
) -> None:
    """The board pack as a PDF: headline KPIs, the scorecard with each segment's change
    since the previous month, the ICP map, the flags and raised alerts with their evidence,
    and unit economics when spend was imported; printed by headless Chromium."""
    from app.board import BoardPackError, board_pack, board_pdf
    from app.views import USER_ERRORS
    from app.views.context import folder_context, warehouse_context
    from app.views.params import from_cli

    try:
        ctx = folder_context(data) if data is not None else warehouse_context()
        params = from_cli(ctx, as_of=as_of, window=window, by=by)
        if len(params.by) != 1:
            raise _fail("--by takes one dimension: the board pack shows one scorecard")
        if png is None:
            out.write_bytes(board_pdf(ctx, params))
        else:
            pdf, picture = board_pack(ctx, params)
            out.write_bytes(pdf)
            png.write_bytes(picture)
    except (*USER_ERRORS, BoardPackError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"board pack ({params.describe(('as_of', 'window', 'by'))}) written to {out}")
    if png is not None:
        typer.echo(f"scorecard written to {png}")
