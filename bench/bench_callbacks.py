"""Dashboard callback latency on the demo data, server side, warm cache.

Goal: median under 150 ms and p95 under 400 ms for the scorecard, drill-down and
cohorts callbacks. Run with ``make bench`` or ``python -m bench.bench_callbacks [N]``.

Loads the demo into a throwaway database on the embedded server (dropped
afterwards), builds the app in local mode and posts real
``/_dash-update-component`` requests through Flask's test client, built from the
app's own ``/_dash-dependencies``. Each request is sent once to warm the metrics
cache, then timed ``N`` times (default 40). The figures are the whole request:
routing, the callback, its cache reads, figure building and JSON encoding.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from db import migrate
from db.config import get_config
from db.demo import load_demo
from db.engine import drop_database, embedded_server, ensure_database, normalize_url

REPEATS = 40
GOAL_MEDIAN_MS = 150
GOAL_P95_MS = 400


def _item(spec: dict[str, str], values: dict[str, Any]) -> Any:
    if spec["id"].startswith("{"):
        return []
    return {
        "id": spec["id"],
        "property": spec["property"],
        "value": values.get(f"{spec['id']}.{spec['property']}"),
    }


def payload(deps: list[dict[str, Any]], trigger: str, values: dict[str, Any]) -> dict[str, Any]:
    """The request body Dash's renderer sends when ``trigger`` (id.property) changes."""
    dep = next(d for d in deps if any(f"{i['id']}.{i['property']}" == trigger for i in d["inputs"]))
    outputs = [
        dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
        for p in dep["output"].strip(".").split("...")
    ]
    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [_item(s, values) for s in dep["inputs"]],
        "state": [_item(s, values) for s in dep.get("state", [])],
        "changedPropIds": [trigger],
    }


def scenarios(
    as_of: str, window: int, top: dict[str, Any]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per benchmarked callback, the requests to time (cycled); ``top`` is the scorecard's
    stored view by vertical."""
    base = {"sc-as-of.value": as_of, "sc-window.value": window, "sc-state.data": top}
    scorecard = [
        ("sc-by.value", {**base, "sc-by.value": by})
        for by in ("vertical", "size_band", "region", "use_case", "lead_source")
    ]
    drill = [
        (
            "sc-grid.cellClicked",
            {
                **base,
                "sc-by.value": "vertical",
                "sc-grid.cellClicked": {"colId": "segment", "value": vertical, "rowIndex": 0},
            },
        )
        for vertical in ("Financial Services", "Healthcare", "Retail & E-commerce", "Technology")
    ]
    cohorts = [
        (
            "co-period.value",
            {
                "co-period.value": period,
                "co-metric.active_tab": metric,
                "co-as-of.value": as_of,
                "co-dim-a.value": "vertical",
                "co-value-a.value": a,
                "co-dim-b.value": "vertical",
                "co-value-b.value": b,
            },
        )
        for period, metric, a, b in (
            ("quarter", "nrr", None, None),
            ("quarter", "nrr", "Financial Services", "Retail & E-commerce"),
            ("year", "logo_retention", "Healthcare", None),
            ("month", "grr", None, None),
        )
    ]
    return {"scorecard": scorecard, "drill-down": drill, "cohorts": cohorts}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(repeats: int = REPEATS) -> dict[str, dict[str, float]]:
    """Median and p95 latency in ms per callback, warm cache."""
    admin = normalize_url(embedded_server().get_uri())
    name = f"icp_bench_cb_{os.getpid()}_{secrets.token_hex(3)}"
    ensure_database(admin, name)
    url = sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "ICP_DATA_DIR")}
    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(url)
        try:
            migrate.upgrade(url)
            load_demo(engine, Path(tmp) / "demo")
            os.environ.update(DATABASE_URL=url, ICP_DATA_DIR=tmp)
            get_config.cache_clear()
            return _measure(repeats)
        finally:
            engine.dispose()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            get_config.cache_clear()
            from db.engine import dispose_engines

            dispose_engines()
            drop_database(admin, name)


def _measure(repeats: int) -> dict[str, dict[str, float]]:
    from app import create_app
    from app.views.context import warehouse_context
    from app.views.params import resolve

    dash_app = create_app(host="127.0.0.1")
    client = dash_app.server.test_client()
    assert client.get("/").status_code == 200
    deps = client.get("/_dash-dependencies").get_json()
    with dash_app.server.test_request_context("/"):
        ctx = warehouse_context()
        top = resolve(ctx, by=("vertical",))
        as_of, window = top.as_of_label, top.window
    headers = {"Content-Type": "application/json"}
    out: dict[str, dict[str, float]] = {}
    for label, requests in scenarios(as_of, window, top.to_store()).items():
        bodies = [payload(deps, trigger, values) for trigger, values in requests]
        for body in bodies:  # warm the metrics cache for every view timed below
            response = client.post("/_dash-update-component", json=body, headers=headers)
            assert response.status_code == 200, (label, response.status_code, response.data[:300])
        times = []
        for i in range(repeats):
            body = bodies[i % len(bodies)]
            t0 = time.perf_counter()
            response = client.post("/_dash-update-component", json=body, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        out[label] = {
            "median_ms": statistics.median(times),
            "p95_ms": _percentile(times, 0.95),
            "requests": len(times),
        }
    return out


def main() -> None:
    """Print the callback latency figures against the goal."""
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else REPEATS
    for label, r in run(repeats).items():
        ok = r["median_ms"] < GOAL_MEDIAN_MS and r["p95_ms"] < GOAL_P95_MS
        print(
            f"callback {label}: median {r['median_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms "
            f"over {r['requests']:.0f} requests, warm cache "
            f"(goal median < {GOAL_MEDIAN_MS} ms, p95 < {GOAL_P95_MS} ms: "
            f"{'met' if ok else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
