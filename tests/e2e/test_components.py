"""The pure helpers the pages share: number formatting, CSV safety, URL state.

They live beside the browser tests because they are the dashboard's own code
(tests/unit is the metrics layer's); none of them needs the server.
"""

from __future__ import annotations

import csv
import io
import math

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.components import charts, labels
from app.components.csv_export import safe_cell, to_csv
from app.views import formats as fmt
from app.views import query as urlstate
from app.views import render
from app.views.definitions import DEFINITIONS


@pytest.mark.parametrize(
    ("value", "text"),
    [(1_234_567, "$1.2M"), (12_345_678, "$12M"), (999, "$999"), (48_000, "$48K"),
     (3_400_000_000, "$3.4B"), (1_000_000, "$1M"), (-2_500, "-$2.5K"), (None, "—")],
)
def test_money_is_short_and_readable(value, text) -> None:
    assert fmt.money(value) == text


def test_percent_days_multiples_and_intervals() -> None:
    assert fmt.pct(1.07) == "107%"
    assert fmt.pct(0.905, 1) == "90.5%"
    assert fmt.days(63.6) == "64 days"
    assert fmt.days(1) == "1 day"
    assert fmt.multiple(3.14) == "3.1×"
    assert fmt.count(1234.4) == "1,234"
    assert fmt.interval(0.98, 1.17) == "98%–117%"
    assert fmt.interval(None, 1.1) == "—"
    assert fmt.pct(float("nan")) == "—"
    assert fmt.plural(1, "row") == "1 row"
    assert fmt.plural(1204, "problem") == "1,204 problems"


@pytest.mark.parametrize("dangerous", ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_a_spreadsheet_would_run_are_quoted(dangerous) -> None:
    assert safe_cell(dangerous) == "'" + dangerous
    rows = list(csv.reader(io.StringIO(to_csv(["h"], [[dangerous]]), newline="")))
    assert rows[1][0] == "'" + dangerous


@pytest.mark.parametrize("number", ["-250.00", "+3", "-1e5", "-.5"])
def test_plain_numbers_are_values_not_formulas(number) -> None:
    assert safe_cell(number) == number
    assert render.csv_cell(number) == number


def test_plain_cells_and_commas_survive_the_csv() -> None:
    text = to_csv(["Segment", "NRR"], [["Retail, Online", "81%"], [None, "$1.2M"]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["Segment", "NRR"], ["Retail, Online", "81%"], ["", "$1.2M"]
    ]


def test_url_state_is_parsed_strictly_and_written_canonically() -> None:
    assert urlstate.as_of({"as_of": "2025-12"}) == "2025-12"
    with pytest.raises(urlstate.BadParameter, match="as_of='2025-13'"):
        urlstate.as_of({"as_of": "2025-13"})
    with pytest.raises(urlstate.BadParameter, match="window='abc'"):
        urlstate.window({"window": "abc"})
    with pytest.raises(urlstate.BadParameter, match="by='color'"):
        urlstate.dimension({"by": "color"}, ("vertical", "plan"))
    assert urlstate.dimension({"by": "plan"}, ("vertical", "plan")) == "plan"
    assert urlstate.segment_filters(
        {"vertical": "Retail & E-commerce", "x": "y", "plan": "Pro"}, ("vertical", "plan")
    ) == {"vertical": ["Retail & E-commerce"], "plan": ["Pro"]}
    assert urlstate.dimension_label("sales_motion") == "Sales motion"
    assert urlstate.dimension_label("size_band") == "Size band"
    assert urlstate.search({"vertical": "Financial Services", "as_of": "2025-12", "window": None}) == (
        "?vertical=Financial%20Services&as_of=2025-12"
    )


def test_every_metric_the_scorecard_names_has_a_definition() -> None:
    shown = ("arr", "nrr", "grr", "logo_retention", "clv", "quick_ratio", "win_rate",
             "avg_deal_size", "days_to_close", "accounts", "tam", "tier")
    for key in shown:
        display, text = DEFINITIONS[key]
        assert display and len(text) > 20, key


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(-(10**9), 10**9), st.integers(0, 10**9))
def test_nice_ticks_cover_the_data_on_round_steps(low, span) -> None:
    # Money axes in dollars; a span a millionth of the values is below a chart's resolution.
    assume(span >= abs(low) / 10**6)
    low, high = float(low), float(low + span)
    ticks = charts.nice_ticks(low, high)
    assert ticks[0] <= low + 1e-6 and ticks[-1] >= high - 1e-6
    step = ticks[1] - ticks[0]
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert all(math.isclose(gap, step, rel_tol=1e-6) for gap in gaps)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in charts.NICE_STEPS)
    assert 2 <= len(ticks) <= 12
    if low <= 0 <= high:
        assert any(abs(t) <= step * 1e-9 for t in ticks)


