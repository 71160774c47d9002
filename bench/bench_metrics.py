"""Benchmark of the metrics layer against DuckDB SQL and pandas on the same frames.

For 10k, 100k and 500k synthetic accounts (monthly MRR 2016-2025) the frames are
generated once, prepared (account numbers, cents) and written to Parquet; each
engine then runs in a fresh subprocess (so peak memory, ``ru_maxrss``, is its
own) and times the same four steps: snapshot, retention per vertical, quarterly
cohorts and movements. Polars also times the full recompute the dashboard does
(snapshot + full scorecard with CLV and sales metrics + cohorts + movements).
Results agree across engines to 1e-9 or the run says so. Sizes can be chosen
with ``BENCH_SIZES=10000,100000``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

RESULTS = Path(__file__).parent / "results"
SIZES = (10_000, 100_000, 500_000)
REPEATS = {10_000: 5, 100_000: 5, 500_000: 1}
HORIZON = 2025 * 12 + 11  # 2025-12
WINDOW = 12
ENGINES = ("polars", "duckdb", "pandas")
STEPS = ("snapshot", "retention", "cohorts", "movements")
TOLERANCE = 1e-9


def prepare(size: int, folder: Path) -> dict[str, int]:
    """Generate, prepare and store the frames of one size; return their row counts."""
    from bench.synthetic import synthetic_frames
    from metrics.model import build_dataset

    frames = synthetic_frames(size)
    ds = build_dataset(frames)
    subs = frames.subscriptions.join(ds.accounts.select("account_id", "idx"), on="account_id")
    subs = subs.select(
        pl.col("idx").cast(pl.Int64),
        "start_date",
        "end_date",
        (pl.col("mrr") * 100).round(0).cast(pl.Int64).alias("mrr"),
    )
    subs.write_parquet(folder / "subs.parquet")
    ds.accounts.select(
        "idx",
        "account_id",
        *[
            c
            for c in ds.accounts.columns
            if c
            in (
                "vertical",
                "sub_industry",
                "size_band",
                "region",
                "use_case",
                "lead_source",
                "employees",
            )
        ],
    ).write_parquet(folder / "accounts.parquet")
    ds.opportunities.write_parquet(folder / "opportunities.parquet")
    return {"accounts": size, "subscriptions": subs.height, "account_months": ds.snapshot.height}


_CPU: dict[str, float] = {}


def _timed(step: str, fn, *args):
    """Run ``fn``; return its result and wall seconds, recording its CPU seconds in _CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    _CPU[step] = time.process_time() - cpu
    return out, time.perf_counter() - wall


