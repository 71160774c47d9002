"""The core metric computations in three engines, on the same prepared frames.

Input (all engines): ``subs`` with ``idx`` (account number), ``start_date``,
``end_date`` (inclusive, null = open) and ``mrr`` in integer cents, and
``accounts`` with ``idx`` and ``vertical``. Each engine computes the same four
results, compared value by value in the benchmark:

- snapshot: MRR per account and month (active on the month's last day);
- retention: NRR, GRR, logo retention and ARPA per vertical over the window;
- cohorts: quarterly-cohort NRR, GRR and logo retention by age in months;
- movements: new, reactivation, expansion, contraction, churn per month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings

STEPS = ("snapshot", "retention", "cohorts", "movements")


# ---------------------------------------------------------------- polars (metrics/)
def polars_scorecard(ds: object, as_of: int, window: int) -> pl.DataFrame:
    """Full scorecard: retention, cohort CLV (sBG), secondary metrics, tiers."""
    return segment_scorecard(
        ds, MetricSettings(bootstrap_samples=0), as_of, window, by=["vertical"], intervals=False
    )


# ---------------------------------------------------------------- DuckDB SQL
DUCK_SNAPSHOT = """
CREATE OR REPLACE TEMP TABLE snap AS
WITH iv AS (
  SELECT idx, mrr,
         year(start_date) * 12 + month(start_date) - 1 AS f,
         LEAST(COALESCE(year(end_date + 1) * 12 + month(end_date + 1) - 2, {h}), {h}) AS l
  FROM subs WHERE mrr > 0
)
SELECT idx, m AS month, SUM(mrr)::BIGINT AS mrr
FROM iv, LATERAL unnest(range(f, l + 1)) AS t(m)
WHERE l >= f
GROUP BY idx, m
"""
DUCK_RETENTION = """
WITH s AS (SELECT idx, mrr AS s FROM snap WHERE month = {start}),
     e AS (SELECT idx, mrr AS e FROM snap WHERE month = {m}),
     p AS (SELECT s.idx, s.s, COALESCE(e.e, 0) AS e FROM s LEFT JOIN e USING (idx)),
     r AS (SELECT a.vertical, COUNT(*) AS accounts, SUM(s) AS s, SUM(e) AS e,
                  SUM(LEAST(s, e)) AS g, SUM(CASE WHEN e > 0 THEN 1 ELSE 0 END) AS kept
           FROM p JOIN accounts a USING (idx) GROUP BY a.vertical),
     n AS (SELECT a.vertical, COUNT(*) AS active, SUM(mrr) AS mrr
           FROM snap JOIN accounts a USING (idx) WHERE month = {m} GROUP BY a.vertical)
SELECT r.vertical, accounts, e / s AS nrr, g / s AS grr, kept / accounts AS logo_retention,
       n.mrr / n.active / 100.0 AS arpa
FROM r LEFT JOIN n USING (vertical) ORDER BY r.vertical
"""
DUCK_COHORTS = """
WITH f AS (SELECT idx, MIN(month) AS f, arg_min(mrr, month) AS s FROM snap
           WHERE month <= {m} GROUP BY idx),
     num AS (SELECT f.f - f.f % 3 AS c, snap.month - f.f AS age, SUM(snap.mrr) AS e,
                    SUM(LEAST(snap.mrr, f.s)) AS g, COUNT(*) AS active
             FROM snap JOIN f USING (idx) WHERE snap.month <= {m} GROUP BY 1, 2),
     firsts AS (SELECT f - f % 3 AS c, f, COUNT(*) AS n, SUM(s) AS s FROM f GROUP BY 1, 2),
     den AS (SELECT c, age, SUM(n) AS accounts, SUM(s) AS s
             FROM firsts, LATERAL unnest(range(0, {m} - f + 1)) AS t(age) GROUP BY 1, 2)
SELECT den.c AS cohort_start, den.age, den.accounts,
       COALESCE(num.e, 0) / den.s AS nrr, COALESCE(num.g, 0) / den.s AS grr,
       COALESCE(num.active, 0) / den.accounts AS logo_retention
FROM den LEFT JOIN num USING (c, age) ORDER BY 1, 2
"""
DUCK_MOVEMENTS = """
WITH w AS (
  SELECT month, mrr,
         LAG(month) OVER (PARTITION BY idx ORDER BY month) AS pm,
         LAG(mrr) OVER (PARTITION BY idx ORDER BY month) AS pmrr,
         LEAD(month) OVER (PARTITION BY idx ORDER BY month) AS nm
  FROM snap
),
per AS (
  SELECT month,
         SUM(mrr) AS ending,
         SUM(CASE WHEN pm IS NULL THEN mrr ELSE 0 END) AS new,
         SUM(CASE WHEN pm < month - 1 THEN mrr ELSE 0 END) AS reactivation,
         SUM(CASE WHEN pm = month - 1 AND mrr > pmrr THEN mrr - pmrr ELSE 0 END) AS expansion,
         SUM(CASE WHEN pm = month - 1 AND mrr < pmrr THEN pmrr - mrr ELSE 0 END) AS contraction
  FROM w GROUP BY month
),
ch AS (SELECT month + 1 AS month, SUM(mrr) AS churn FROM w
       WHERE nm IS NULL OR nm > month + 1 GROUP BY 1)
