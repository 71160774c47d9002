"""MRR runs: the metrics that read the run-length encoded snapshot match the definitions.

Movements, cohort curves and the CLV inputs are computed from runs (stretches of
constant MRR) by events and running sums; these properties recompute each one
from METRICS.md month by month, in plain Python, on random monthly data over four
years with gaps, repeated amounts and reactivations.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from metrics.clv import _yearly_query, account_lifetimes
from metrics.cohorts import account_runs, cohort_curves
from metrics.model import segments
from metrics.months import month_key, month_label, quarter_label
from metrics.movements import mrr_movements
from metrics.mrr import runs_from_snapshot
from tests.unit.builders import accounts, dataset, monthly

# No shrinking: a failing history is reported as drawn (shrinking these took minutes).
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)
MONTHS = [f"{y}-{m:02d}" for y in range(2021, 2025) for m in range(1, 13)]
IDS = [f"a{i}" for i in range(6)]


@st.composite
def histories(draw):
    """Accounts in two verticals, each with stretches of monthly MRR: gaps (0), repeated
    amounts, changes and reactivations, often still running at the as-of month."""
    verticals = draw(st.lists(st.sampled_from(["X", "Y"]), min_size=6, max_size=6))
    rows = []
    for a in IDS:
        month = draw(st.integers(0, len(MONTHS) - 1))
        for length, value in draw(
            st.lists(st.tuples(st.integers(1, 14), st.sampled_from([0, 10, 20, 35.5])), max_size=5)
        ):
            for m in MONTHS[month : month + length]:
                rows.append((a, m, value))
            month += length
    as_of = draw(st.sampled_from(MONTHS[-30:]))
    accs = accounts(list(zip(IDS, verticals, strict=True)))
    # Every history ends in 2024-12, so the data (and the latest as-of) is fixed.
    if not any(r[:2] == (IDS[0], MONTHS[-1]) for r in rows):
        rows.append((IDS[0], MONTHS[-1], 0))
    return accs, rows, dict(zip(IDS, verticals, strict=True)), month_key(as_of)


def _mrr(rows) -> dict[tuple[str, int], int]:
    """MRR in cents per (account, month key), active months only."""
    return {(a, month_key(m)): round(v * 100) for a, m, v in rows if v > 0}


def _first(mrr: dict[tuple[str, int], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a, m in mrr:
        out[a] = min(out.get(a, m), m)
    return out


@FAST
@given(histories())
def test_runs_are_maximal_and_expand_to_the_snapshot(data):
    accs, rows, _, _ = data
    ds = dataset(accs, mrr=monthly(rows))
    ids = ds.accounts.get_column("account_id")
    expanded = {(ids[i], m): v for i, m, v in ds.snapshot.iter_rows()}
    assert expanded == _mrr(rows)
    runs = ds.runs.rows()
    assert runs == sorted(runs)
    for (i, s, e, v), (j, s2, _, v2) in zip(runs, runs[1:], strict=False):
        assert s <= e
        if i == j:
            assert s2 > e and (s2 > e + 1 or v2 != v)  # disjoint, and maximal
    assert runs_from_snapshot(ds.snapshot).rows() == runs


@FAST
@given(histories(), st.integers(0, 47))
def test_movements_match_the_definition(data, start):
    accs, rows, vertical, as_of = data
    ds = dataset(accs, mrr=monthly(rows))
    first = min(month_key(MONTHS[start]), as_of)
    got = mrr_movements(ds, as_of, by=["vertical"], start=first)
    mrr = _mrr(rows)
    cols = ("starting_mrr", "new", "reactivation", "expansion", "contraction", "churn")
    want: dict[tuple[str, str], dict[str, int]] = {}
    for m in range(first, as_of + 1):
        for v in ("X", "Y"):
            want[(v, month_label(m))] = dict.fromkeys((*cols, "ending_mrr"), 0)
        for a in IDS:
            prev, cur = mrr.get((a, m - 1), 0), mrr.get((a, m), 0)
            before = any(mrr.get((a, k), 0) for k in range(m - 1))
            row = want[(vertical[a], month_label(m))]
            row["starting_mrr"] += prev
            row["ending_mrr"] += cur
            if prev == 0 and cur > 0:
                row["reactivation" if before else "new"] += cur
            elif prev > 0 and cur == 0:
                row["churn"] += prev
            elif prev > 0 and cur > prev:
                row["expansion"] += cur - prev
            elif prev > 0 and cur < prev:
                row["contraction"] += prev - cur
    want = {k: r for k, r in want.items() if k[0] in set(vertical.values())}
    have = {
        (r["vertical"], r["month"]): {c: round(r[c] * 100) for c in (*cols, "ending_mrr")}
        for r in got.iter_rows(named=True)
    }
    assert have == want


@FAST
@given(histories())
def test_cohort_curves_match_the_definition(data):
    accs, rows, _, as_of = data
    ds = dataset(accs, mrr=monthly(rows))
    mrr = _mrr(rows)
    first = {a: f for a, f in _first(mrr).items() if f <= as_of}
    sums: dict[tuple[str, int], list[int]] = {}
    for a, f in first.items():
        s = mrr[(a, f)]
        for k in range(as_of - f + 1):
            e = mrr.get((a, f + k), 0)
            acc = sums.setdefault((quarter_label(f // 3), k), [0, 0, 0, 0, 0])
            acc[0] += 1
            acc[1] += s
            acc[2] += e
            acc[3] += min(s, e)
            acc[4] += e > 0
    got = cohort_curves(ds, as_of, "quarter")
    assert {(r["cohort"], r["age"]) for r in got.iter_rows(named=True)} == set(sums)
    for r in got.iter_rows(named=True):
        n, s, e, g, active = sums[(r["cohort"], r["age"])]
        assert r["accounts"] == n
        assert r["nrr"] == pytest.approx(e / s)
        assert r["grr"] == pytest.approx(g / s)
        assert r["logo_retention"] == pytest.approx(active / n)


@FAST
@given(histories())
def test_clv_inputs_match_the_definition(data):
    accs, rows, vertical, as_of = data
    ds = dataset(accs, mrr=monthly(rows))
    segs = segments(ds, ["vertical"])
    runs = account_runs(ds, as_of, segs)
    lives = account_lifetimes(runs, as_of)
    yearly = _yearly_query(runs, "seg", 3).collect()
    mrr = _mrr(rows)
    first = {a: f for a, f in _first(mrr).items() if f <= as_of}
    ids = ds.accounts.get_column("account_id")
    alive = {}
    for a, f in first.items():
        t = 0
        while f + 12 * t <= as_of and (a, f + 12 * t) in mrr:
            t += 1
        alive[a] = t
    assert {ids[r["idx"]]: r["alive_run"] for r in lives.iter_rows(named=True)} == alive
    want: dict[tuple[str, int], tuple[int, int]] = {}
    for (a, m), v in mrr.items():
        if a in first and m <= as_of and m - first[a] < 36:
            key = (vertical[a], (m - first[a]) // 12)
            rev, cnt = want.get(key, (0, 0))
            want[key] = (rev + v, cnt + 1)
    names = dict(
        zip(segs.labels.get_column("seg"), segs.labels.get_column("vertical"), strict=True)
    )
    have = {(names[r["seg"]], r["t"]): (r["rev"], r["cnt"]) for r in yearly.iter_rows(named=True)}
    assert have == want
    assert yearly.schema["rev"] == pl.Int64
