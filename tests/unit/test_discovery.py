"""ICP discovery: the z-test, BH and a greedy round by hand; properties; planted pockets."""

from __future__ import annotations

import dataclasses
from itertools import combinations, product

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from metrics.discovery import (
    candidates,
    discover_pockets,
    greedy_pockets,
    pocket_accounts,
    pocket_conditions,
    residual_z_test,
    round_tests,
)
from metrics.errors import MetricsError
from metrics.months import month_key
from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings
from metrics.stats import bh_qvalues
from tests.unit.builders import dataset, monthly
from tests.unit.test_properties import FAST

# A dozen accounts, all starting at 100: plan P grows, Q and R shrink a little.
PLAN = ["P"] * 4 + ["Q"] * 4 + ["R"] * 4
REGION = ["N", "N", "S", "S"] * 3
S12 = np.full(12, 100.0)
E12 = np.array([150, 150, 150, 130, 100, 100, 90, 80, 100, 110, 100, 70], dtype=np.float64)


def dozen():
    return candidates(pl.DataFrame({"plan": PLAN, "region": REGION}), ("plan", "region"), 2)


def test_z_test_by_hand():
    # R = 1330 / 1200; plan P: T = 580 - 4 x 110.83 = 136.67; Σ d² = Σ e² - 12 (100 R)²
    # = 155,900 - 147,408.33 = 8,491.67; Var(T) = 4 x 8 / (12 x 11) x 8,491.67 = 2,058.59.
    z, p = residual_z_test(np.array([136.6667]), np.array([4.0]), 12, 8491.6667)
    assert z[0] == pytest.approx(136.6667 / 2058.5859**0.5, rel=1e-6)
    assert z[0] == pytest.approx(3.0122, abs=1e-4)
    assert p[0] == pytest.approx(0.002594, abs=1e-6)
    # No spread: no evidence.
    z, p = residual_z_test(np.array([0.0]), np.array([4.0]), 12, 0.0)
    assert (z[0], p[0]) == (0.0, 1.0)


def test_benjamini_hochberg_by_hand():
    # Sorted 0.01, 0.03, 0.04, 0.20 -> x4/1, x4/2, x4/3, x4/4 = 0.04, 0.06, 0.0533, 0.20,
    # then the running minimum from the top: 0.04, 0.0533, 0.0533, 0.20.
    q = bh_qvalues([0.01, 0.04, 0.03, 0.20])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])


def test_one_round_on_a_dozen_accounts_by_hand():
    tests = round_tests(dozen(), S12, E12, np.ones(12, dtype=bool), 3)
    got = {
        tuple(dozen().conditions(r["combo"], r["key"]).items()): r
        for r in tests.iter_rows(named=True)
    }
    # Plan x region cells hold 2 accounts (< 3): not tested; 5 candidates are.
    assert sorted(got) == [
        (("plan", "P"),),
        (("plan", "Q"),),
        (("plan", "R"),),
        (("region", "N"),),
        (("region", "S"),),
    ]
    p = {k[0][1]: r["p_value"] for k, r in got.items()}
    assert p["P"] == pytest.approx(0.0025940, abs=1e-6)  # z = 3.012
    assert p["Q"] == pytest.approx(0.1060335, abs=1e-6)  # T = -73.33, z = -1.616
    assert p["R"] == pytest.approx(0.1627509, abs=1e-6)  # T = -63.33, z = -1.396
    assert p["N"] == pytest.approx(0.3497438, abs=1e-6)  # T = 45, Var = 2,315.9, z = 0.935
    assert p["S"] == pytest.approx(p["N"])
    # BH over the 5: q(P) = 5 x 0.002594 = 0.01297; q(Q) = min(5/2 x 0.106, 5/3 x 0.163).
    q = {k[0][1]: r["q_value"] for k, r in got.items()}
    assert q["P"] == pytest.approx(5 * p["P"])
    assert q["Q"] == pytest.approx(2.5 * p["Q"])
    assert q["R"] == pytest.approx(5 / 3 * p["R"])
    assert q["N"] == pytest.approx(p["N"]) and q["S"] == pytest.approx(p["N"])
    # P: NRR 580/400 = 145% against 750/800 = 93.75%, score 0.5125 x √4.
    assert got[(("plan", "P"),)]["score"] == pytest.approx((1.45 - 0.9375) * 2)
    # The round takes P (the only q <= 0.05); in the 8 left nothing is significant.
    found = greedy_pockets(dozen(), S12, E12, 3, 0.05)
    assert len(found) == 1
    best, members = found[0]
    assert dozen().conditions(best["combo"], best["key"]) == {"plan": "P"}
    assert members.tolist() == [True] * 4 + [False] * 8


