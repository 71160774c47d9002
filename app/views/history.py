"""Tier history views: what the scorecard said before, and the change since then.

After every import, rollback and demo load, ``app.commands.history`` records what
:func:`snapshot` returns for the new data version: the tier, NRR, GRR and CLV of
the company, of each vertical and of each vertical's sub-industries (the segments
the scorecard opens on) at the default as-of month and window, from the views
themselves (METRICS.md, "Tier history"). The views below read those records back
through the context (``Context.history``: the versions up to the context's own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from app.views.columns import column, columns
from app.views.context import Context
from app.views.errors import ViewError
from app.views.evidence import alerts
from app.views.params import ViewParams, resolve
from app.views.registry import view
from app.views.scorecard import company_numbers, scorecard
from app.views.view import View
from db.history import HISTORY_SCHEMA, segment_key
from metrics.months import month_label

RECORDED = ((), ("vertical",), ("vertical", "sub_industry"))
"""The segments recorded: the company, the verticals, the sub-industries of each vertical."""
ALERTS_BY = ("vertical",)
"""The segments whose raised alerts are recorded (the navigation badge's view)."""
TIER_ORDER = ("accidental_icp", "watch", "healthy", "core_icp")
"""Rated tiers from worst to best: a move to the right is up."""

CHANGE_KEYS = (
    "tier", "previous_tier", "tier_change", "nrr", "previous_nrr", "nrr_change",
    "grr", "previous_grr", "clv", "previous_clv", "previous_as_of",
)
HISTORY_KEYS = ("month", "tier", "nrr", "grr", "clv", "accounts", "recorded")


def label(conditions: Mapping[str, str]) -> str:
    """A segment's name: its values joined by ' / ' ('Company' for no condition)."""
    return " / ".join(conditions.values()) if conditions else "Company"


def snapshot(ctx: Context, as_of: str | None = None, with_alerts: bool = True) -> list[dict]:
    """The rows to record for ``ctx`` at ``as_of`` (default: the data's) and the default
    window: one per recorded segment, with the alerts raised by vertical (``with_alerts``)."""
    rows = []
    for dims in RECORDED:
        p = resolve(ctx, as_of=as_of, by=dims)
        records = [company_numbers(ctx, p)] if not dims else scorecard(ctx, p).rows()
        raised: dict[str, list[str]] | None = None
        if with_alerts and dims == ALERTS_BY:
            raised = {}
            for a in alerts(ctx, p).items or ():
                if a["status"] == "raised":
                    raised.setdefault(segment_key(a["segment"]), []).append(a["type"])
        for r in records:
            conditions = {d: str(r[d]) for d in dims}
            rows.append(
                {
                    "as_of": p.as_of,
                    "window": p.window,
                    "dimensions": dims,
                    "segment": conditions,
                    "segment_label": label(conditions),
                    "accounts": r["accounts"],
                    "tier": r["tier"],
                    "nrr": r["nrr"],
                    "grr": r["grr"],
                    "clv": r["clv"],
                    "alerts": None if raised is None
                    else raised.get(segment_key(conditions), []),
                }
            )
    return rows


def history(ctx: Context) -> pl.DataFrame:
    """The recorded rows of the versions up to ``ctx``'s (empty without a record)."""
    return ctx.history if ctx.history is not None else pl.DataFrame(schema=HISTORY_SCHEMA)


def previous_month(ctx: Context, p: ViewParams) -> pl.DataFrame:
    """The record the scorecard compares with: the latest recorded as-of month before
    ``p``'s at the same window, as its newest data version stated it."""
    rows = history(ctx).filter((pl.col("as_of") < p.as_of) & (pl.col("window") == p.window))
    if rows.height == 0:
        return rows
    last = rows.sort("as_of", "data_version").row(-1, named=True)
    return rows.filter(
        (pl.col("as_of") == last["as_of"]) & (pl.col("data_version") == last["data_version"])
    )


def version_record(ctx: Context, version: int) -> pl.DataFrame:
    """What was recorded for data ``version`` at its default as-of month (a backfill may
    have added earlier months under the same version)."""
    rows = history(ctx).filter((pl.col("data_version") == version) & (pl.col("event") != "backfill"))
    if rows.height == 0:
        return rows
    return rows.filter(pl.col("as_of") == rows["as_of"].max())


def direction(tier: str | None, previous: str | None) -> str | None:
    """How a tier moved: up, down, same, or changed (to or from insufficient data);
    None without a previous tier."""
    if previous is None or tier is None:
        return None
    if tier == previous:
        return "same"
    if tier in TIER_ORDER and previous in TIER_ORDER:
        return "up" if TIER_ORDER.index(tier) > TIER_ORDER.index(previous) else "down"
    return "changed"


def compare(ctx: Context, p: ViewParams, base: pl.DataFrame) -> pl.DataFrame:
    """The scorecard of ``p`` beside the recorded ``base``, segment by segment: each row's
    tier, NRR, GRR and CLV now and then, and how the tier and NRR moved."""
    then = {r["segment"]: r for r in base.iter_rows(named=True)}
    fixed = p.segment()
    out = []
    for r in scorecard(ctx, p).rows():
        conditions = {**fixed, **{d: str(r[d]) for d in p.by}}
        before = then.get(segment_key(conditions), {})
        nrr, was = r["nrr"], before.get("nrr")
        out.append(
            {
                **{d: r[d] for d in p.by},
                "segment_label": label(conditions),
                "tier": r["tier"],
                "previous_tier": before.get("tier"),
                "tier_change": direction(r["tier"], before.get("tier")),
                "nrr": nrr,
                "previous_nrr": was,
                "nrr_change": None if nrr is None or was is None else nrr - was,
                "grr": r["grr"],
                "previous_grr": before.get("grr"),
                "clv": r["clv"],
                "previous_clv": before.get("clv"),
                "previous_as_of": month_label(before["as_of"]) if before else None,
            }
        )
    schema = {d: pl.String for d in p.by} | {
        "segment_label": pl.String, "tier": pl.String, "previous_tier": pl.String,
        "tier_change": pl.String, "nrr": pl.Float64, "previous_nrr": pl.Float64,
        "nrr_change": pl.Float64, "grr": pl.Float64, "previous_grr": pl.Float64,
        "clv": pl.Float64, "previous_clv": pl.Float64, "previous_as_of": pl.String,
    }
    return pl.DataFrame(out, schema=schema, orient="row")


def _changes_view(p: ViewParams, frame: pl.DataFrame, by: Sequence[str]) -> View:
    return View(
        "tier_changes",
        p,
        frame,
        (*(column(d) for d in by), column("segment_label"), *columns(*CHANGE_KEYS)),
        brief=("segment_label", "previous_tier", "tier", "previous_nrr", "nrr", "nrr_change"),
    )


@view("tier_changes", uses=("as_of", "window", "by", "filters"))
def tier_changes(ctx: Context, p: ViewParams) -> View:
    """The scorecard's segments against the previous recorded month: tier, NRR, GRR and
    CLV then and now (empty "previous" columns where nothing was recorded)."""
    return _changes_view(p, compare(ctx, p, previous_month(ctx, p)), p.by)


def changes_since(ctx: Context, version: int | None) -> View:
    """Every recorded segment now (default as-of and window) against what was recorded for
    data ``version`` (None: nothing to compare with): the verticals, then the
    sub-industries of each vertical."""
    base = history(ctx).clear() if version is None else version_record(ctx, version)
    if version is not None and base.height == 0:
        raise ViewError(f"nothing was recorded for data version {version}")
    parts = [compare(ctx, resolve(ctx, by=dims), base) for dims in RECORDED if dims]
    by = RECORDED[-1]
    frame = pl.concat(parts, how="diagonal_relaxed").select(*by, "segment_label", *CHANGE_KEYS)
    return _changes_view(resolve(ctx), frame, by)


@view("tier_history", uses=("as_of", "window", "filters"))
def tier_history(ctx: Context, p: ViewParams) -> View:
    """The segment's tier, NRR, GRR and CLV month by month: each recorded as-of month
    before ``p``'s as its newest data version stated it, then the as-of month now."""
    conditions = p.segment()
    rows = (
        history(ctx)
        .filter(
            (pl.col("segment") == segment_key(conditions))
            & (pl.col("window") == p.window)
            & (pl.col("as_of") < p.as_of)
        )
        .sort("as_of", "data_version")
        .unique("as_of", keep="last", maintain_order=True)
    )
    out: list[dict[str, Any]] = [
        {
            "month": month_label(r["as_of"]),
            "tier": r["tier"],
            "nrr": r["nrr"],
            "grr": r["grr"],
            "clv": r["clv"],
            "accounts": r["accounts"],
            "recorded": recorded_text(r),
        }
        for r in rows.iter_rows(named=True)
    ]
    now = scorecard(ctx, p.with_(by=())).rows()
    if now:
        r = now[0]
        out.append(
            {"month": p.as_of_label, **{k: r[k] for k in HISTORY_KEYS[1:-1]}, "recorded": "now"}
        )
    schema = {
        "month": pl.String, "tier": pl.String, "nrr": pl.Float64, "grr": pl.Float64,
        "clv": pl.Float64, "accounts": pl.Int64, "recorded": pl.String,
    }
    return View(
        "tier_history", p, pl.DataFrame(out, schema=schema, orient="row"),
        columns(*HISTORY_KEYS),
    )


def recorded_text(record: Mapping[str, Any]) -> str:
    """When and by what a record was made: 'import of batch 12, 2026-12-01'."""
    day = record["recorded_at"].strftime("%Y-%m-%d")
    what = {
        "import": "import",
        "rollback": "rollback",
        "demo": "demo load",
        "backfill": "backfill",
    }[record["event"]]
    batch = record.get("batch_id")
    if batch is not None and record["event"] in ("import", "rollback"):
        what += f" of batch {batch}"
    return f"{what}, {day}"


def baseline(ctx: Context, batch: int | None = None) -> dict[str, Any] | None:
    """The record a digest compares with: the one made when import ``batch`` committed,
    by default the newest one of a version before ``ctx``'s; its data version, event,
    batch, time and as-of month (``month``: YYYY-MM); None when nothing earlier is
    recorded."""
    rows = history(ctx).filter(pl.col("event") != "backfill")
    if batch is not None:
        rows = rows.filter((pl.col("batch_id") == batch) & (pl.col("event") == "import"))
        if rows.height == 0:
            raise ViewError(
                f"no tier history was recorded for the import of batch {batch} (see `icp "
                "import history`: a batch that failed, changed nothing or came before the "
                "history was kept has none)"
            )
    elif ctx.data_version is not None:
        rows = rows.filter(pl.col("data_version") < ctx.data_version)
    if rows.height == 0:
        return None
    record = rows.sort("data_version", "as_of").row(-1, named=True)
    return {**record, "month": month_label(record["as_of"])}


def raised_before(ctx: Context, version: int) -> set[tuple[str, str]]:
    """(segment, alert type) of the alerts recorded as raised at data ``version``."""
    rows = version_record(ctx, version).filter(pl.col("alerts").is_not_null())
    return {(r["segment"], t) for r in rows.iter_rows(named=True) for t in r["alerts"]}
