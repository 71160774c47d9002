"""Whole commands as users wait for them, against hand-written yardsticks (issue 12).

Run with ``make bench`` or ``python -m bench.bench_commands [SIZES]`` (default
2000,100000 accounts; also ``BENCH_COMMAND_SIZES``). Each figure is a whole process,
start-up and imports included, run side by side with its yardstick in the same
run (alternating, after one untimed warm-up each, medians):

- ``icp report scorecard --data DIR --by vertical,sub_industry --format json`` on
  synthetic CSV exports (``bench.synthetic``) against ``bench/duckdb_scorecard.py``,
  a DuckDB script computing the scorecard's core (NRR, GRR, logo retention, win
  rate, deal size, days to close, prospects) from the same CSVs. The two agree on
  every core value (checked, printed as the largest difference). The yardstick does
  less: no validation, no CLV, no intervals.
- ``icp --help`` against ``python -c "import polars"``.
- The stack's floor: a process that only imports what the command cannot run without
  (polars, numpy, pydantic, typer and the pydantic adapters typer parses options
  with), against the DuckDB script on the smallest size: the share of the goal that
  start-up alone takes, before a file is read.

Printed per line: wall time, CPU time (user + system, all threads) and peak
resident memory of each side, and the ratios. On a machine shared with other work,
wall times are noisy: the CPU ratio is the steadier of the two. Bytecode is
written on the warm-up (``PYTHONDONTWRITEBYTECODE`` is dropped for the children),
as after any first run of an installed ``icp``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.synthetic import synthetic_frames

SIZES = (2_000, 100_000)
REPEATS = 5
GOAL_RATIO = 2.0
GOAL_PEAK_MIB = 600
CORE = (
    "accounts",
    "nrr",
    "grr",
    "logo_retention",
    "win_rate",
    "avg_deal_size",
    "days_to_close",
    "prospects",
)
YARDSTICK = Path(__file__).resolve().parent / "duckdb_scorecard.py"
FLOOR = "import polars, numpy, pydantic, typer, typer._adapters"
ICP = Path(sys.executable).parent / "icp"


def write_exports(accounts: int, folder: Path) -> Path:
    """accounts.csv, subscriptions.csv and opportunities.csv of ``accounts`` synthetic accounts."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = synthetic_frames(accounts)
    frames.accounts.write_csv(folder / "accounts.csv")
    frames.subscriptions.write_csv(folder / "subscriptions.csv")
    frames.opportunities.write_csv(folder / "opportunities.csv")
    return folder


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# Runs the command as its own child and reports that child's wall time, CPU time and
# peak memory on stderr's last line. A process's peak memory counts the memory it had
# before exec, so the command must be forked from this small launcher, not from the
# benchmark (which holds the synthetic frames).
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
result = [wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024]
print(json.dumps([*result, os.waitstatus_to_exitcode(status)]), file=sys.stderr)
"""


def run_once(args: list[str], out: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MiB) of one process, its stdout written to ``out``."""
    with out.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, *args],
            stdout=sink,
            stderr=subprocess.PIPE,
            env=_env(),
            check=False,
        )
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    wall, cpu, peak, code = json.loads(lines[-1]) if lines else (0, 0, 0, done.returncode)
    if code or done.returncode:
        raise SystemExit(f"{' '.join(args)} failed: {chr(10).join(lines[-20:])}")
    return wall, cpu, peak


def paired(a: list[str], b: list[str], repeats: int, tmp: Path) -> tuple[dict, dict]:
    """Medians of wall, CPU and peak memory of ``a`` and ``b``, run alternately."""
    runs: dict[str, list[tuple[float, float, float]]] = {"a": [], "b": []}
    for i in range(repeats + 1):
        for name, args in (("a", a), ("b", b)):
            result = run_once(args, tmp / f"{name}.out")
            if i:  # the first round warms caches and writes bytecode
                runs[name].append(result)
    return tuple(
        {
            "wall": statistics.median(r[0] for r in runs[k]),
            "cpu": statistics.median(r[1] for r in runs[k]),
            "peak": max(r[2] for r in runs[k]),
        }
        for k in ("a", "b")
    )


def core_difference(icp_json: Path, duck_json: Path) -> float:
    """Largest difference between the two outputs over the core values of every segment."""
    ours = {(r["vertical"], r["sub_industry"]): r for r in json.loads(icp_json.read_text())}
    theirs = {(r["vertical"], r["sub_industry"]): r for r in json.loads(duck_json.read_text())}
    if ours.keys() != theirs.keys():
        return float("inf")
    return max(abs((ours[s][k] or 0) - (theirs[s][k] or 0)) for s in ours for k in CORE)


def _line(what: str, ours: dict, theirs: dict, yardstick: str) -> str:
    return (
        f"{what:<34} {ours['wall']:7.2f} s {ours['cpu']:6.2f} s {ours['peak']:6.0f} MiB | "
        f"{yardstick:<16} {theirs['wall']:6.2f} s {theirs['cpu']:6.2f} s | "
        f"{ours['wall'] / theirs['wall']:5.1f}x wall {ours['cpu'] / theirs['cpu']:5.1f}x CPU"
    )


def run(sizes: tuple[int, ...] = SIZES, repeats: int = REPEATS) -> None:
    """Measure and print every line (goals: ratios <= 2, peak <= 600 MiB)."""
    print(
        f"{'what':<34} {'ICP Lens: wall':>9} {'CPU':>8} {'peak':>10} | "
        f"{'yardstick':<16} {'wall':>8} {'CPU':>8} | ratios (goal <= {GOAL_RATIO:g}x)"
    )
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for i, n in enumerate(sizes):
            folder = write_exports(n, tmp / f"exports-{n}")
            icp = [str(ICP), "report", "scorecard", "--data", str(folder)]
            icp += ["--by", "vertical,sub_industry", "--format", "json"]
            duck = [sys.executable, str(YARDSTICK), str(folder)]
            ours, theirs = paired(icp, duck, max(2, repeats if n <= 10_000 else repeats - 2), tmp)
            diff = core_difference(tmp / "a.out", tmp / "b.out")
            print(_line(f"report scorecard, {n:,} accounts", ours, theirs, "DuckDB script"))
            print(f"{'':<34} core values agree to {diff:.1e}; peak goal {GOAL_PEAK_MIB} MiB")
            if i == 0:
                floor, theirs = paired([sys.executable, "-c", FLOOR], duck, repeats, tmp)
                print(_line("stack floor (imports only)", floor, theirs, f"DuckDB, {n:,}"))
        ours, theirs = paired(
            [str(ICP), "--help"], [sys.executable, "-c", "import polars"], repeats, tmp
        )
        print(_line("icp --help", ours, theirs, "import polars"))


def main() -> None:
    """``python -m bench.bench_commands [SIZES]``."""
    arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_COMMAND_SIZES")
    run(tuple(int(s) for s in arg.split(",")) if arg else SIZES)


if __name__ == "__main__":
    main()
