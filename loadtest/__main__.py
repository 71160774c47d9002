"""``python -m loadtest``: gunicorn on 127.0.0.1 with the demo data, 50 users for 2 minutes,
then the same while imports run. Prints the figures and writes them to loadtest/results/."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from loadtest import run
from loadtest import server as gunicorn

RESULTS = Path(__file__).resolve().parent / "results"
DATABASE = "icp_loadtest"
PASSWORD = "load-test-password-1"
MAX_USERS, MAX_SECONDS = 200, 900


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    p.add_argument("--users", type=int, default=50, help="concurrent virtual users (max %(default)s..200)")
    p.add_argument("--seconds", type=float, default=120, help="length of each phase")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=4, help="threads per worker")
    p.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                   help="seconds a user looks at a view before the next click (uniform)")
    p.add_argument("--phases", default="steady,import", help="comma-separated: steady, import")
    p.add_argument("--import-every", type=float, default=30,
                   help="seconds between the starts of two imports in the import phase")
    p.add_argument("--warmup", type=float, default=20,
                   help="seconds of load before measuring (fills each worker's and the shared cache)")
    args = p.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS or not 1 <= args.seconds <= MAX_SECONDS:
        p.error(f"--users must be 1..{MAX_USERS} and --seconds 1..{MAX_SECONDS}")
    return args


def _import_file_sets(work: Path) -> list[list[Path]]:
    """Two versions of the demo exports (last month and the month before): importing them in
    turn changes rows every time, so every import bumps the data version."""
    from db.demo import as_of_key, last_complete_month, write_demo_files
    from metrics.months import month_label

    latest = last_complete_month()
    earlier = month_label(as_of_key(latest) - 1)
    return [sorted(write_demo_files(work / f"import-{m}", as_of=m).values()) for m in (earlier, latest)]


def _drilldowns(url: str, n: int = 6) -> list[str]:
    """URL queries of the biggest segments, as the scorecard links to them."""
    from urllib.parse import urlencode

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT vertical, sub_industry FROM accounts GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT :n"
                ),
                {"n": n},
            ).all()
    finally:
        engine.dispose()
    verticals = sorted({r.vertical for r in rows})
    return [
        "?" + urlencode({"vertical": v}) for v in verticals
    ] + ["?" + urlencode({"vertical": r.vertical, "sub_industry": r.sub_industry}) for r in rows]


def main(argv: list[str] | None = None) -> int:
    """Run the phases and print one JSON summary per phase."""
    from db.engine import drop_database, embedded_server, normalize_url

    args = _args(argv)
    admin_url = normalize_url(embedded_server().get_uri())
    work = Path(tempfile.mkdtemp(prefix="icp-loadtest-"))
    users = {f"user{i:03d}@loadtest.example": ("viewer", PASSWORD) for i in range(args.users)}
    users["admin@loadtest.example"] = ("admin", PASSWORD)
    print(f"preparing database {DATABASE} with the demo data and {args.users} users ...", flush=True)
    url = gunicorn.demo_database(admin_url, DATABASE, work, users)
    server = gunicorn.start(
        url,
        work / "gunicorn.log",
        workers=args.workers,
        threads=args.threads,
        env={"ICP_SECRET_KEY": "loadtest-" + "k" * 40, "ICP_DATA_DIR": str(work), "ICP_LOG_LEVEL": "WARNING"},
    )
    print(f"gunicorn on {server.url}: {args.workers} workers x {args.threads} threads; log {server.log_path}")
    viewers = [(email, PASSWORD) for email, (role, _) in users.items() if role == "viewer"]
    drilldowns = _drilldowns(url)
    summaries = []
    try:
        if args.warmup:
            print(f"warm-up: {args.users} users for {args.warmup:.0f} s (not counted) ...", flush=True)
            warm = run.run_phase("warmup", server.url, viewers, args.warmup, tuple(args.think), drilldowns)
            print(f"warm-up done: {warm.summary()['requests']} requests, {warm.summary()['errors']} errors", flush=True)
        for name in args.phases.split(","):
            importer = None
            if name == "import":
                importer = (("admin@loadtest.example", PASSWORD), _import_file_sets(work))
            print(f"phase {name}: {args.users} users for {args.seconds:.0f} s ...", flush=True)
            phase = run.run_phase(name, server.url, viewers, args.seconds, tuple(args.think), drilldowns,
                                  importer, args.import_every)
            summary = phase.summary()
            summary.update(users=args.users, workers=args.workers, threads=args.threads, think_s=list(args.think),
                           import_every_s=args.import_every if name == "import" else None)
            summaries.append(summary)
            print(json.dumps(summary, indent=2), flush=True)
    finally:
        server.stop()
        drop_database(admin_url, DATABASE)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"loadtest-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(summaries, indent=2))
    print(f"written to {out}")
    return 1 if any(s["errors"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