@pytest.fixture(scope="module")
def revenue_page():
    """The revenue page module (a page imports only once an app exists)."""
    import dash

    from app import create_app

    if not dash.page_registry:
        create_app("127.0.0.1")
    from app.pages import revenue

    return revenue


def test_revenue_axes_read_as_money_on_one_grid(revenue_page) -> None:
    frame = pl.DataFrame(
        {
            "month": ["2026-01", "2026-02"],
            "new": [30_000.0, 60_000.0],
            "reactivation": [0.0, 2_000.0],
            "expansion": [20_000.0, 38_000.0],
            "contraction": [5_000.0, 4_000.0],
            "churn": [30_000.0, 12_000.0],
            "ending_mrr": [2_900_000.0, 3_084_000.0],
            "quick_ratio": [1.4, 6.25],
        }
    )
    layout = revenue_page.bridge(frame, "t").layout
    left, right = layout.yaxis, layout.yaxis2
    assert list(left.ticktext) == ["-$50K", "-$25K", "$0", "$25K", "$50K", "$75K", "$100K"]
    # Ending MRR: round steps on the left grid above $0, nothing labelled below it.
    assert list(right.ticktext) == ["$0", "$800K", "$1.6M", "$2.4M", "$3.2M"]
    assert tuple(left.range) == (-50_000, 100_000) and tuple(right.range) == (-1_600_000, 3_200_000)

    # Both zeros sit at the same height: a third of the way up.
    def zero_at(axis) -> float:
        low, high = axis.range
        return -low / (high - low)

    assert zero_at(left) == pytest.approx(zero_at(right)) == pytest.approx(1 / 3)


def _label_boxes(bubbles, positions, size=(300.0, 200.0), font=10.0):
    boxes = []
    for b, p in zip(bubbles, positions, strict=True):
        w, h = len(b.text) * font * labels.CHAR_WIDTH, font * labels.LINE_HEIGHT
        boxes.append(labels._label_box(b.x, b.y, b.size / 2, w, h, p))
    return boxes


