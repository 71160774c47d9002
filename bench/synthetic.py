"""Synthetic warehouse frames for the benchmarks: accounts with monthly MRR 2016-2025."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from metrics.frames import Frames

FIRST_MONTH = 2016 * 12
MONTHS = 120
VERTICALS = (
    "Financial Services",
    "Insurance",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Software",
    "Education",
    "Logistics",
    "Media",
    "Public Sector",
)
SUB_INDUSTRIES = ("A", "B", "C", "D")
SIZE_BANDS = ("SMB", "Mid-Market", "Enterprise")
REGIONS = ("NA", "EMEA", "APAC", "LATAM")


def _dates(month_keys: np.ndarray, day: np.ndarray | int) -> pl.Series:
    years, months = np.divmod(month_keys, 12)
    return pl.select(
        pl.date(
            pl.Series(years),
            pl.Series(months + 1),
            pl.Series(np.broadcast_to(day, month_keys.shape)),
        )
    ).to_series()


def _month_ends(month_keys: np.ndarray) -> pl.Series:
    return _dates(month_keys, 1).dt.month_end()


def synthetic_frames(accounts: int, seed: int = 7) -> Frames:
    """About 43 active months and 5 subscriptions per account, 2016-01 to 2025-12."""
    rng = np.random.default_rng(seed)
    n = accounts
    start = rng.integers(0, MONTHS, n)
    life = rng.geometric(1 / 90, n)
    stop = np.minimum(start + life, MONTHS)  # exclusive
    still_active = start + life >= MONTHS
    pieces = 1 + rng.poisson(3.2, n)
    # Break each account's span into consecutive subscriptions with drifting MRR.
    acc = np.repeat(np.arange(n), pieces)
    first = np.cumsum(pieces) - pieces
    j = np.arange(acc.size) - np.repeat(first, pieces)
    span = (stop - start)[acc]
    b0 = start[acc] + (span * j) // pieces[acc]
    b1 = start[acc] + (span * (j + 1)) // pieces[acc]
    keep = b1 > b0
    acc, j, b0, b1 = acc[keep], j[keep], b0[keep], b1[keep]
    base = rng.lognormal(6.0, 0.8, n)
    mrr = np.round(base[acc] * (1 + 0.15 * j) * rng.uniform(0.8, 1.2, acc.size), 2)
    last_piece = b1 == stop[acc]
    open_end = last_piece & still_active[acc]
    # Add-ons overlapping the main subscriptions for a fifth of the accounts.
    add = rng.random(n) < 0.2
    add_acc = np.nonzero(add & (stop - start > 2))[0]
    a0 = start[add_acc] + 1
    a1 = stop[add_acc] - 1
    acc = np.concatenate([acc, add_acc])
    b0 = np.concatenate([b0, a0])
    b1 = np.concatenate([b1, a1])
    mrr = np.concatenate([mrr, np.round(base[add_acc] * 0.3, 2)])
    open_end = np.concatenate([open_end, np.zeros(add_acc.size, dtype=bool)])
    ends = _month_ends(FIRST_MONTH + b1 - 1)
    subs = pl.DataFrame(
        {
            "subscription_id": pl.Series(np.arange(acc.size)).cast(pl.String),
            "account_id": pl.Series(acc).cast(pl.String).str.zfill(7),
            "start_date": _dates(FIRST_MONTH + b0, rng.integers(1, 28, acc.size)),
            "end_date": ends,
            "mrr": mrr,
        }
    ).with_columns(
        pl.when(pl.Series(open_end)).then(None).otherwise(pl.col("end_date")).alias("end_date")
    )
    ids = pl.Series(np.arange(n)).cast(pl.String).str.zfill(7)
    accounts_df = pl.DataFrame(
        {
            "account_id": ids,
            "vertical": pl.Series(np.array(VERTICALS)[rng.integers(0, len(VERTICALS), n)]),
            "sub_industry": pl.Series(np.array(SUB_INDUSTRIES)[rng.integers(0, 4, n)]),
            "size_band": pl.Series(np.array(SIZE_BANDS)[rng.integers(0, 3, n)]),
            "region": pl.Series(np.array(REGIONS)[rng.integers(0, 4, n)]),
            "employees": rng.integers(5, 5000, n),
        }
    )
    m = n * 2
    o_acc = rng.integers(0, n, m)
    created = FIRST_MONTH + np.minimum(start[o_acc], MONTHS - 1)
    created_dates = _dates(created, rng.integers(1, 28, m))
    dur = rng.gamma(2.0, 30.0, m).astype(np.int64)
    status = np.array(["won", "lost", "open"])[rng.choice(3, m, p=[0.3, 0.6, 0.1])]
    opps = (
        pl.DataFrame(
            {
                "opportunity_id": pl.Series(np.arange(m)).cast(pl.String),
                "account_id": pl.Series(o_acc).cast(pl.String).str.zfill(7),
                "opportunity_type": "new_business",
                "created_date": created_dates,
                "close_date": created_dates + pl.Series(dur).cast(pl.Duration("ms")) * 86_400_000,
                "status": status,
                "amount": np.round(rng.lognormal(9.5, 0.7, m), 2),
            }
        )
        .with_columns(
            pl.when(pl.col("status") == "open")
            .then(None)
            .otherwise(pl.col("close_date"))
            .alias("close_date"),
        )
        .with_columns(
            pl.when(pl.col("close_date") > dt.date(2025, 12, 31))
            .then(None)
            .otherwise(pl.col("close_date"))
            .alias("close_date"),
            pl.when(pl.col("close_date") > dt.date(2025, 12, 31))
            .then(pl.lit("open"))
            .otherwise(pl.col("status"))
            .alias("status"),
        )
    )
    return Frames(accounts=accounts_df, opportunities=opps, subscriptions=subs)
