"""``/api/<view>.json`` and ``.csv``: the views over HTTP, with the pages' sign-in and roles."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import requests

ICP = str(Path(sys.executable).parent / "icp")


def _cli(database_url: str, *args: str) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": database_url}
    out = subprocess.run(
        [ICP, "report", *args, "--format", "json"], env=env, capture_output=True, text=True,
        check=True, timeout=300,
    )
    return json.loads(out.stdout)


def test_json_rows_are_the_cli_rows(viewer_context, demo_database) -> None:
    response = viewer_context.request.get("/api/scorecard.json?by=vertical,size_band")
    assert response.status == 200
    body = response.json()
    assert body["view"] == "scorecard"
    assert body["params"]["by"] == ["vertical", "size_band"]
    kinds = {c["key"]: c["kind"] for c in body["columns"]}
    assert kinds["nrr"] == "ratio" and kinds["clv"] == "money" and kinds["tier"] == "tier"
    assert body["rows"] == _cli(demo_database, "scorecard", "--by", "vertical,size_band")


def test_segment_params_and_csv(viewer_context, demo_database) -> None:
    url = "/api/cohorts.csv?vertical=Healthcare&period=year"
    response = viewer_context.request.get(url)
    assert response.status == 200
    text = response.text()
    assert text.startswith("# cohorts: as of ") and "vertical = Healthcare" in text.split("\n")[0]
    frame = pl.read_csv(io.StringIO(text), comment_prefix="#")
    assert frame.schema["nrr"].is_numeric() and frame.schema["accounts"].is_numeric()
    cli = _cli(demo_database, "cohorts", "--by", "vertical", "--segment", "Healthcare",
               "--period", "year")
    assert frame.height == len(cli)
    assert frame["nrr"].to_list() == [r["nrr"] for r in cli]


def test_bad_parameters_and_unknown_views_are_named(viewer_context) -> None:
    bad = viewer_context.request.get("/api/scorecard.json?by=planet")
    assert bad.status == 400 and "planet" in bad.json()["error"]
    unknown = viewer_context.request.get("/api/nothing.json")
    assert unknown.status == 404 and "scorecard" in unknown.json()["error"]


def test_anonymous_callers_get_401(demo_server) -> None:
    response = requests.get(demo_server.url + "/api/scorecard.json", timeout=30)
    assert response.status_code == 401
