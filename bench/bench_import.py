"""Import throughput: 1 million subscription rows validated and loaded (goal: under 30 s).

Run with ``make bench`` or ``python -m bench.bench_import [ROWS]``. Uses a
throwaway database on the embedded server (dropped afterwards), loads 50,000
accounts first, then times one import of a subscriptions CSV: validation
(``plan_import``) and load (``run_import``'s transaction) separately, then a
re-import of the same file (every row unchanged). Reports rows per second and
the process's peak resident memory.
"""

from __future__ import annotations

import os
import resource
import secrets
import subprocess
import sys
import time

import polars as pl
import sqlalchemy as sa

from db import migrate
from db.engine import drop_database, embedded_server, ensure_database, normalize_url
from db.importer import ImportFile, ReadLimits, plan_import, run_import

ACCOUNTS = 50_000
ROWS = 1_000_000
# 1M rows of CSV is about 60 MB, above the 50 MB upload default.
LIMITS = ReadLimits(max_bytes=512 * 1024 * 1024)


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode()


def make_files(rows: int, accounts: int = ACCOUNTS) -> tuple[ImportFile, ImportFile]:
    """An accounts export and a subscriptions export of ``rows`` rows, deterministic."""
    acct = pl.DataFrame({"n": pl.int_range(0, accounts, eager=True)}).select(
        pl.format("A{}", pl.col("n").cast(pl.String).str.pad_start(6, "0")).alias("account_id"),
        pl.format("Company {}", pl.col("n")).alias("account_name"),
        pl.col("n")
        .mod(7)
        .replace_strict(
            {
                i: v
                for i, v in enumerate(
                    ["Software", "Fintech", "Health", "Retail", "Media", "Logistics", "Education"]
                )
            },
            return_dtype=pl.String,
        )
        .alias("vertical"),
        (pl.col("n") * 37 % 5000).alias("employees"),
    )
    n = pl.int_range(0, rows, eager=True)
    start = pl.date(2016, 1, 1) + pl.duration(days=(pl.col("n") * 7919) % 3000)
    subs = pl.DataFrame({"n": n}).select(
        pl.format("S{}", pl.col("n").cast(pl.String).str.pad_start(7, "0")).alias(
            "subscription_id"
        ),
        pl.format(
            "A{}", ((pl.col("n") * 104_729) % accounts).cast(pl.String).str.pad_start(6, "0")
        ).alias("account_id"),
        pl.lit("Pro").alias("product"),
        start.dt.to_string("%Y-%m-%d").alias("start_date"),
        pl.when(pl.col("n") % 3 == 0)
        .then((start + pl.duration(days=365)).dt.to_string("%Y-%m-%d"))
        .alias("end_date"),
        pl.format(
            "{}.{}",
            50 + pl.col("n") % 5000,
            (pl.col("n") % 100).cast(pl.String).str.pad_start(2, "0"),
        ).alias("mrr"),
    )
    return ImportFile("accounts.csv", _csv(acct)), ImportFile("subscriptions.csv", _csv(subs))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(rows: int = ROWS) -> dict[str, float]:
    """Time validation and load of ``rows`` subscription rows; the figures."""
    admin = normalize_url(embedded_server().get_uri())
    name = f"icp_bench_{os.getpid()}_{secrets.token_hex(3)}"
    ensure_database(admin, name)
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(url)
        accounts, subs = make_files(rows)
        run_import([accounts], engine, user="bench", limits=LIMITS)
        t0 = time.perf_counter()
        plan = plan_import([subs], engine, limits=LIMITS)
        t1 = time.perf_counter()
        assert plan.ok, plan.report()
        del plan  # run_import plans again; hold one plan at a time, as the page and CLI do
        t2 = time.perf_counter()
        result = run_import([subs], engine, user="bench", limits=LIMITS)
        t3 = time.perf_counter()
        assert result.inserted == rows, result.message
        again = run_import([subs], engine, user="bench", limits=LIMITS)
        t4 = time.perf_counter()
        assert again.unchanged == rows
        return {
            "rows": rows,
            "file_mb": len(subs.data) / 1e6,
            "validate_s": t1 - t0,
            "import_s": t3 - t2,
            "reimport_s": t4 - t3,
            "rows_per_s": rows / (t3 - t2),
            "peak_rss_mb": _peak_mb(),
        }
    finally:
        engine.dispose()
        drop_database(admin, name)


def main() -> None:
    """Print the import benchmark's figures, measured in a fresh process.

    A fresh process makes the peak memory the import's own, not that of
    whatever ran before it (``python -m bench`` runs every bench in one process).
    """
    args = [a for a in sys.argv[1:] if a.isdigit()]
    rows = int(args[0]) if args else ROWS
    if "--child" not in sys.argv:
        subprocess.run(
            [sys.executable, "-m", "bench.bench_import", "--child", str(rows)], check=True
        )
        return
    r = run(rows)
    print(
        f"import: {r['rows']:,.0f} subscription rows ({r['file_mb']:.0f} MB CSV): "
        f"validate {r['validate_s']:.1f} s; validate + load {r['import_s']:.1f} s "
        f"({r['rows_per_s']:,.0f} rows/s, goal < 30 s); re-import unchanged {r['reimport_s']:.1f} s; "
        f"peak RSS {r['peak_rss_mb']:,.0f} MB"
    )


if __name__ == "__main__":
    main()