def child(engine: str, folder: Path, repeats: int) -> dict[str, object]:
    """Run one engine ``repeats`` times (after a warm-up) and report times and peak memory."""
    runner = {"polars": _polars, "duckdb": _duckdb, "pandas": _pandas}[engine]
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    warm = 1 if repeats > 1 else 0  # the first run warms caches and thread pools
    for i in range(repeats + warm):
        out, steps = runner(folder)
        if i >= warm:
            for step, t in steps.items():
                times.setdefault(step, []).append(t)
                cpu.setdefault(step, []).append(_CPU[step])
    for name in ("retention", "cohorts", "movements"):
        out[name].write_parquet(folder / f"{engine}_{name}.parquet")
    core = [sum(times[s][i] for s in STEPS) for i in range(repeats)]
    return {
        "engine": engine,
        "median": {s: statistics.median(v) for s, v in times.items()},
        "min": {s: min(v) for s, v in times.items()},
        "core_median": statistics.median(core),
        "core_min": min(core),
        "cpu_median": {s: statistics.median(v) for s, v in cpu.items()},
        "core_cpu_median": statistics.median(
            [sum(cpu[s][i] for s in STEPS) for i in range(repeats)]
        ),
        "snapshot_check": list(out["snapshot"]),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


_LOADED: dict[str, object] = {}


def _load(folder: Path, engine: str) -> dict[str, object]:
    if engine not in _LOADED:
        if engine == "pandas":
            import pandas as pd

            subs = pd.read_parquet(folder / "subs.parquet")
            for c in ("start_date", "end_date"):
                subs[c] = pd.to_datetime(subs[c])
            accounts = pd.read_parquet(folder / "accounts.parquet", columns=["idx", "vertical"])
            _LOADED[engine] = {"subs": subs, "accounts": accounts}
        elif engine == "duckdb":
            import duckdb

            con = duckdb.connect()
            con.execute(
                f"CREATE TABLE subs AS SELECT * FROM read_parquet('{folder / 'subs.parquet'}')"
            )
            con.execute(
                "CREATE TABLE accounts AS SELECT idx, vertical FROM "
                f"read_parquet('{folder / 'accounts.parquet'}')"
            )
            _LOADED[engine] = {"con": con}
        else:
            _LOADED[engine] = {
                name: pl.read_parquet(folder / f"{name}.parquet")
                for name in ("subs", "accounts", "opportunities")
            }
    return _LOADED[engine]


def _polars(folder: Path) -> tuple[dict[str, object], dict[str, float]]:
    from bench.engines import polars_scorecard
    from metrics.cohorts import cohort_curves
    from metrics.model import assemble_dataset
    from metrics.movements import mrr_movements
    from metrics.mrr import expand_runs, runs_from_subscriptions
    from metrics.retention import window_retention

    data = _load(folder, "polars")
    t = {}
    # The snapshot step expands the runs to one row per account-month, as DuckDB and
    # pandas do, though the metrics read only the runs (a conservative full recompute).
    (runs, snap), t["snapshot"] = _timed(
        "snapshot",
        lambda: (r := runs_from_subscriptions(data["subs"], HORIZON), expand_runs(r)),
    )
    ds, t_ds = _timed(
        "assemble",
        assemble_dataset,
        data["accounts"],
        data["opportunities"],
        runs,
        HORIZON,
        HORIZON,
    )
    t["snapshot"] += t_ds
    _CPU["snapshot"] += _CPU.pop("assemble")
    ret, t["retention"] = _timed("retention", window_retention, ds, HORIZON, WINDOW, ["vertical"])
    coh, t["cohorts"] = _timed("cohorts", cohort_curves, ds, HORIZON, "quarter")
    mov, t["movements"] = _timed("movements", mrr_movements, ds, HORIZON)
    _, t["scorecard"] = _timed("scorecard", polars_scorecard, ds, HORIZON, WINDOW)
    t["full_recompute"] = t["snapshot"] + t["scorecard"] + t["cohorts"] + t["movements"]
    _CPU["full_recompute"] = sum(_CPU[k] for k in ("snapshot", "scorecard", "cohorts", "movements"))
    out = {
        "retention": ret,
        "cohorts": coh,
        "movements": mov,
        "snapshot": (snap.height, int(snap["mrr"].sum())),
    }
    return out, t


def _duckdb(folder: Path) -> tuple[dict[str, object], dict[str, float]]:
    from bench.engines import DUCK_COHORTS, DUCK_MOVEMENTS, DUCK_RETENTION, DUCK_SNAPSHOT

    con = _load(folder, "duckdb")["con"]
    t = {}
    _, t["snapshot"] = _timed("snapshot", con.execute, DUCK_SNAPSHOT.format(h=HORIZON))
    ret, t["retention"] = _timed(
        "retention", lambda: con.sql(DUCK_RETENTION.format(start=HORIZON - WINDOW, m=HORIZON)).pl()
    )
    coh, t["cohorts"] = _timed("cohorts", lambda: con.sql(DUCK_COHORTS.format(m=HORIZON)).pl())
    mov, t["movements"] = _timed(
        "movements", lambda: con.sql(DUCK_MOVEMENTS.format(m=HORIZON)).pl()
    )
    out = {
        "retention": ret,
        "cohorts": coh,
        "movements": mov,
        "snapshot": con.execute("SELECT COUNT(*), SUM(mrr) FROM snap").fetchone(),
    }
    return out, t


def _pandas(folder: Path) -> tuple[dict[str, object], dict[str, float]]:
    from bench.engines import pandas_cohorts, pandas_movements, pandas_retention, pandas_snapshot

    data = _load(folder, "pandas")
    t = {}
    snap, t["snapshot"] = _timed("snapshot", pandas_snapshot, data["subs"], HORIZON)
    ret, t["retention"] = _timed(
        "retention", pandas_retention, snap, data["accounts"], HORIZON, WINDOW
    )
    coh, t["cohorts"] = _timed("cohorts", pandas_cohorts, snap, HORIZON)
    mov, t["movements"] = _timed("movements", pandas_movements, snap, HORIZON)
    out = {
        "retention": pl.from_pandas(ret),
        "cohorts": pl.from_pandas(coh),
        "movements": pl.from_pandas(mov),
        "snapshot": (len(snap), int(snap["mrr"].sum())),
    }
    return out, t


def compare(folder: Path) -> list[str]:
    """Differences between the engines' results (empty when all agree to 1e-9)."""
    problems = []
    keys = {"retention": ["vertical"], "cohorts": ["cohort_start", "age"], "movements": ["month"]}
    cols = {
        "retention": ["accounts", "nrr", "grr", "logo_retention", "arpa"],
        "cohorts": ["accounts", "nrr", "grr", "logo_retention"],
        "movements": ["new", "reactivation", "expansion", "contraction", "churn"],
    }
    for name, key in keys.items():
        ref = pl.read_parquet(folder / f"polars_{name}.parquet")
        if name == "movements":
            ref = ref.drop("month").rename({"month_key": "month"})
        ref = ref.select(*key, *(pl.col(c).cast(pl.Float64) for c in cols[name]))
        for engine in ("duckdb", "pandas"):
            other = pl.read_parquet(folder / f"{engine}_{name}.parquet").select(
                *(pl.col(k).cast(ref.schema[k]) for k in key),
                *(pl.col(c).cast(pl.Float64) for c in cols[name]),
            )
            joined = ref.join(other, on=key, how="inner", suffix="_o")
            if not joined.height == ref.height == other.height:
                problems.append(
                    f"{engine} {name}: {other.height} rows against {ref.height}, "
                    f"{joined.height} in common"
                )
            for c in cols[name]:
                diff = joined.select((pl.col(c) - pl.col(f"{c}_o")).abs().max()).item()
                scale = max(1.0, joined.select(pl.col(c).abs().max()).item() or 0.0)
                if diff is not None and diff > TOLERANCE * scale:
                    problems.append(f"{engine} {name}.{c}: max difference {diff:.3g}")
    return problems


def run(sizes: tuple[int, ...] = SIZES) -> list[dict[str, object]]:
    """Benchmark every size and engine; print a table; write bench/results/metrics-*.json."""
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="icp-bench-") as tmp:
            folder = Path(tmp)
            counts = prepare(size, folder)
            results = {}
            for engine in ENGINES:
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.bench_metrics",
                        "--child",
                        engine,
                        str(folder),
                        str(REPEATS.get(size, 3)),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                )
                results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
            problems = compare(folder)
        rows.append({"size": size, **counts, "results": results, "disagreements": problems})
        _print_size(rows[-1])
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"metrics-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"\nresults written to {path}")
    return rows


