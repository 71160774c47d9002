"""Small frames for hand-computed metric examples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl

from metrics.frames import SCHEMAS, Frames
from metrics.model import Dataset, build_dataset
from metrics.months import month_key
from metrics.settings import MetricSettings

# The canonical opportunity columns, amounts as plain floats for hand-computed examples.
OPP_SCHEMA = {
    **{c: t for c, t in SCHEMAS["opportunities"].items() if c != "lead_source"},
    "amount": pl.Float64,
}


def d(text: str) -> dt.date:
    """ISO date."""
    return dt.date.fromisoformat(text)


def accounts(rows: Iterable[tuple]) -> pl.DataFrame:
    """Accounts from (account_id, vertical[, sub_industry[, size_band]]) tuples."""
    rows = list(rows)
    cols: dict[str, list] = {"account_id": [], "vertical": [], "sub_industry": [], "size_band": []}
    for r in rows:
        cols["account_id"].append(r[0])
        cols["vertical"].append(r[1])
        cols["sub_industry"].append(r[2] if len(r) > 2 else None)
        cols["size_band"].append(r[3] if len(r) > 3 else None)
    return pl.DataFrame(cols, schema={k: pl.String for k in cols})


def subscriptions(rows: Iterable[tuple]) -> pl.DataFrame:
    """Subscriptions from (id, account, start, end or None, mrr) tuples (ISO dates)."""
    rows = list(rows)
    return pl.DataFrame(
        {
            "subscription_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "start_date": [d(r[2]) for r in rows],
            "end_date": [d(r[3]) if r[3] else None for r in rows],
            "mrr": [float(r[4]) for r in rows],
        },
        schema={
            "subscription_id": pl.String,
            "account_id": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
            "mrr": pl.Float64,
        },
    )


def monthly(rows: Iterable[tuple[str, str, float]]) -> pl.DataFrame:
    """mrr_monthly from (account, 'YYYY-MM', mrr) tuples."""
    rows = list(rows)
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "month": [d(r[1] + "-01") for r in rows],
            "mrr": [float(r[2]) for r in rows],
        },
        schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
    )


def series(account: str, first: str, values: Sequence[float]) -> list[tuple[str, str, float]]:
    """Monthly rows of one account from month ``first`` on (zeros are left out)."""
    k = month_key(first)
    return [
        (account, f"{(k + i) // 12:04d}-{(k + i) % 12 + 1:02d}", v)
        for i, v in enumerate(values)
        if v
    ]


def opportunities(rows: Iterable[tuple]) -> pl.DataFrame:
    """Opportunities from (id, account, type, created, close or None, status, amount)."""
    rows = list(rows)
    return pl.DataFrame(
        {
            "opportunity_id": [r[0] for r in rows],
            "account_id": [r[1] for r in rows],
            "opportunity_type": [r[2] for r in rows],
            "created_date": [d(r[3]) for r in rows],
            "close_date": [d(r[4]) if r[4] else None for r in rows],
            "status": [r[5] for r in rows],
            "amount": [float(r[6]) for r in rows],
        },
        schema=OPP_SCHEMA,
    )


def no_opportunities() -> pl.DataFrame:
    """An empty opportunities frame."""
    return pl.DataFrame(schema=OPP_SCHEMA)


def dataset(
    accs: pl.DataFrame,
    subs: pl.DataFrame | None = None,
    mrr: pl.DataFrame | None = None,
    opps: pl.DataFrame | None = None,
    settings: MetricSettings | None = None,
) -> Dataset:
    """Build the prepared dataset of small frames."""
    frames = Frames(
        accounts=accs,
        opportunities=opps if opps is not None else no_opportunities(),
        subscriptions=subs,
        mrr_monthly=mrr,
    )
    return build_dataset(frames, settings or MetricSettings())


def snapshot_dict(ds: Dataset) -> dict[tuple[str, str], float]:
    """{(account_id, 'YYYY-MM'): MRR} of a dataset's snapshot."""
    ids = ds.accounts.get_column("account_id")
    out = {}
    for idx, month, mrr in ds.snapshot.iter_rows():
        out[(ids[idx], f"{month // 12:04d}-{month % 12 + 1:02d}")] = mrr / 100
    return out