def brute_force(attrs, dims, depth, s, e, pool, min_size):
    """Each candidate tested from its definition, one mask at a time."""
    sp, ep = s[pool], e[pool]
    d = ep - ep.sum() / sp.sum() * sp
    out = {}
    for k in range(1, depth + 1):
        for combo in combinations(dims, k):
            for values in product(*(sorted(set(attrs[c])) for c in combo)):
                mask = np.ones(len(s), dtype=bool)
                for c, v in zip(combo, values, strict=True):
                    mask &= attrs[c] == v
                n, big_n = int((mask & pool).sum()), int(pool.sum())
                if n < min_size or big_n - n < min_size:
                    continue
                var = n * (big_n - n) / (big_n * (big_n - 1)) * float(d @ d)
                z = d[mask[pool]].sum() / var**0.5 if var > 0 else 0.0
                out[tuple(zip(combo, values, strict=True))] = 2 * norm.sf(abs(z))
    return out


@st.composite
def retention_data(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(40, 160))
    attrs = {
        "a": rng.choice(["x", "y"], n),
        "b": rng.choice(["u", "v", "w"], n),
        "c": rng.choice(["k", "l"], n, p=[0.8, 0.2]),
    }
    s = np.round(rng.lognormal(5, 0.6, n), 2)
    lift = np.where(attrs["a"] == "x", draw(st.sampled_from([0.0, 0.2, 0.5])), 0.0)
    e = np.where(rng.random(n) < 0.1, 0.0, np.round(s * rng.normal(1 + lift, 0.3, n).clip(0), 2))
    return attrs, s, e, draw(st.integers(5, 30))


@FAST
@given(retention_data())
def test_every_round_tests_its_candidates_by_definition_and_pockets_are_significant(data):
    attrs, s, e, min_size = data
    dims = ("a", "b", "c")
    cands = candidates(pl.DataFrame(attrs), dims, 2)
    pool = np.ones(len(s), dtype=bool)
    for best, members in greedy_pockets(cands, s, e, min_size, 0.05):
        tests = round_tests(cands, s, e, pool, min_size)
        mine = {
            tuple(cands.conditions(r["combo"], r["key"]).items()): r["p_value"]
            for r in tests.iter_rows(named=True)
        }
        ref = brute_force(attrs, dims, 2, s, e, pool, min_size)
        assert mine.keys() == ref.keys()
        assert all(mine[k] == pytest.approx(ref[k], abs=1e-12) for k in ref)
        # No candidate below the minimum in or out; the pocket is significant in its round.
        assert tests.filter(
            (pl.col("n") < min_size) | (int(pool.sum()) - pl.col("n") < min_size)
        ).is_empty()
        assert best["q_value"] <= 0.05 and best["p_value"] <= best["q_value"]
        assert best["n"] == members.sum() >= min_size
        assert not (members & ~pool).any()
        pool &= ~members


