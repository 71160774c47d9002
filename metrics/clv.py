"""Customer lifetime value: simple CLV and cohort CLV from a shifted-beta-geometric fit.

The sBG model (Fader & Hardie, "How to Project Customer Retention", 2007): each
account churns at the end of a period with probability θ, θ ~ Beta(α, β) across
accounts, so S(t) = B(α, β+t) / B(α, β) and P(T = t) = S(t-1) - S(t).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import polars as pl

from metrics.cohorts import account_runs
from metrics.model import Dataset, Segments
from metrics.settings import MetricSettings
from metrics.stats import LARGE_SEGMENT, count_blocks, interval, segment_rng

# Search box for log α and log β; fits on the edge mean the data cannot pin them.
_LOG_MIN, _LOG_MAX, _GRID = -7.0, 9.0, 65
PARALLEL_ROWS = 5_000
"""Replicates from which their fits are split between the cores."""
REPLICATE_STEPS = 4
"""Newton steps fitting a bootstrap replicate from its segment's (α, β): a k-step
bootstrap (Andrews, Econometrica 2002). Steps beyond it move the interval ends of the
test data by less than their Monte Carlo error; they crawl along the likelihood's flat
ridge (no heterogeneity), where the CLV hardly changes."""


def _log_curves(alpha: np.ndarray, beta: np.ndarray, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """log S(t) and log P(T=t) for t = 0..periods; leading axes follow alpha/beta."""
    t = np.arange(1, periods + 1, dtype=np.float64)
    a = alpha[..., None]
    b = beta[..., None]
    steps = np.log((b + t - 1.0) / (a + b + t - 1.0))
    first = np.zeros(steps.shape[:-1] + (1,))
    log_s = np.concatenate([first, np.cumsum(steps, axis=-1)], axis=-1)
    log_p = np.concatenate(
        [first - np.inf, log_s[..., :-1] + np.log(a / (a + b + t - 1.0))], axis=-1
    )
    return log_s, log_p


def sbg_survival(alpha: float, beta: float, periods: int) -> np.ndarray:
    """S(0..periods-1) of the sBG model."""
    log_s, _ = _log_curves(np.asarray(alpha, float), np.asarray(beta, float), max(periods - 1, 0))
    return np.exp(log_s)[:periods]


def sbg_loglik(
    alpha: float, beta: float, deaths: Sequence[float], censored: Sequence[float]
) -> float:
    """Log-likelihood of deaths[t] (lost at period t >= 1) and censored[t] (alive at t)."""
    d, c = _counts(deaths, censored)
    log_s, log_p = _log_curves(np.asarray(alpha, float), np.asarray(beta, float), d.size - 1)
    return float(_dot(d, log_p) + _dot(c, log_s))


def _dot(w: np.ndarray, logs: np.ndarray) -> np.ndarray:
    # 0 * -inf is 0 here: a period nobody died in carries no information.
    return np.where(w > 0, w * np.where(np.isfinite(logs), logs, -1e300), 0.0).sum(axis=-1)


def _counts(deaths: Sequence[float], censored: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(deaths, dtype=np.float64)
    c = np.asarray(censored, dtype=np.float64)
    n = max(d.size, c.size)
    d = np.pad(d, (0, n - d.size))
    c = np.pad(c, (0, n - c.size))
    if n and d[0] != 0:
        raise ValueError("deaths[0] must be 0: nobody is lost before the first period ends")
    if (d < 0).any() or (c < 0).any():
        raise ValueError("survivor counts must not increase")
    return d, c


def fit_sbg_batch(
    deaths: np.ndarray,
    censored: np.ndarray,
    start: tuple[np.ndarray | float, np.ndarray | float] | None = None,
    steps: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood (α, β) for each row of deaths/censored (replicates x periods).

    Vectorised, so bootstrap fits need no loop: a log-spaced grid, a few shrinking
    local grids, then Newton steps to the top. With ``start`` (a known (α, β) near each
    row's optimum, one pair or one per row, as for bootstrap replicates), at most
    ``steps`` analytic Newton steps from it. Rows are fitted independently: a row's
    result does not depend on the others in the batch.
    """
    d = np.atleast_2d(np.asarray(deaths, dtype=np.float64))
    c = np.atleast_2d(np.asarray(censored, dtype=np.float64))
    periods = d.shape[1] - 1
    if start is None:
        axis = np.linspace(_LOG_MIN, _LOG_MAX, _GRID)
        gu, gv = np.meshgrid(axis, axis, indexing="ij")
        gu, gv = gu.ravel(), gv.ravel()
        log_s, log_p = _log_curves(np.exp(gu), np.exp(gv), periods)
        safe_p = np.where(np.isfinite(log_p), log_p, 0.0)
        best = np.argmax(d @ safe_p.T + c @ log_s.T, axis=1)
        u, v = gu[best], gv[best]
        step = axis[1] - axis[0]
    else:
        u = np.broadcast_to(np.log(start[0]), d.shape[:1]).astype(np.float64)
        v = np.broadcast_to(np.log(start[1]), d.shape[:1]).astype(np.float64)
        step = 0.0
    if start is not None:
        # Replicates start at their segment's optimum: analytic Newton steps finish them.
        u, v = _newton_analytic(u, v, d, c, iterations=steps)
        return np.exp(u), np.exp(v)
    offsets = np.array([-1.0, 0.0, 1.0])
    ou, ov = (x.ravel() for x in np.meshgrid(offsets, offsets, indexing="ij"))
    rows = np.arange(u.size)
    for _ in range(6 if step else 0):
        cu = np.clip(u[:, None] + ou * step, _LOG_MIN, _LOG_MAX)
        cv = np.clip(v[:, None] + ov * step, _LOG_MIN, _LOG_MAX)
        pick = np.argmax(_batch_ll(cu, cv, d, c, periods), axis=1)
        u, v = cu[rows, pick], cv[rows, pick]
        step /= 2.0
    u, v = _newton_polish(u, v, d, c, periods)
    return np.exp(u), np.exp(v)