SELECT per.month, COALESCE(LAG(ending) OVER (ORDER BY per.month), 0) / 100.0 AS starting_mrr,
       new / 100.0 AS new, reactivation / 100.0 AS reactivation, expansion / 100.0 AS expansion,
       contraction / 100.0 AS contraction, COALESCE(ch.churn, 0) / 100.0 AS churn,
       ending / 100.0 AS ending_mrr
FROM per LEFT JOIN ch USING (month) WHERE per.month <= {m} ORDER BY per.month
"""


# ---------------------------------------------------------------- pandas
def _month_key(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 12 + dates.dt.month - 1


def pandas_snapshot(subs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """MRR per account and month: intervals repeated per month, then summed per (idx, month)."""
    first = _month_key(subs["start_date"])
    last = (_month_key(subs["end_date"] + pd.Timedelta(days=1)) - 1).fillna(horizon)
    last = last.clip(upper=horizon).astype("int64")
    iv = pd.DataFrame({"idx": subs["idx"], "f": first, "l": last, "mrr": subs["mrr"]})
    iv = iv[(iv["l"] >= iv["f"]) & (iv["mrr"] > 0)]
    rep = iv.loc[iv.index.repeat((iv["l"] - iv["f"] + 1).to_numpy())]
    month = rep["f"].to_numpy() + rep.groupby(level=0).cumcount().to_numpy()
    return (
        pd.DataFrame({"idx": rep["idx"].to_numpy(), "month": month, "mrr": rep["mrr"].to_numpy()})
        .groupby(["idx", "month"], as_index=False, sort=True)["mrr"]
        .sum()
    )


def pandas_retention(
    snap: pd.DataFrame, accounts: pd.DataFrame, as_of: int, window: int
) -> pd.DataFrame:
    """NRR, GRR, logo retention and ARPA per vertical."""
    verticals = accounts.set_index("idx")["vertical"]
    s = snap.loc[snap["month"] == as_of - window, ["idx", "mrr"]].rename(columns={"mrr": "s"})
    e = snap.loc[snap["month"] == as_of, ["idx", "mrr"]].rename(columns={"mrr": "e"})
    p = s.merge(e, on="idx", how="left").fillna({"e": 0})
    p["vertical"] = p["idx"].map(verticals)
    p["g"] = np.minimum(p["s"], p["e"])
    p["kept"] = p["e"] > 0
    r = p.groupby("vertical").agg(
        accounts=("s", "size"), s=("s", "sum"), e=("e", "sum"), g=("g", "sum"), kept=("kept", "sum")
    )
    now = e.assign(vertical=e["idx"].map(verticals)).groupby("vertical")["e"].agg(["size", "sum"])
    return pd.DataFrame(
        {
            "accounts": r["accounts"],
            "nrr": r["e"] / r["s"],
            "grr": r["g"] / r["s"],
            "logo_retention": r["kept"] / r["accounts"],
            "arpa": now["sum"] / now["size"] / 100.0,
        }
    ).reset_index()


def pandas_cohorts(snap: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Quarterly-cohort NRR, GRR and logo retention by age."""
    upto = snap[snap["month"] <= as_of]
    f = upto.groupby("idx").agg(f=("month", "first"), s=("mrr", "first"))
    rows = upto.join(f, on="idx")
    rows["c"] = rows["f"] - rows["f"] % 3
    rows["age"] = rows["month"] - rows["f"]
    rows["g"] = np.minimum(rows["mrr"], rows["s"])
    num = rows.groupby(["c", "age"]).agg(e=("mrr", "sum"), g=("g", "sum"), active=("mrr", "size"))
    firsts = (
        f.assign(c=f["f"] - f["f"] % 3).groupby(["c", "f"]).agg(n=("s", "size"), s=("s", "sum"))
    )
    firsts = firsts.reset_index()
    den = firsts.loc[firsts.index.repeat((as_of - firsts["f"] + 1).to_numpy())]
    den = den.assign(age=den.groupby(level=0).cumcount().to_numpy())
    den = den.groupby(["c", "age"]).agg(accounts=("n", "sum"), s=("s", "sum"))
    coh = den.join(num, how="left").fillna(0)
    return (
        pd.DataFrame(
            {
                "accounts": coh["accounts"],
                "nrr": coh["e"] / coh["s"],
                "grr": coh["g"] / coh["s"],
                "logo_retention": coh["active"] / coh["accounts"],
            }
        )
        .reset_index()
        .rename(columns={"c": "cohort_start"})
    )


def pandas_movements(snap: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Movements per month from the snapshot sorted by (idx, month)."""
    g = snap.groupby("idx", sort=False)
    pm, pmrr, nm = g["month"].shift(1), g["mrr"].shift(1), g["month"].shift(-1)
    mrr, mon = snap["mrr"], snap["month"]
    cont = pm == mon - 1
    per = (
        pd.DataFrame(
            {
                "month": mon,
                "ending": mrr,
                "new": mrr.where(pm.isna(), 0),
                "reactivation": mrr.where(pm.notna() & ~cont, 0),
                "expansion": (mrr - pmrr).where(cont, 0).clip(lower=0),
                "contraction": (pmrr - mrr).where(cont, 0).clip(lower=0),
            }
        )
        .groupby("month")
        .sum()
    )
    churn = mrr.where(nm.isna() | (nm > mon + 1), 0).groupby(mon + 1).sum()
    per["churn"] = churn.reindex(per.index, fill_value=0)
    per["starting"] = per["ending"].shift(1, fill_value=0)
    return (per.loc[per.index <= as_of] / 100.0).reset_index()