def test_labels_of_a_crowded_cluster_do_not_overlap() -> None:
    # Four bubbles in a row, closer than their labels are wide: "top center" for all
    # (Plotly's default) would overlap; alternating above and below does not.
    row = [labels.Bubble(100 + 30 * i, 100, 20, f"Segment {i}") for i in range(4)]
    positions = labels.label_positions(row, (0, 300), (0, 200), (300, 200), font_size=10)
    boxes = _label_boxes(row, positions)
    assert all(labels._overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert set(positions) <= set(labels.POSITIONS)


def test_a_label_at_the_edge_leans_inwards() -> None:
    edge = [labels.Bubble(295, 190, 10, "Right at the corner")]
    (position,) = labels.label_positions(edge, (0, 300), (0, 200), (300, 200), font_size=10)
    assert "left" in position
    assert labels._outside(_label_boxes(edge, [position])[0], 300, 200) == 0


def test_win_rate_from_few_deals_is_greyed_with_its_count() -> None:
    from app.components.scorecard_parts import table_rows
    from app.views.context import frame_context
    from app.views.params import resolve
    from metrics.frames import Frames
    from tests.unit.builders import accounts, opportunities, subscriptions

    accs = accounts([(f"a{i}", "Few") for i in range(3)] + [(f"b{i}", "Many") for i in range(12)])
    subs = subscriptions(
        [(f"s{a}", a, "2023-01-01", None, 100) for a in [*(f"a{i}" for i in range(3)),
                                                           *(f"b{i}" for i in range(12))]]
    )
    # Few: 3 closed deals (2 won); Many: 12 closed deals (6 won).
    def deal(k: int, a: str) -> tuple:
        status = "won" if k % 2 == 0 else "lost"
        return (f"o{a}", a, "new_business", "2023-01-01", "2024-03-01", status, 1000)

    deals = [deal(k, a) for k, a in enumerate(["a0", "a1", "a2"])]
    deals += [deal(k, f"b{k}") for k in range(12)]
    frames = Frames(accounts=accs, opportunities=opportunities(deals), subscriptions=subs)
    ctx = frame_context(frames, version="few-deals")
    rows = {r["segment"]: r for r in table_rows(ctx, resolve(ctx, as_of="2024-03"))}
    assert rows["Few"]["win_rate_few"] and rows["Few"]["win_rate_fmt"] == "67% (3 deals)"
    assert not rows["Many"]["win_rate_few"] and rows["Many"]["win_rate_fmt"] == "50%"


HOSTILE = '<a href="https://evil.example/login">Fintech</a>'
LONG = "L" + "o" * 9_998 + "g"


def test_data_text_reaches_a_chart_short_and_escaped() -> None:
    assert charts.label(HOSTILE) == '&lt;a href="https://evil.example/login"&gt;Fi\u2026'
    assert charts.label("Retail & E-commerce") == "Retail &amp; E-commerce"
    assert charts.label("two\nlines <br> here") == "two lines &lt;br&gt; here"
    assert charts.short(LONG) == LONG[:39] + "\u2026" and len(charts.short(LONG)) == charts.LABEL_CHARS
    whole = charts.hover(HOSTILE)
    assert "<a" not in whole and whole.replace("<br>", "") == HOSTILE.replace("<", "&lt;").replace(">", "&gt;")
    lines = charts.hover(LONG).split("<br>")
    assert "".join(lines) == charts.short(LONG, charts.HOVER_CHARS)
    assert max(map(len, lines)) <= charts.HOVER_LINE_CHARS
    assert charts.hover("x" * 200).replace("<br>", "") == "x" * 200  # an importable name: whole
    axis = charts.category_axis([LONG, LONG + "x", HOSTILE])
    assert len(set(axis["tickvals"])) == 3 and all("<" not in v for v in axis["tickvals"])
    assert axis["ticktext"][0] == axis["ticktext"][1] == charts.label(LONG)


def test_long_values_stand_in_a_dropdown_as_short_keys() -> None:
    from app.components.widgets import OPTION_KEY_CHARS, option_value, value_options

    values = ["Fintech", LONG, LONG + "x", HOSTILE]
    options = value_options(values)
    keys = [o["value"] for o in options]
    assert keys[0] == "Fintech" and keys[3] == HOSTILE
    assert len(set(keys)) == 4 and all(len(k) <= OPTION_KEY_CHARS for k in keys)
    assert all(len(o["label"]) <= charts.LABEL_CHARS for o in options)
    assert [option_value(k, values) for k in keys] == values
    assert option_value("Retail", values) == "Retail" and option_value(None, values) is None


def _shown(fig: dict) -> list[str]:
    """Every text Plotly draws from a figure: trace labels, names, hover (customdata where a
    hovertemplate names it), categories without tick text, titles, tick texts, annotations."""
    import re

    layout = fig.get("layout", {})
    out: list[str] = []
    axes = {k: v for k, v in layout.items() if re.fullmatch(r"[xy]axis\d*", k)}
    for trace in fig.get("data", []):
        for key in ("text", "hovertext", "name"):
            value = trace.get(key)
            out += [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
        for i in {int(n) for n in re.findall(r"customdata\[(\d+)\]", trace.get("hovertemplate") or "")}:
            out += [str(row[i]) for row in trace.get("customdata") or []]
        for axis in ("x", "y"):
            if not (axes.get(axis + "axis") or {}).get("ticktext") and trace.get("type") in ("bar", "heatmap"):
                out += [str(v) for v in trace.get(axis) or []]
    for axis in axes.values():
        out += [str(t) for t in axis.get("ticktext") or []]
        out.append(str((axis.get("title") or {}).get("text") or ""))
    out.append(str((layout.get("title") or {}).get("text") or ""))
    out += [str(a.get("text") or "") for a in layout.get("annotations") or []]
    return out


def _safe(name: str, fig: dict) -> None:
    shown = _shown(fig)
    assert any("evil.example" in s for s in shown), (name, "the hostile label is not shown")
    assert not [s for s in shown if "<a" in s], name
    # The long name: cut to a label, or whole on hover in lines (never one 10,000-char line).
    assert not [s for s in shown if max(map(len, s.split("<br>"))) > 200], name


def test_every_figure_builder_escapes_and_shortens_data_labels(revenue_page) -> None:
    from types import SimpleNamespace

    from app.components.scorecard_parts import icp_map
    from app.components.segment_heatmap import nrr_heatmap
    from app.pages import accidental_icp, drift, economics
    from app.views import MetricSettings

    settings = MetricSettings()
    segs = [HOSTILE, LONG, "Fintech"]
    rows = [{"segment": s, "vertical": s, "nrr": 0.9 + i / 10, "clv": 1000.0 * (i + 1), "tam": 5e5,
             "tier": "watch", "tam_fmt": "$500K", "clv_fmt": "$1K", "nrr_fmt": "90%", "win_rate": 0.3 + i / 10,
             "bookings": 1e5, "ltv_cac": 2.0 + i, "cac": 900.0, "payback_months": 12.0 + i,
             "allowable_cac": 1500.0} for i, s in enumerate(segs)]
    ctx = SimpleNamespace(settings=settings)
    view = SimpleNamespace(by=("vertical",), segment=dict)
    figures = {
        "icp map": icp_map(rows, ctx, view),
        "quadrant": accidental_icp.quadrant(rows, {HOSTILE}, {"win_rate": 0.3}, "vertical", settings),
        "heatmap": nrr_heatmap([{**r, "size_band": s, "accounts": 20} for r, s in zip(rows, segs, strict=True)],
                               "vertical", "size_band", 10),
        "drift bars": drift.small_chart({"type": "win_rate_trap", "series": [
            {"group": s, "win_rate": 0.5} for s in segs]}),
        "ltv:cac": economics.ltv_cac_chart(rows, 3.0),
        "payback": economics.payback_chart(rows),
        "allowable cac": economics.allowable_chart(rows),
        "economics map": economics.map_chart(rows, {s: 1.0 for s in segs}, 3.0),
    }
    for name, fig in figures.items():
        _safe(name, fig.to_plotly_json())
    # The map keeps the raw segment (for a click) apart from what its hover shows.
    clicked = figures["icp map"].to_plotly_json()["data"][0]["customdata"]
    assert {row[0] for row in clicked} <= set(segs)


def test_the_economics_map_keeps_two_close_segments_labels_apart(revenue_page) -> None:
    from app.pages import economics

    # Two segments almost on one spot (as Manufacturing and Government on the demo).
    rows = [{"segment": name, "clv": clv, "ltv_cac": ltv} for name, clv, ltv in
            (("Manufacturing", 250_000.0, 4.4), ("Government", 265_000.0, None),
             ("Retail", 50_000.0, 1.3))]
    nrr = {"Manufacturing": 1.05, "Government": 1.05, "Retail": 0.82}
    data = economics.map_chart(rows, nrr, 3.0).to_plotly_json()["data"]
    at = {name: pos for trace in data
          for name, pos in zip(trace["text"], trace["textposition"], strict=True)}
    assert at["Manufacturing"] != at["Government"]
