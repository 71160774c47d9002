"""CLV: the published sBG fit, survival and the cohort and simple CLV by hand."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.clv import (
    cohort_clv_value,
    fit_sbg,
    fit_sbg_batch,
    fit_sbg_censored,
    sbg_loglik,
    sbg_survival,
)
from metrics.months import month_key
from metrics.scorecard import segment_scorecard
from metrics.settings import MetricSettings
from tests.unit.builders import accounts, dataset, monthly, series
from tests.unit.test_movements import movements_ds

# Fader & Hardie (2007), "How to Project Customer Retention", Table 1, years 0-7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def test_fit_sbg_reproduces_fader_hardie_2007():
    # The paper reports alpha 0.704, beta 1.182, LL -1680.3 (regular) and
    # alpha 0.668, beta 3.806, LL -1611.2 (high end).
    regular = fit_sbg(REGULAR)
    assert round(regular["alpha"], 3) == 0.704
    assert round(regular["beta"], 3) == 1.182
    assert round(regular["loglik"], 1) == -1680.3
    high = fit_sbg(HIGH_END)
    assert round(high["alpha"], 3) == 0.668
    assert round(high["beta"], 3) == 3.806
    assert round(high["loglik"], 1) == -1611.2


def test_censored_fit_pools_cohorts():
    # Two cohorts: one observed 2 periods (100 -> 60 -> 45), one observed 1 (50 -> 35).
    deaths = [0, 40 + 15, 15]
    censored = [0, 35, 45]
    fit = fit_sbg_censored(deaths, censored)
    a, b = fit["alpha"], fit["beta"]
    s1 = b / (a + b)
    s2 = s1 * (b + 1) / (a + b + 1)
    by_hand = 55 * np.log(1 - s1) + 15 * np.log(s1 - s2) + 35 * np.log(s1) + 45 * np.log(s2)
    assert fit["loglik"] == pytest.approx(by_hand)
    for da, db in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)):
        assert sbg_loglik(a * np.exp(da), b * np.exp(db), deaths, censored) < fit["loglik"]


def test_batch_fit_matches_scipy_fit():
    n = np.array(REGULAR, dtype=float)
    deaths = np.concatenate([[0.0], n[:-1] - n[1:]])
    censored = np.zeros_like(n)
    censored[-1] = n[-1]
    a, b = fit_sbg_batch(deaths[None, :], censored[None, :])
    assert a[0] == pytest.approx(0.704, abs=5e-4) and b[0] == pytest.approx(1.182, abs=5e-4)


def test_survival_by_hand():
    assert sbg_survival(1.0, 2.0, 3) == pytest.approx([1.0, 2 / 3, 0.5])


def test_cohort_clv_value_by_hand():
    value = cohort_clv_value(
        np.array(1.0), np.array(2.0), np.array([1200.0, 1200.0, 2400.0]), 0.5, 3, 0.1
    )
    assert float(value) == pytest.approx(0.5 * (1200 + 1200 * (2 / 3) / 1.1 + 2400 * 0.5 / 1.21))


def test_segment_cohort_clv_from_yearly_survival():
    # Ten accounts start 2020-01 at 100 a month; as of 2022-01 each is seen 2 years:
    # 4 are lost in year 1, 1 in year 2 (alive at 12 months, gone at 24), 5 censored.
    rows = []
    for i in range(10):
        months = 6 if i < 4 else 18 if i == 4 else 25
        rows += series(f"a{i}", "2020-01", [100] * months)
    ds = dataset(accounts([(f"a{i}", "X") for i in range(10)]), mrr=monthly(rows))
    settings = MetricSettings(min_accounts=1, bootstrap_samples=0)
    row = segment_scorecard(ds, settings, month_key("2022-01"), 12, by=()).row(0, named=True)
    fit = fit_sbg_censored([0, 4, 1], [0, 0, 5])
    assert row["alpha"] == pytest.approx(fit["alpha"], rel=1e-4)
    assert row["beta"] == pytest.approx(fit["beta"], rel=1e-4)
    # Every surviving account pays 100 a month in every year: 1,200 a year.
    survival = sbg_survival(fit["alpha"], fit["beta"], 10)
    expected = 0.8 * sum(1200 * survival[t] / 1.1**t for t in range(10))
    assert row["clv"] == pytest.approx(expected, rel=1e-4)


def test_clv_interval_is_seeded_and_brackets_the_estimate():
    rows = []
    for i in range(40):
        months = 6 if i % 3 == 0 else 18 if i % 5 == 0 else 30
        rows += series(f"a{i:02d}", "2020-01", [100 + i] * months)
    ds = dataset(accounts([(f"a{i:02d}", "X") for i in range(40)]), mrr=monthly(rows))
    settings = MetricSettings(min_accounts=1, bootstrap_samples=300)
    first = segment_scorecard(ds, settings, month_key("2022-06"), 12, by=()).row(0, named=True)
    again = segment_scorecard(ds, settings, month_key("2022-06"), 12, by=()).row(0, named=True)
    assert (first["clv_low"], first["clv_high"]) == (again["clv_low"], again["clv_high"])
    assert first["clv_low"] < first["clv"] < first["clv_high"]
    assert first["nrr_low"] <= first["nrr"] <= first["nrr_high"]


def test_simple_clv_by_hand():
    settings = MetricSettings(min_accounts=1, bootstrap_samples=0)
    sc = segment_scorecard(movements_ds(), settings, month_key("2024-06"), 3, by=["vertical"])
    x = sc.filter(vertical="X").row(0, named=True)
    y = sc.filter(vertical="Y").row(0, named=True)
    churn = 1 - 0.5 ** (1 / 3)
    assert x["monthly_churn"] == pytest.approx(churn)
    assert x["clv_simple"] == pytest.approx(50 * 0.8 / churn)
    # No logo lost: the lifetime is capped at 120 months.
    assert y["clv_simple"] == pytest.approx(40 * 0.8 * 120)


def test_gross_margin_override_per_segment():
    settings = MetricSettings(
        min_accounts=1, bootstrap_samples=0, gross_margin_overrides={"vertical": {"Y": 0.5}}
    )
    sc = segment_scorecard(movements_ds(), settings, month_key("2024-06"), 3, by=["vertical"])
    y = sc.filter(vertical="Y").row(0, named=True)
    assert y["gross_margin"] == 0.5
    assert y["clv_simple"] == pytest.approx(40 * 0.5 * 120)


def test_analytic_newton_reaches_the_same_optimum_as_the_finite_differences() -> None:
    import numpy as np

    from metrics.clv import _analytic_ll, _newton_analytic, fit_sbg_batch, sbg_loglik, sbg_weights

    rng = np.random.default_rng(3)
    periods, rows = 6, 300
    d = np.zeros((rows, periods + 1))
    c = np.zeros((rows, periods + 1))
    for r in range(rows):
        alive = int(rng.integers(40, 200))
        churn = rng.uniform(0.05, 0.3)
        for t in range(1, periods + 1):
            d[r, t] = rng.binomial(alive, churn)
            alive -= int(d[r, t])
            c[r, t] = rng.binomial(alive, 0.1)
            alive -= int(c[r, t])
        c[r, periods] += alive
    w_a, w_b, total = sbg_weights(d, c)
    # The weights give exactly the likelihood of METRICS.md's sBG.
    for r in range(5):
        u, v = np.log([[1.7]]), np.log([[3.1]])
        direct = sbg_loglik(1.7, 3.1, d[r], c[r])
        assert _analytic_ll(u[0], v[0], w_a[r : r + 1], w_b[r : r + 1], total[r : r + 1])[0, 0] == (
            pytest.approx(direct, rel=1e-12)
        )
    # From the grid fit's optimum nudged away, the analytic steps climb at least as high
    # as the finite-difference steps they replace (the bootstrap replicates' fit).
    from metrics.clv import _newton_polish

    a, b = fit_sbg_batch(d, c)
    start_u, start_v = np.log(a) + 0.2, np.log(b) - 0.2
    u, v = _newton_analytic(start_u, start_v, d, c)
    fu, fv = _newton_polish(start_u, start_v, d, c, periods)
    found = _analytic_ll(u[:, None], v[:, None], w_a, w_b, total)[:, 0]
    before = _analytic_ll(fu[:, None], fv[:, None], w_a, w_b, total)[:, 0]
    start = _analytic_ll(start_u[:, None], start_v[:, None], w_a, w_b, total)[:, 0]
    assert (found >= start).all()
    assert (found >= before - 1e-3).all()
    assert found.sum() >= before.sum() - 1e-2


@pytest.mark.parametrize("accounts_n, seed", [(60, 1), (400, 2), (3000, 3)])
def test_replicates_fitted_in_a_few_steps_give_the_converged_interval(accounts_n, seed) -> None:
    """The k-step bootstrap (REPLICATE_STEPS Newton steps from the segment's fit) ends
    its interval where fully converged fits do, within the bootstrap's own Monte Carlo
    error (about 2% of the CLV at 1,000 replicates); each replicate's fit only climbs."""
    from metrics.clv import (
        REPLICATE_STEPS,
        _analytic_ll,
        _carry_forward,
        _newton_analytic,
        clv_replicates,
        sbg_weights,
    )
    from metrics.stats import interval

    rng = np.random.default_rng(seed)
    periods, years, samples = 7, 10, 1000
    # Accounts with heterogeneous churn (beta-distributed), observed 1..periods years.
    churn = rng.beta(1.2, 4.0, accounts_n)
    seen = rng.integers(1, periods + 1, accounts_n)
    lost = rng.geometric(churn)
    outcome = np.where(lost <= seen, lost, periods + 1 + seen)
    revenue = np.where(np.arange(years) < np.minimum(lost, seen)[:, None], 12_000.0, 0.0)
    active = np.where(revenue > 0, 12.0, 0.0)
    counts = np.zeros(2 * (periods + 1))
    np.add.at(counts, outcome, 1.0)
    a0, b0 = fit_sbg_batch(counts[: periods + 1][None], counts[periods + 1 :][None])
    cw, rev, act = clv_replicates(rng, outcome, revenue, active, periods, samples)
    d, c = cw[:, : periods + 1], cw[:, periods + 1 :]
    u0 = np.full(samples, np.log(a0[0]))
    v0 = np.full(samples, np.log(b0[0]))
    quick = _newton_analytic(u0, v0, d, c, iterations=REPLICATE_STEPS)
    full = _newton_analytic(u0, v0, d, c, iterations=500)
    w_a, w_b, total = sbg_weights(d, c)

    def ll(u, v):
        return _analytic_ll(u[:, None], v[:, None], w_a, w_b, total)[:, 0]

    assert (ll(*quick) >= ll(u0, v0)).all()
    assert (ll(*full) >= ll(*quick) - 1e-9).all()
    per_year = _carry_forward(rev, act, years)

    def ends(u, v):
        values = cohort_clv_value(np.exp(u), np.exp(v), per_year, 1.0, years, 0.1)
        return np.array(interval(values, 0.95))

    converged = ends(*full)
    assert np.abs(ends(*quick) - converged).max() <= 0.02 * converged.mean()
