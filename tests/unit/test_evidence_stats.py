"""The statistics behind alerts and flags: Benjamini-Hochberg, Fisher, Wilson, ratio change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.alerts import Alert, Candidate, significant
from metrics.stats import bh_qvalues, fisher_exact, ratio_change_z, wilson_interval, z_test

FAST = settings(max_examples=200, deadline=None, derandomize=True)
p_values = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30)


def test_bh_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 (m = 4): m p / rank = 0.02, 0.02, 0.04, 0.04, then
    # the running minimum from the top changes nothing.
    assert bh_qvalues([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # 0.001, 0.02, 0.03 (m = 3): 0.003, 0.03, 0.03; the 0.02 takes the 0.03 above it.
    assert bh_qvalues([0.001, 0.03, 0.02]) == pytest.approx([0.003, 0.03, 0.03])
    # 0.04 ranked first of two: 0.08; a q never exceeds 1.
    assert bh_qvalues([0.04, 0.9]) == pytest.approx([0.08, 0.9])
    assert bh_qvalues([0.6, 0.7, 0.8]) == pytest.approx([0.8, 0.8, 0.8])
    assert bh_qvalues([]) == []


@FAST
@given(p_values, st.sampled_from([0.01, 0.05, 0.1]))
def test_bh_rejects_what_the_step_up_rule_rejects(ps, alpha):
    q = bh_qvalues(ps)
    m = len(ps)
    ranked = sorted(ps)
    k = max((i + 1 for i in range(m) if ranked[i] <= (i + 1) * alpha / m), default=0)
    assert sum(x <= alpha for x in q) == k
    assert all(p <= x + 1e-12 and x <= 1.0 for p, x in zip(ps, q, strict=True))
    # Monotone: a smaller p never gets a larger q.
    for a, b in zip(ps, q, strict=True):
        assert all(y >= b - 1e-12 for x, y in zip(ps, q, strict=True) if x >= a)


@FAST
@given(p_values, st.randoms(use_true_random=False))
def test_bh_does_not_depend_on_order(ps, rnd):
    shuffled = list(range(len(ps)))
    rnd.shuffle(shuffled)
    q = bh_qvalues(ps)
    q_shuffled = bh_qvalues([ps[i] for i in shuffled])
    assert q_shuffled == pytest.approx([q[i] for i in shuffled])


def _alert(name: str) -> Alert:
    return Alert("win_rate_trap", {"vertical": name}, name, "2025-01", "", {"p_value": 0})


def test_significant_adjusts_over_every_tested_segment():
    # Three segments tested, one without the effect size: it still counts in m.
    tested = [Candidate(0.01, _alert("A")), Candidate(0.02, _alert("B")), Candidate(0.5, None)]
    kept = significant(tested, 0.05)
    assert [a.segment_label for a in kept] == ["A", "B"]
    assert [a.evidence["q_value"] for a in kept] == pytest.approx([0.03, 0.03])
    # Alone, 0.04 passes; with four untested-effect segments beside it, q = 0.2.
    assert significant([Candidate(0.04, _alert("C"))], 0.05)[0].evidence["q_value"] == 0.04
    assert significant([Candidate(0.04, _alert("C"))] + [Candidate(0.9, None)] * 4, 0.05) == []


def test_fisher_one_sided_by_hand():
    # 3 of 4 against 1 of 4: P(X >= 3) for X hypergeometric (8 balls, 4 hits, 4 drawn)
    # = (C(4,3) C(4,1) + C(4,4) C(4,0)) / C(8,4) = 17 / 70.
    test = fisher_exact(3, 1, 1, 3, "greater")
    assert test["p_value"] == pytest.approx(17 / 70)
    assert test["statistic"] == pytest.approx(9.0)  # odds ratio (3/1) / (1/3)
    # The other side: P(X <= 3) = 1 - 1/70.
    assert fisher_exact(3, 1, 1, 3, "less")["p_value"] == pytest.approx(69 / 70)
    # A zero cell leaves the odds ratio infinite: no statistic rather than invalid JSON.
    assert fisher_exact(4, 0, 1, 3, "greater")["statistic"] is None
    assert fisher_exact(0, 0, 1, 3, "greater") is None


def test_wilson_interval_by_hand():
    # 8 of 10 at 95% (z = 1.96): centre (0.8 + z^2/20) / (1 + z^2/10) = 0.7167, half-width
    # z sqrt(0.016 + z^2/400) / (1 + z^2/10) = 0.2266.
    low, high = wilson_interval(8, 10, 0.95)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(10, 10, 0.95)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0, 0.95) == (None, None)


def test_ratio_change_z_by_hand():
    # Two accounts of 100 each; at the second moment one has halved: R 1.0 -> 0.75.
    # phi = (e1 - 0.75 s1)/200 - (e0 - s0)/200 = -0.125, +0.125: var 0.03125.
    s = np.array([100.0, 100.0])
    z = ratio_change_z(s, s, s, np.array([50.0, 100.0]))
    assert z == pytest.approx(-0.25 / 0.03125**0.5)
    assert z_test(z, "less")["p_value"] == pytest.approx(0.0786496, rel=1e-5)
    assert z_test(z, "greater")["p_value"] == pytest.approx(1 - 0.0786496, rel=1e-5)
    # No spread (nothing changed) or no starting money: no test.
    assert ratio_change_z(s, s, s, s) is None
    assert ratio_change_z(s * 0, s, s, s) is None


amounts = st.lists(st.integers(min_value=0, max_value=1000), min_size=8, max_size=8)


@FAST
@given(amounts, amounts, st.integers(min_value=1, max_value=100))
def test_ratio_change_z_is_antisymmetric_and_scale_free(a, b, scale):
    s0, e0 = np.array(a[:4] + [0] * 4, float), np.array(a[4:] + [0] * 4, float)
    s1, e1 = np.array([0] * 4 + b[:4], float), np.array([0] * 4 + b[4:], float)
    z = ratio_change_z(s0, e0, s1, e1)
    back = ratio_change_z(s1, e1, s0, e0)
    assert (z is None) == (back is None)
    if z is not None:
        assert back == pytest.approx(-z)
        assert ratio_change_z(s0 * scale, e0 * scale, s1 * scale, e1 * scale) == pytest.approx(z)
