"""Intervals of metrics/stats.py and the CLV replicates: keyed by accounts, and the fast
paths for large segments agree with the bootstrap they replace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.clv import clv_replicates, fit_sbg_batch, replicate_clv
from metrics.stats import (
    LARGE_SEGMENT,
    count_blocks,
    delta_ratio_interval,
    interval,
    ratio_interval,
    segment_rng,
)


def test_segment_rng_depends_on_the_account_set_not_its_order():
    a = segment_rng(7, "nrr", np.array([5, 1, 9])).random(4)
    b = segment_rng(7, "nrr", np.array([9, 5, 1])).random(4)
    other_set = segment_rng(7, "nrr", np.array([5, 1, 8])).random(4)
    other_purpose = segment_rng(7, "clv", np.array([5, 1, 9])).random(4)
    other_seed = segment_rng(8, "nrr", np.array([5, 1, 9])).random(4)
    assert a.tolist() == b.tolist()
    for c in (other_set, other_purpose, other_seed):
        assert a.tolist() != c.tolist()


def test_count_blocks_draw_n_accounts_per_resample():
    blocks = list(count_blocks(np.random.default_rng(1), 7, 10))
    counts = np.concatenate(blocks)
    assert counts.shape == (10, 7)
    assert (counts.sum(axis=1) == 7).all()
    assert (counts >= 0).all()


def test_delta_interval_by_hand():
    # R = 6/3 = 2; residuals num - 2·den = (-2, 0, 2), Σ² = 8, se = √8 / 3.
    low, high = delta_ratio_interval(np.array([0.0, 2.0, 4.0]), np.ones(3), 0.95)
    se = np.sqrt(8.0) / 3.0
    assert low == pytest.approx(2.0 - 1.959964 * se, rel=1e-6)
    assert high == pytest.approx(2.0 + 1.959964 * se, rel=1e-6)


def test_a_constant_ratio_has_no_spread_on_either_path():
    for n in (20, LARGE_SEGMENT):
        den = np.linspace(1.0, 9.0, n)
        low, high = ratio_interval(1.5 * den, den, 200, np.random.default_rng(0), 0.95)
        assert (low, high) == pytest.approx((1.5, 1.5))


def test_no_accounts_or_no_samples_gives_no_interval():
    rng = np.random.default_rng(0)
    assert ratio_interval(np.array([]), np.array([]), 100, rng, 0.95) == (None, None)
    assert ratio_interval(np.ones(3), np.ones(3), 0, rng, 0.95) == (None, None)
    assert delta_ratio_interval(np.ones(3), np.zeros(3), 0.95) == (None, None)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1e6), st.floats(0.01, 1e6)), min_size=1, max_size=40),
    st.integers(LARGE_SEGMENT, 2 * LARGE_SEGMENT),
)
def test_delta_interval_is_centred_on_the_ratio(rows, n):
    # A large segment made of the drawn accounts repeated: the delta path.
    num = np.resize(np.array([r[0] for r in rows]), n)
    den = np.resize(np.array([r[1] for r in rows]), n)
    low, high = ratio_interval(num, den, 1000, np.random.default_rng(0), 0.9)
    r = num.sum() / den.sum()
    assert low <= r <= high
    assert (low + high) / 2 == pytest.approx(r, rel=1e-9, abs=1e-12)


def _segment(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Heavy-tailed starting MRR, 12% churned, lognormal change for the rest."""
    start = rng.lognormal(6.0, 1.2, n)
    kept = rng.random(n) > 0.12
    return start * np.where(kept, rng.lognormal(0.05, 0.3, n), 0.0), start


@pytest.mark.parametrize("n", [100, LARGE_SEGMENT])
def test_delta_and_bootstrap_cover_the_true_ratio_equally_often(n):
    rng = np.random.default_rng(2024)
    # The population ratio E[end] / E[start], from a sample far larger than any segment.
    end, start = _segment(rng, 4_000_000)
    truth = end.sum() / start.sum()
    sims, boot_hits, delta_hits = 600, 0, 0
    for _ in range(sims):
        e, s = _segment(rng, n)
        low, high = delta_ratio_interval(e, s, 0.95)
        delta_hits += low <= truth <= high
        values = np.concatenate([(c @ e) / (c @ s) for c in count_blocks(rng, n, 500)])
        low, high = interval(values, 0.95)
        boot_hits += low <= truth <= high
    assert abs(delta_hits - boot_hits) / sims <= 0.01
    # Both are honest 95% intervals up to the small-sample skew of heavy tails.
    assert 0.88 <= delta_hits / sims <= 0.98


def _lifetimes(rng: np.random.Generator, n: int, years: int = 10):
    """Accounts observed 1..9 years, churning at a Beta(1, 3) yearly rate, lognormal MRR."""
    observed = rng.integers(1, years, n)
    life = rng.geometric(rng.beta(1.0, 3.0, n))
    lost = life <= observed
    periods = years - 1
    outcome = np.where(lost, life, periods + 1 + observed)
    t = np.arange(years)
    alive = t[None, :] < np.where(lost, life, observed + 1)[:, None]
    active = 12.0 * alive
    revenue = active * rng.lognormal(6.0, 1.0, n)[:, None] * 1.05 ** t[None, :]
    return outcome, revenue, active, periods


def test_clv_interval_of_a_large_segment_matches_the_exact_bootstrap():
    outcome, revenue, active, periods = _lifetimes(np.random.default_rng(3), 2 * LARGE_SEGMENT)
    counts = np.bincount(outcome, minlength=2 * (periods + 1)).astype(np.float64)[None, :]
    start = fit_sbg_batch(counts[:, : periods + 1], counts[:, periods + 1 :])
    bounds = {}
    for exact in (True, False):
        reps = clv_replicates(
            np.random.default_rng(11), outcome, revenue, active, periods, 4000, exact=exact
        )
        values = replicate_clv(*reps, (start[0][0], start[1][0]), 0.1)
        bounds[exact] = interval(values, 0.95)
    width = bounds[True][1] - bounds[True][0]
    # Percentile endpoints of 4,000 replicates move by about 2% of the width between seeds.
    assert abs(bounds[False][0] - bounds[True][0]) < 0.06 * width
    assert abs(bounds[False][1] - bounds[True][1]) < 0.06 * width


def test_clv_limit_replicates_keep_the_outcome_counts_multinomial():
    outcome, revenue, active, periods = _lifetimes(np.random.default_rng(4), LARGE_SEGMENT)
    counts, rev, act = clv_replicates(
        np.random.default_rng(0), outcome, revenue, active, periods, 2000, exact=False
    )
    assert (counts.sum(axis=1) == outcome.size).all()
    assert (counts == np.round(counts)).all()
    assert (rev >= 0).all() and (act >= 0).all()
    # Revenue follows the accounts drawn: its mean over replicates is the segment's
    # (within four standard errors of the Monte Carlo mean).
    for got, full in ((rev, revenue), (act, active)):
        error = np.abs(got.mean(axis=0) - full.sum(axis=0))
        assert (error <= 4 * got.std(axis=0) / np.sqrt(got.shape[0]) + 1e-9).all()