def _batch_ll(
    u: np.ndarray, v: np.ndarray, d: np.ndarray, c: np.ndarray, periods: int
) -> np.ndarray:
    """Log-likelihood per row at log α = u, log β = v (extra trailing axis for candidates)."""
    ls, lp = _log_curves(np.exp(u), np.exp(v), periods)
    lp = np.where(np.isfinite(lp), lp, 0.0)
    return np.einsum("rkt,rt->rk", lp, d) + np.einsum("rkt,rt->rk", ls, c)


def _step_candidates(
    ua: np.ndarray, va: np.ndarray, gu: np.ndarray, gv: np.ndarray,
    huu: np.ndarray, hvv: np.ndarray, huv: np.ndarray, scale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate points (rows x scales) of one step from (ua, va): Newton's where the
    surface is concave, else a short step up the gradient; and each row's step length."""
    su, sv, _ = _step_direction(gu, gv, huu, hvv, huv)
    cu = np.clip(ua[:, None] + su[:, None] * scale, _LOG_MIN, _LOG_MAX)
    cv = np.clip(va[:, None] + sv[:, None] * scale, _LOG_MIN, _LOG_MAX)
    return cu, cv, np.hypot(su, sv)


def _keep_better(
    u: np.ndarray, v: np.ndarray, act: np.ndarray, cu: np.ndarray, cv: np.ndarray,
    cand: np.ndarray, f0: np.ndarray, size: np.ndarray,
) -> np.ndarray:
    """Move the rows ``act`` of (u, v) to their best candidate where it beats ``f0``; which
    of them still move (improved, by a step above the tolerance of 1e-6)."""
    pick = np.argmax(cand, axis=1)
    rows = np.arange(act.size)
    better = cand[rows, pick] > f0
    u[act] = np.where(better, cu[rows, pick], u[act])
    v[act] = np.where(better, cv[rows, pick], v[act])
    return better & (size > 1e-6)


def sbg_weights(d: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sBG log-likelihood as weights: LL = D log α + Σ_i wB_i log(β+i-1)
    - Σ_i wA_i log(α+β+i-1), i = 1..periods, for each row of deaths/censored.

    log S(t) sums log((β+i-1)/(α+β+i-1)) over i <= t and log P(t) = log S(t-1) +
    log(α/(α+β+t-1)), so the term of i collects everyone censored at t >= i and
    lost at t > i (wB), and those lost at i too (wA = wB + d_i); D is all losses.
    """
    periods = d.shape[1] - 1
    kept = np.cumsum(c[:, ::-1], axis=1)[:, ::-1][:, 1:]  # censored at t >= i
    lost = np.cumsum(d[:, ::-1], axis=1)[:, ::-1]
    later = np.concatenate([lost[:, 2:], np.zeros((d.shape[0], 1))], axis=1)[:, :periods]
    w_b = kept + later
    return w_b + d[:, 1:], w_b, d.sum(axis=1)


def _analytic_ll(
    u: np.ndarray, v: np.ndarray, w_a: np.ndarray, w_b: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """LL at log α = u, log β = v (a trailing axis of candidates per row)."""
    i = np.arange(w_a.shape[1], dtype=np.float64)
    a, b = np.exp(u)[..., None], np.exp(v)[..., None]
    wa, wb = w_a[:, None, :], w_b[:, None, :]
    return (
        total[:, None] * u
        + (wb * np.log(b + i)).sum(axis=-1)
        - (wa * np.log(a + b + i)).sum(axis=-1)
    )


def _newton_analytic(
    u: np.ndarray, v: np.ndarray, d: np.ndarray, c: np.ndarray, iterations: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on the exact gradient and Hessian of LL in (log α, log β), kept only
    where they improve the fit; a step up the gradient where the surface is not concave.
    Same optimum as :func:`_newton_polish`, at a fraction of its cost: four sums per row
    and step instead of seven likelihoods.

    Each step backtracks: tried whole, then halved (to 1/32) on the rows it did not
    improve, so a row pays one likelihood per step near its optimum. Off the concave
    region (a segment whose best fit lies toward the boundary, e.g. no heterogeneity),
    the gradient step starts at 4 units of log and halves to 1/64: the ridge is climbed in
    a few long steps instead of many of half a unit.
    """
    w_a, w_b, total = sbg_weights(d, c)
    # Periods x rows: every sum below adds a few long contiguous rows, not many short ones.
    w_a, w_b = np.ascontiguousarray(w_a.T), np.ascontiguousarray(w_b.T)
    i = np.arange(w_a.shape[0], dtype=np.float64)[:, None]
    u, v = u.copy(), v.copy()
    f = _ll_columns(u, v, w_a, w_b, total, i)
    act = np.arange(u.size)
    for _ in range(iterations):
        ua, va = u[act], v[act]
        wa, wb, dt = w_a[:, act], w_b[:, act], total[act]
        a, b = np.exp(ua), np.exp(va)
        rx = 1.0 / (a + b + i)
        ry = 1.0 / (b + i)
        qa, qb = wa * rx, wb * ry
        sa1, sa2 = qa.sum(axis=0), (qa * rx).sum(axis=0)
        sb1, sb2 = qb.sum(axis=0), (qb * ry).sum(axis=0)
        gu, gv = dt - a * sa1, b * (sb1 - sa1)
        huu = a**2 * sa2 - dt + gu
        hvv = b**2 * (sa2 - sb2) + gv
        huv = a * b * sa2
        # On a bound of the search box with the gradient pointing out, the step moves
        # along the bound: the other coordinate alone (projected gradient and Hessian).
        for g, h, at in ((gu, huu, ua), (gv, hvv, va)):
            out = ((at >= _LOG_MAX) & (g > 0)) | ((at <= _LOG_MIN) & (g < 0))
            g[out], h[out], huv[out] = 0.0, -1.0, 0.0
        su, sv, concave = _step_direction(gu, gv, huu, hvv, huv)
        size = np.hypot(su, sv)
        length = np.where(concave, 1.0, 8.0)
        moving = np.zeros(act.size, dtype=bool)
        pending = np.arange(act.size)
        while pending.size:
            rows = act[pending]
            cu = np.clip(u[rows] + su[pending] * length[pending], _LOG_MIN, _LOG_MAX)
            cv = np.clip(v[rows] + sv[pending] * length[pending], _LOG_MIN, _LOG_MAX)
            whole = pending.size == act.size
            fc = _ll_columns(
                cu, cv, wa if whole else w_a[:, rows], wb if whole else w_b[:, rows],
                total[rows], i,
            )
            better = fc > f[rows]
            took = rows[better]
            u[took], v[took], f[took] = cu[better], cv[better], fc[better]
            moving[pending[better]] = size[pending[better]] > 1e-6
            pending = pending[~better]
            length[pending] /= 2.0
            pending = pending[length[pending] >= 1.0 / 32]
        act = act[moving]
        if not act.size:
            break
    return u, v


def _ll_columns(
    u: np.ndarray, v: np.ndarray, w_a: np.ndarray, w_b: np.ndarray, total: np.ndarray,
    i: np.ndarray,
) -> np.ndarray:
    """:func:`_analytic_ll` at one point per row, weights laid out periods x rows."""
    b = np.exp(v)
    return (
        total * u
        + (w_b * np.log(b + i)).sum(axis=0)
        - (w_a * np.log(np.exp(u) + b + i)).sum(axis=0)
    )


def _step_direction(
    gu: np.ndarray, gv: np.ndarray, huu: np.ndarray, hvv: np.ndarray, huv: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton's step where the surface is concave, else half a unit up the gradient; and
    where it is concave."""
    det = huu * hvv - huv**2
    ok = (huu < 0) & (det > 0)
    safe = np.where(ok, det, 1.0)
    norm = np.maximum(np.hypot(gu, gv), 1e-300)
    su = np.where(ok, -(hvv * gu - huv * gv) / safe, 0.5 * gu / norm)
    sv = np.where(ok, -(huu * gv - huv * gu) / safe, 0.5 * gv / norm)
    return su, sv, ok


def _newton_polish(
    u: np.ndarray, v: np.ndarray, d: np.ndarray, c: np.ndarray, periods: int
) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on finite-difference derivatives, kept only where they improve the fit.

    The likelihood has a long curved ridge in (log α, log β) that a pattern search
    crawls along; Newton steps reach its top in a few iterations. Where the
    surface is not concave yet, a short step up the gradient replaces Newton's.
    Each step is tried whole, halved and quartered; the best improvement is kept.
    """
    h = 1e-4
    du = np.array([0.0, h, -h, 0.0, 0.0, h, -h])
    dv = np.array([0.0, 0.0, 0.0, h, -h, h, -h])
    scale = np.array([1.0, 0.5, 0.25])
    u, v = u.copy(), v.copy()
    # Rows still moving: a row that did not improve would take the same step again, and
    # one whose step is below the tolerance (1e-6 in log α, log β) has converged.
    act = np.arange(u.size)
    for _ in range(12):
        ua, va, da, ca = u[act], v[act], d[act], c[act]
        ll = _batch_ll(ua[:, None] + du, va[:, None] + dv, da, ca, periods)
        f0 = ll[:, 0]
        gu = (ll[:, 1] - ll[:, 2]) / (2 * h)
        gv = (ll[:, 3] - ll[:, 4]) / (2 * h)
        huu = (ll[:, 1] - 2 * f0 + ll[:, 2]) / h**2
        hvv = (ll[:, 3] - 2 * f0 + ll[:, 4]) / h**2
        huv = (ll[:, 5] - ll[:, 1] - ll[:, 3] + 2 * f0 - ll[:, 2] - ll[:, 4] + ll[:, 6]) / (
            2 * h**2
        )
        cu, cv, size = _step_candidates(ua, va, gu, gv, huu, hvv, huv, scale)
        cand = _batch_ll(cu, cv, da, ca, periods)
        moving = _keep_better(u, v, act, cu, cv, cand, f0, size)
        if not moving.any():
            break
        act = act[moving]
    return u, v


def fit_sbg_censored(deaths: Sequence[float], censored: Sequence[float]) -> dict[str, float]:
    """Pooled multi-cohort sBG fit with right-censoring, by maximum likelihood (scipy).

    ``deaths[t]``: accounts lost during period t (t >= 1, deaths[0] = 0);
    ``censored[t]``: accounts still alive when last observed, at period t.
    Returns ``{"alpha", "beta", "loglik"}``.
    """
    # scipy.optimize costs ~0.5 s to import; only this reference fit uses it.
    from scipy.optimize import minimize

    d, c = _counts(deaths, censored)
    a0, b0 = fit_sbg_batch(d[None, :], c[None, :])

    def negll(x: np.ndarray) -> float:
        return -sbg_loglik(np.exp(x[0]), np.exp(x[1]), d, c)

    res = minimize(
        negll,
        np.log([a0[0], b0[0]]),
        method="Nelder-Mead",
        bounds=[(_LOG_MIN, _LOG_MAX)] * 2,
        options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000},
    )
    alpha, beta = float(np.exp(res.x[0])), float(np.exp(res.x[1]))
    return {"alpha": alpha, "beta": beta, "loglik": sbg_loglik(alpha, beta, d, c)}


def fit_sbg(alive: Sequence[int]) -> dict[str, float]:
    """sBG fit of one cohort's survivors ``[n0, n1, ..., nT]`` by maximum likelihood.

    Returns ``{"alpha", "beta", "loglik"}``; Fader & Hardie (2007) Table 1 is the
    published check.
    """
    n = np.asarray(alive, dtype=np.float64)
    if n.size < 2:
        raise ValueError("need survivor counts for at least two periods")
    deaths = np.concatenate([[0.0], n[:-1] - n[1:]])
    censored = np.zeros_like(n)
    censored[-1] = n[-1]
    return fit_sbg_censored(deaths, censored)


def cohort_clv_value(
    alpha: np.ndarray,
    beta: np.ndarray,
    yearly_revenue: np.ndarray,
    margin: float,
    years: int,
    discount: float,
) -> np.ndarray:
    """GM × Σ_{t<H} revenue_t × S(t) / (1+d)^t for each (α, β) row."""
    survival = np.exp(_log_curves(np.asarray(alpha, float), np.asarray(beta, float), years - 1)[0])
    disc = (1.0 + discount) ** -np.arange(years, dtype=np.float64)
    return margin * (yearly_revenue * survival * disc).sum(axis=-1)


def simple_clv(
    arpa: pl.Expr, logo_retention: pl.Expr, window: int, margin: pl.Expr, cap_months: int
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(monthly churn c, lifetime months = min(1/c, cap), simple CLV = ARPA × GM × lifetime)."""
    churn = 1.0 - logo_retention.pow(1.0 / window)
    lifetime = (
        pl.when(churn > 0)
        .then(pl.min_horizontal(1.0 / churn, cap_months))
        .otherwise(pl.when(logo_retention.is_not_null()).then(float(cap_months)))
    )
    return churn, lifetime, arpa * margin * lifetime


def _carry_forward(revenue: np.ndarray, active: np.ndarray, years: int) -> np.ndarray:
    """Yearly revenue per surviving account, last observed value carried forward."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(active > 0, 12.0 * revenue / np.where(active > 0, active, 1.0), np.nan)
    out = np.full(per.shape[:-1] + (years,), np.nan)
    width = min(years, per.shape[-1])
    out[..., :width] = per[..., :width]
    last = np.full(per.shape[:-1], np.nan)
    for t in range(years):
        col = out[..., t]
        last = np.where(np.isfinite(col), col, last)
        out[..., t] = last
    return out


def _alive_runs(runs: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Per account of ``account_runs`` (sorted by idx, a0): ``idx, seg, first_month,
    alive_run``, the consecutive yearly checkpoints (ages 0, 12, 24... months) it was
    active at.

    A run covers checkpoints ceil(a0/12)..floor(a1/12). The checkpoints are unbroken
    from 0 up to a run exactly when it starts at the number covered by the account's
    runs before it; after a missed checkpoint no later run does. So the unbroken
    runs are the account's first ones (its first starts at age 0), and the last of
    them holds the count: no group-by over accounts is needed.
    """
    first = (pl.col("a0") + 11) // 12
    count = pl.col("a1") // 12 - first + 1
    cum, n, i = pl.col("_cum"), pl.col("_n"), pl.col("idx")
    return (
        runs.lazy()
        .select("idx", "seg", "first_month", first.alias("_k"), count.alias("_n"))
        .filter(n > 0)
        .with_columns(n.cum_sum().alias("_cum"))  # over all accounts
        .with_columns(
            pl.when(i != i.shift(1, fill_value=-1)).then(cum - n).forward_fill().alias("_base")
        )
        .filter(pl.col("_k") == cum - n - pl.col("_base"))
        .filter(i != i.shift(-1, fill_value=-1))
        .select(
            "idx", "seg", "first_month", (cum - pl.col("_base")).cast(pl.Int32).alias("alive_run")
        )
    )


def _lifetimes(alive: pl.DataFrame, as_of: int) -> pl.DataFrame:
    observed = (as_of - pl.col("first_month")) // 12
    return alive.with_columns(observed.alias("observed")).with_columns(
        (pl.col("alive_run") > pl.col("observed")).alias("censored"),
        pl.min_horizontal(pl.col("alive_run"), pl.col("observed")).alias("period"),
    )


def account_lifetimes(runs: pl.DataFrame | pl.LazyFrame, as_of: int) -> pl.DataFrame:
    """Per account of ``account_runs`` (sorted by idx, a0; every account first active by
    ``as_of``): yearly lifetime data for the sBG fit, ``idx, seg, first_month,
    alive_run, observed, censored, period``.

    ``observed`` = whole years observed, (as_of - first month) // 12; ``alive_run``
    = consecutive yearly checkpoints (ages 0, 12, 24... months) the account was
    active at; it is lost at period ``alive_run`` or censored at ``observed``.
    """
    return _lifetimes(_alive_runs(runs).collect(), as_of)


def _yearly_query(runs: pl.DataFrame | pl.LazyFrame, key: str, years: int) -> pl.LazyFrame:
    """Revenue (cents) and active account-months per ``key`` and year of age t < years.

    Each run is split at year boundaries: year t gets its MRR times the months of
    ages 12t..12t+11 it covers.
    """
    horizon = years * 12 - 1
    a0, a1 = pl.col("a0"), pl.min_horizontal("a1", pl.lit(horizon, pl.Int32))
    t = pl.col("t")
    months = pl.min_horizontal(pl.col("_a1"), t * 12 + 11) - pl.max_horizontal(a0, t * 12) + 1
    return (
        runs.lazy()
        .filter(a0 <= horizon)
        .select(
            key,
            "mrr",
            "a0",
            a1.alias("_a1"),
            pl.int_ranges(a0 // 12, a1 // 12 + 1, dtype=pl.Int32).alias("t"),
        )
        .explode("t")
        .select((pl.col(key).cast(pl.Int64) * 64 + t).alias("k"), "mrr", months.alias("_m"))
        .group_by("k")
        .agg((pl.col("mrr") * pl.col("_m")).sum().alias("rev"), pl.col("_m").sum().alias("cnt"))
        .select(
            (pl.col("k") // 64).cast(pl.UInt32).alias(key),
            (pl.col("k") % 64).cast(pl.Int64).alias("t"),
            "rev",
            pl.col("cnt").cast(pl.UInt32),
        )
    )


def segment_cohort_clv(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    segs: Segments,
    margins: dict[int, float],
    intervals: bool,
) -> pl.DataFrame:
    """Cohort CLV per segment: ``seg, clv, clv_low, clv_high, alpha, beta``.

    All segments are fitted at once (``fit_sbg_batch``), and so are all their
    bootstrap replicates; ``margins`` maps segment numbers to their gross margin.
    CLV is null for a segment with no account observed a full year.
    """
    years = settings.cohort_clv_years
    runs = account_runs(ds, as_of, segs)
    boot = intervals and settings.bootstrap_samples > 0
    queries = [_alive_runs(runs), _yearly_query(runs, "seg", years)]
    if boot:
        queries.append(_yearly_query(runs, "idx", years))
    alive, yearly, *acc = pl.collect_all(queries)
    lives = _lifetimes(alive, as_of)
    periods = int(lives.get_column("period").max() or 0)
    seg_ids = segs.labels.get_column("seg").to_numpy().astype(np.int64)
    nseg = int(seg_ids.max()) + 1 if seg_ids.size else 0
    # Accounts per segment and outcome (lost at t, or censored at t).
    width = 2 * (periods + 1)
    cell = lives.get_column("seg").to_numpy().astype(np.int64) * width + _outcomes(lives, periods)
    counts = np.bincount(cell, minlength=nseg * width).reshape(nseg, width).astype(np.float64)
    revenue = np.zeros((nseg, years))
    active = np.zeros((nseg, years))
    ys, yt = yearly.get_column("seg").to_numpy(), yearly.get_column("t").to_numpy()
    revenue[ys, yt] = yearly.get_column("rev").to_numpy() / 100.0
    active[ys, yt] = yearly.get_column("cnt").to_numpy()
    margin = np.array([margins.get(k, settings.gross_margin) for k in range(nseg)])
    # A segment needs accounts observed at least one full year to be fitted.
    informative = counts[:, 1 : periods + 1].sum(axis=1) + counts[:, periods + 2 :].sum(axis=1) > 0
    alpha, beta = fit_sbg_batch(counts[:, : periods + 1], counts[:, periods + 1 :])
    per_year = _carry_forward(revenue, active, years)
    clv = cohort_clv_value(alpha, beta, per_year, 1.0, years, settings.discount_rate) * margin
    fitted = informative & np.isfinite(clv)
    low = np.full(nseg, np.nan)
    high = np.full(nseg, np.nan)
    if boot and fitted.any():
        low, high = _clv_intervals(lives, acc[0], periods, settings, margin, fitted, alpha, beta)
    rows = [
        (k, float(clv[k]), _num(low[k]), _num(high[k]), float(alpha[k]), float(beta[k]))
        if fitted[k]
        else (k, None, None, None, None, None)
        for k in range(nseg)
    ]
    schema = {
        "seg": pl.UInt32,
        "clv": pl.Float64,
        "clv_low": pl.Float64,
        "clv_high": pl.Float64,
        "alpha": pl.Float64,
        "beta": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _outcomes(lives: pl.DataFrame, periods: int) -> np.ndarray:
    """Index of each account's outcome: lost at period t (t), or censored at t (periods+1+t)."""
    period = lives.get_column("period").to_numpy()
    cens = lives.get_column("censored").to_numpy()
    return np.where(cens, periods + 1 + period, period)


def _clv_intervals(
    lives: pl.DataFrame,
    acc_year: pl.DataFrame,
    periods: int,
    settings: MetricSettings,
    margin: np.ndarray,
    fitted: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap intervals of the cohort CLV of every fitted segment, resampling each
    segment's accounts (``clv_replicates``), all replicates fitted in one batch.

    Each segment's replicates are drawn from a generator keyed by its accounts and
    start their fit from its own (α, β).
    """
    years, samples = settings.cohort_clv_years, settings.bootstrap_samples
    idx = lives.get_column("idx").to_numpy()
    seg = lives.get_column("seg").to_numpy().astype(np.int64)
    outcome = _outcomes(lives, periods)
    # Revenue (currency) and active months per account (row of lives) and year of age.
    pos = np.searchsorted(idx, acc_year.get_column("idx").to_numpy())
    pos = np.minimum(pos, idx.size - 1)
    mine = idx[pos] == acc_year.get_column("idx").to_numpy()
    t = acc_year.get_column("t").to_numpy()[mine]
    revenue = np.zeros((idx.size, years))
    active = np.zeros((idx.size, years))
    revenue[pos[mine], t] = acc_year.get_column("rev").to_numpy()[mine] / 100.0
    active[pos[mine], t] = acc_year.get_column("cnt").to_numpy()[mine]
    order = np.argsort(seg, kind="stable")
    bounds = np.searchsorted(seg[order], np.arange(margin.size + 1))
    done = [k for k in range(margin.size) if fitted[k] and bounds[k + 1] > bounds[k]]
    reps = []
    for k in done:
        rows = order[bounds[k] : bounds[k + 1]]
        rng = segment_rng(settings.bootstrap_seed, "clv", idx[rows])
        reps.append(
            clv_replicates(rng, outcome[rows], revenue[rows], active[rows], periods, samples)
        )
    low = np.full(margin.size, np.nan)
    high = np.full(margin.size, np.nan)
    if not done:
        return low, high
    cw, rev, act = (np.concatenate(parts) for parts in zip(*reps, strict=True))
    who = np.repeat(np.array(done), samples)
    start = (alpha[who], beta[who])
    values = replicate_clv(cw, rev, act, start, settings.discount_rate) * margin[who]
    for i, k in enumerate(done):
        low[k], high[k] = (
            np.nan if x is None else x
            for x in interval(values[i * samples : (i + 1) * samples], settings.confidence)
        )
    return low, high


def replicate_clv(
    counts: np.ndarray,
    revenue: np.ndarray,
    active: np.ndarray,
    start: tuple[np.ndarray | float, np.ndarray | float],
    discount: float,
) -> np.ndarray:
    """Cohort CLV (margin 1) of each replicate of ``clv_replicates``, fitted from ``start``."""
    periods = counts.shape[1] // 2 - 1
    years = revenue.shape[1]
    rows = counts.shape[0]
    su = np.broadcast_to(np.asarray(start[0], dtype=np.float64), (rows,))
    sv = np.broadcast_to(np.asarray(start[1], dtype=np.float64), (rows,))

    def fit(part: slice) -> tuple[np.ndarray, np.ndarray]:
        return fit_sbg_batch(
            counts[part, : periods + 1], counts[part, periods + 1 :],
            start=(su[part], sv[part]), steps=REPLICATE_STEPS,
        )

    # Rows are fitted independently, so halves fit side by side give the same numbers;
    # numpy releases the GIL on arrays this large.
    workers = min(os.cpu_count() or 1, max(1, rows // PARALLEL_ROWS))
    if workers > 1:
        bounds = np.linspace(0, rows, workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(fit, [slice(lo, hi) for lo, hi in pairwise(bounds)]))
        a, b = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    else:
        a, b = fit(slice(None))
    return cohort_clv_value(a, b, _carry_forward(revenue, active, years), 1.0, years, discount)


def clv_replicates(
    rng: np.random.Generator,
    outcome: np.ndarray,
    revenue: np.ndarray,
    active: np.ndarray,
    periods: int,
    samples: int,
    exact: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bootstrap replicates of a segment's sufficient sums: accounts per outcome
    (samples x 2(periods+1)), revenue and active months per year (samples x years).

    ``outcome``: each account's outcome index (``_outcomes``); ``revenue``, ``active``:
    accounts x years. Exact resampling of the accounts below ``LARGE_SEGMENT``
    accounts (or when ``exact``). From it up, the same distribution drawn from the
    sums' limit: accounts per outcome are multinomial, exactly as under resampling;
    revenue and active months given them are normal around the outcomes' means with
    the within-outcome covariance. Cost: samples x outcomes instead of samples x accounts.
    """
    n = outcome.size
    width = 2 * (periods + 1)
    onehot = np.zeros((n, width))
    onehot[np.arange(n), outcome] = 1.0
    if exact is None:
        exact = n < LARGE_SEGMENT
    if exact:
        blocks = [
            (c @ onehot, c @ revenue, c @ active) for c in count_blocks(rng, n, samples)
        ]
        return tuple(np.concatenate(parts) for parts in zip(*blocks, strict=True))
    size = onehot.sum(axis=0)
    cw = rng.multinomial(n, size / n, size=samples).astype(np.float64)
    y = np.concatenate([revenue, active], axis=1)
    means = (onehot.T @ y) / np.maximum(size, 1.0)[:, None]
    resid = y - means[outcome]
    vals, vecs = np.linalg.eigh(resid.T @ resid)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    ys = np.clip(cw @ means + rng.standard_normal((samples, y.shape[1])) @ root.T, 0.0, None)
    years = revenue.shape[1]
    return cw, ys[:, :years], ys[:, years:]