def planted(seed: int, n: int = 2000):
    """Vertical A x SMB grows 30 points more than the rest; noise_0..2 mean nothing."""
    rng = np.random.default_rng(seed)
    vertical = rng.choice(["A", "B", "C", "D"], n)
    band = rng.choice(["SMB", "Mid-Market", "Enterprise"], n)
    region = rng.choice(["NA", "EMEA", "APAC", "LATAM"], n)
    s = np.round(rng.lognormal(6, 0.5, n), 2)
    growth = rng.normal(1.0, 0.3, n) + np.where((vertical == "A") & (band == "SMB"), 0.3, 0.0)
    e = np.where(rng.random(n) < 0.1, 0.0, np.round(s * growth.clip(0.2), 2))
    ids = [f"a{i:05d}" for i in range(n)]
    accs = pl.DataFrame(
        {"account_id": ids, "vertical": vertical, "size_band": band, "region": region}
    )
    rows = [(i, "2024-01", v) for i, v in zip(ids, s, strict=True)]
    rows += [(i, "2025-01", v) for i, v in zip(ids, e, strict=True) if v > 0]
    ds = dataset(accs, mrr=monthly([*rows, (ids[0], "2025-01", 0.0)]))
    # Extra text columns of the accounts are dimensions too (custom attributes).
    noise = [
        pl.Series(f"noise_{k}", rng.choice([f"v{j}" for j in range(3 + k)], n)) for k in range(3)
    ]
    return dataclasses.replace(ds, accounts=ds.accounts.with_columns(noise))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_planted_pocket_is_found_first_and_nothing_on_noise(seed):
    ds = planted(seed)
    settings = MetricSettings(bootstrap_samples=200)
    pockets = discover_pockets(ds, settings, month_key("2025-01"), 12, 2)
    assert pocket_conditions(pockets.row(0, named=True)) == {"vertical": "A", "size_band": "SMB"}
    for row in pockets.iter_rows(named=True):
        assert not any(d.startswith("noise") for d in pocket_conditions(row))
    # Three conditions find the same first pocket (its third condition would only cut it).
    deeper = discover_pockets(ds, settings, month_key("2025-01"), 12, 3)
    assert pocket_conditions(deeper.row(0, named=True)) == {"vertical": "A", "size_band": "SMB"}


def test_a_pocket_reports_its_accounts_and_the_segment_numbers_of_the_scorecard():
    ds = planted(0)
    settings = MetricSettings(bootstrap_samples=200)
    m = month_key("2025-01")
    pockets = discover_pockets(ds, settings, m, 12, 2)
    first = pockets.row(0, named=True)
    listed = pocket_accounts(ds, pockets, 1, m, 12)
    assert listed.columns[:4] == ["account_id", "account_name", "vertical", "size_band"]
    assert listed.height == first["accounts"] == len(first["account_ids"])
    assert listed["end_mrr"].sum() / listed["start_mrr"].sum() == pytest.approx(first["nrr"])
    grr = listed.select(pl.min_horizontal("start_mrr", "end_mrr").sum()).item()
    assert grr / listed["start_mrr"].sum() == pytest.approx(first["grr"])
    kept = listed.filter(pl.col("status") != "churned").height
    assert kept / listed.height == pytest.approx(first["logo_retention"])
    # Round 1's pocket is the whole segment: the scorecard's NRR, interval and CLV.
    sc = segment_scorecard(ds, settings, m, 12, by=["vertical", "size_band"])
    row = sc.filter(vertical="A", size_band="SMB").row(0, named=True)
    assert (first["nrr"], first["nrr_low"], first["nrr_high"]) == pytest.approx(
        (row["nrr"], row["nrr_low"], row["nrr_high"])
    )
    assert first["clv"] == pytest.approx(row["clv"])
    company = segment_scorecard(ds, settings, m, 12, by=(), intervals=False)["nrr"].item()
    assert first["lift"] == pytest.approx(first["nrr"] / company)
    assert first["pocket"] == "A / SMB" and first["round"] == 1
    with pytest.raises(MetricsError, match="there is no pocket 9"):
        pocket_accounts(ds, pockets, 9, m, 12)


def test_depth_is_checked():
    with pytest.raises(MetricsError, match="depth must be 1 to 3"):
        candidates(pl.DataFrame({"plan": PLAN}), ("plan",), 4)
