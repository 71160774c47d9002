"""Benchmark of ICP discovery: 100k synthetic accounts, 8 dimensions, depth 2.

The goal (issue 13) is under 5 s. The run also times the full scorecard by
vertical as ``bench_metrics`` does (retention, cohort CLV, sales metrics, tiers;
no bootstrap) on the same dataset in the same process and reports the ratio,
which travels across machines better than seconds do; and discovery without its
bootstrap intervals, which are most of its time. Two of the eight dimensions are custom attributes (extra text
columns of the accounts); one of them is made to track each account's growth so
that the rounds find pockets, as on real data, instead of stopping at round one.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time

import numpy as np
import polars as pl

ACCOUNTS = 100_000
REPEATS = 3
AS_OF = 2025 * 12 + 11  # 2025-12, the synthetic data's last month
WINDOW = 12
DEPTH = 2


def dataset(size: int):
    """The synthetic dataset with use case, lead source and two custom attributes filled."""
    from bench.synthetic import synthetic_frames
    from metrics.model import build_dataset
    from metrics.retention import window_pairs

    ds = build_dataset(synthetic_frames(size))
    rng = np.random.default_rng(11)
    n = ds.accounts.height
    growth = np.ones(n)
    pairs = window_pairs(ds, AS_OF - WINDOW, AS_OF)
    idx = pairs.get_column("idx").to_numpy()
    growth[idx] = (pairs.get_column("e") / pairs.get_column("s")).to_numpy()
    premium = rng.random(n) < np.where(growth > 1.1, 0.5, 0.2)
    plan = np.where(premium, "Premium", rng.choice(["Basic", "Team", "Business"], n))

    def pick(values: list[str]) -> pl.Series:
        return pl.Series(np.array(values)[rng.integers(0, len(values), n)])

    extra = {
        "use_case": pick(["Analytics", "Automation", "Compliance", "Onboarding", "Integration"]),
        "lead_source": pick(["Inbound", "Outbound", "Partner", "Event", "Referral"]),
        "plan": pl.Series(plan),
        "channel": pick(["Direct", "Reseller", "Marketplace", "OEM", "Agency", "Online"]),
    }
    return dataclasses.replace(ds, accounts=ds.accounts.with_columns(**extra))


def _median_seconds(fn, repeats: int) -> tuple[float, object]:
    fn()  # warm caches and thread pools
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def run(size: int = ACCOUNTS, repeats: int = REPEATS) -> dict[str, float]:
    """Time discovery and the scorecard on one dataset; print and return the figures."""
    from bench.engines import polars_scorecard
    from metrics.discovery import discover_pockets
    from metrics.settings import MetricSettings

    ds = dataset(size)
    dims = ds.dimensions
    t_disc, pockets = _median_seconds(
        lambda: discover_pockets(ds, MetricSettings(), AS_OF, WINDOW, DEPTH), repeats
    )
    no_boot = MetricSettings(bootstrap_samples=0)
    t_bare, _ = _median_seconds(
        lambda: discover_pockets(ds, no_boot, AS_OF, WINDOW, DEPTH), repeats
    )
    t_score, _ = _median_seconds(lambda: polars_scorecard(ds, AS_OF, WINDOW), repeats)
    print(
        f"{size:,} accounts, {len(dims)} dimensions, depth {DEPTH}: "
        f"{pockets.height} pockets, {int(pockets['accounts'].sum()):,} accounts in them "
        f"(medians of {repeats})"
    )
    print(f"{'discovery':<32}{t_disc:>8.3f} s   goal < 5 s")
    print(f"{'  without bootstrap intervals':<32}{t_bare:>8.3f} s")
    print(f"{'full scorecard by vertical':<32}{t_score:>8.3f} s")
    print(f"{'discovery / full scorecard':<32}{t_disc / t_score:>8.2f}")
    return {"discovery": t_disc, "bare": t_bare, "scorecard": t_score}


def main() -> None:
    """``python -m bench.bench_discovery`` (size from BENCH_DISCOVERY_ACCOUNTS)."""
    run(int(os.environ.get("BENCH_DISCOVERY_ACCOUNTS", ACCOUNTS)))


if __name__ == "__main__":
    main()
