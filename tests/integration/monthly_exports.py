"""Monthly exports of a small company whose tiers are known, for the history and digest tests.

Banking (24 accounts): Credit Unions expand 100 -> 130 a month over the window (NRR
130%, Core ICP) and Retail Banks stay at 100 (Healthy), so Banking is Healthy at
115%. Retail / Online (12 accounts) stays at 100 (Healthy) until ``CHURN_MONTH``, when
four of its accounts leave: its NRR falls to 67% and its tier to Accidental ICP.
Files for up to 2024-12 and for up to 2025-01 are two monthly imports in a row.
"""

from __future__ import annotations

from pathlib import Path

FIRST_MONTH = (2023, 12)
CHURN_MONTH = "2025-01"
CHURNED = ("R01", "R02", "R03", "R04")
SEGMENTS = {
    "C": ("Banking", "Credit Unions"),
    "B": ("Banking", "Retail Banks"),
    "R": ("Retail", "Online"),
}


def _months(last: str) -> list[str]:
    year, month = FIRST_MONTH
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def write_exports(folder: Path, last: str) -> list[Path]:
    """accounts.csv and mrr_monthly.csv with every month up to ``last`` (YYYY-MM)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"{p}{i:02d}" for p in SEGMENTS for i in range(1, 13)]
    accounts = ["account_id,account_name,vertical,sub_industry,created_date"]
    accounts += [f"{a},Account {a},{SEGMENTS[a[0]][0]},{SEGMENTS[a[0]][1]},2023-11-01" for a in ids]
    months = _months(last)
    mrr = ["account_id,month,mrr"]
    for a in ids:
        for age, month in enumerate(months):
            if a in CHURNED and month >= CHURN_MONTH:
                continue
            value = 100 + (min(age, 12) * 30 / 12 if a[0] == "C" else 0)
            mrr.append(f"{a},{month},{value:.2f}")
    paths = [folder / "accounts.csv", folder / "mrr_monthly.csv"]
    paths[0].write_text("\n".join(accounts) + "\n")
    paths[1].write_text("\n".join(mrr) + "\n")
    return paths
