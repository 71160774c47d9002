"""The partial plotly.js bundle the pages load (assets/vendor/plotly-icp.min.js): the
plotly.js version the Python plotly package writes figures for, and every trace type
the app draws (a figure of a missing type would show nothing)."""

from __future__ import annotations

import re
from pathlib import Path

from plotly.offline import get_plotlyjs_version

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "assets" / "vendor" / "plotly-icp.min.js"
BANNER = re.compile(r"/\* plotly\.js v(\S+) .*: traces ([a-z0-9 ]+?) ?\*/")
# go.Scatter(...), go.Bar(...), and trace dicts: {"type": "scatter", ...}
TRACE_CALL = re.compile(r"\bgo\.([A-Z][A-Za-z0-9]*)\(")
TRACE_DICT = re.compile(r"""["']type["']\s*:\s*["']([a-z0-9]+)["']""")
NOT_TRACES = {"Figure", "Layout"}
# Values of "type" in the app that are not traces (axis types, AG Grid column types).
OTHER_TYPES = {"category", "linear", "log", "date", "text", "rightAligned", "numericColumn"}


def _banner() -> tuple[str, set[str]]:
    match = BANNER.match(BUNDLE.read_text(encoding="utf-8")[:300])
    assert match, "the bundle starts with build.sh's banner"
    return match.group(1), set(match.group(2).split())


def _traces_drawn() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= {name.lower() for name in TRACE_CALL.findall(text)} - {n.lower() for n in NOT_TRACES}
        found |= set(TRACE_DICT.findall(text)) - OTHER_TYPES
    return found


def test_the_bundle_is_the_plotly_js_the_python_package_writes_figures_for() -> None:
    version, _traces = _banner()
    assert version == get_plotlyjs_version()


def test_the_bundle_holds_every_trace_type_the_app_draws() -> None:
    _version, traces = _banner()
    drawn = _traces_drawn()
    assert {"scatter", "bar", "heatmap", "waterfall"} <= drawn  # the scan finds them
    assert drawn <= traces, f"rebuild with scripts/plotly-bundle: missing {drawn - traces}"