def _print_size(row: dict[str, object]) -> None:
    res = row["results"]
    p, d, pd_ = res["polars"], res["duckdb"], res["pandas"]
    print(
        f"\n{row['size']:,} accounts: {row['subscriptions']:,} subscriptions, "
        f"{row['account_months']:,} account-months (medians in seconds)"
    )
    print(f"{'step':<18}{'polars':>9}{'duckdb':>9}{'pandas':>9}{'pl/duck':>9}{'pl/pandas':>10}")
    for step in STEPS:
        a, b, c = p["median"][step], d["median"][step], pd_["median"][step]
        print(f"{step:<18}{a:>9.3f}{b:>9.3f}{c:>9.3f}{a / b:>9.2f}{a / c:>10.2f}")
    a, b, c = p["core_median"], d["core_median"], pd_["core_median"]
    print(f"{'core, 4 steps':<18}{a:>9.3f}{b:>9.3f}{c:>9.3f}{a / b:>9.2f}{a / c:>10.2f}")
    print(
        f"{'full recompute':<18}{p['median']['full_recompute']:>9.3f}"
        "  polars: snapshot + full scorecard (CLV, sales) + cohorts + movements"
    )
    print(f"{'  full scorecard':<18}{p['median']['scorecard']:>9.3f}")
    a, b, c = p["core_cpu_median"], d["core_cpu_median"], pd_["core_cpu_median"]
    print(f"{'core CPU seconds':<18}{a:>9.3f}{b:>9.3f}{c:>9.3f}{a / b:>9.2f}{a / c:>10.2f}")
    print(f"{'full recompute CPU':<18}{p['cpu_median']['full_recompute']:>9.3f}")
    print(f"{'peak memory MB':<18}{p['peak_mb']:>9.0f}{d['peak_mb']:>9.0f}{pd_['peak_mb']:>9.0f}")
    agree = "yes" if not row["disagreements"] else "NO: " + "; ".join(row["disagreements"])
    print(f"engines agree to 1e-9: {agree}")


def main() -> None:
    """``python -m bench.bench_metrics`` (sizes from BENCH_SIZES), or a ``--child`` run."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        engine, folder, repeats = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(child(engine, folder, repeats)))
        return
    env = os.environ.get("BENCH_SIZES")
    run(tuple(int(s) for s in env.split(",")) if env else SIZES)


if __name__ == "__main__":
    main()
