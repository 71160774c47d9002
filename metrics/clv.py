"""Customer lifetime value: simple CLV and cohort CLV from a shifted-beta-geometric fit.

The sBG model (Fader & Hardie, "How to Project Customer Retention", 2007): each
account churns at the end of a period with probability θ, θ ~ Beta(α, β) across
accounts, so S(t) = B(α, β+t) / B(α, β) and P(T = t) = S(t-1) - S(t).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.optimize import minimize

from metrics.cohorts import account_ages, cohort_members
from metrics.model import Dataset, Segments
from metrics.settings import MetricSettings
from metrics.stats import interval, rng_for, weight_blocks

# Search box for log α and log β; fits on the edge mean the data cannot pin them.
_LOG_MIN, _LOG_MAX, _GRID = -7.0, 9.0, 65


def _log_curves(alpha: np.ndarray, beta: np.ndarray, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """log S(t) and log P(T=t) for t = 0..periods; leading axes follow alpha/beta."""
    t = np.arange(1, periods + 1, dtype=np.float64)
    a = alpha[..., None]
    b = beta[..., None]
    steps = np.log((b + t - 1.0) / (a + b + t - 1.0))
    log_s = np.concatenate([np.zeros_like(steps[..., :1]), np.cumsum(steps, axis=-1)], axis=-1)
    log_p = np.concatenate(
        [np.full_like(steps[..., :1], -np.inf), log_s[..., :-1] + np.log(a / (a + b + t - 1.0))],
        axis=-1,
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


def fit_sbg_batch(deaths: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood (α, β) for each row of deaths/censored (replicates x periods).

    Vectorised: a log-spaced grid, then repeated local grids shrinking around each
    row's best point (about 1e-6 in log α, log β), so bootstrap fits need no loop.
    """
    d = np.atleast_2d(np.asarray(deaths, dtype=np.float64))
    c = np.atleast_2d(np.asarray(censored, dtype=np.float64))
    periods = d.shape[1] - 1
    axis = np.linspace(_LOG_MIN, _LOG_MAX, _GRID)
    gu, gv = np.meshgrid(axis, axis, indexing="ij")
    gu, gv = gu.ravel(), gv.ravel()
    log_s, log_p = _log_curves(np.exp(gu), np.exp(gv), periods)
    safe_p = np.where(np.isfinite(log_p), log_p, 0.0)
    ll = d @ safe_p.T + c @ log_s.T
    best = np.argmax(ll, axis=1)
    u, v = gu[best], gv[best]
    step = axis[1] - axis[0]
    offsets = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    ou, ov = (x.ravel() for x in np.meshgrid(offsets, offsets, indexing="ij"))
    while step > 1e-6:
        cu = np.clip(u[:, None] + ou * step, _LOG_MIN, _LOG_MAX)
        cv = np.clip(v[:, None] + ov * step, _LOG_MIN, _LOG_MAX)
        ls, lp = _log_curves(np.exp(cu), np.exp(cv), periods)
        lp = np.where(np.isfinite(lp), lp, 0.0)
        ll = np.einsum("rkt,rt->rk", lp, d) + np.einsum("rkt,rt->rk", ls, c)
        pick = np.argmax(ll, axis=1)
        rows = np.arange(u.size)
        u, v = cu[rows, pick], cv[rows, pick]
        step /= 2.5
    return np.exp(u), np.exp(v)


def fit_sbg_censored(deaths: Sequence[float], censored: Sequence[float]) -> dict[str, float]:
    """Pooled multi-cohort sBG fit with right-censoring, by maximum likelihood (scipy).

    ``deaths[t]``: accounts lost during period t (t >= 1, deaths[0] = 0);
    ``censored[t]``: accounts still alive when last observed, at period t.
    Returns ``{"alpha", "beta", "loglik"}``.
    """
    d, c = _counts(deaths, censored)
    a0, b0 = fit_sbg_batch(d[None, :], c[None, :])

    def negll(x: np.ndarray) -> float:
        return -sbg_loglik(np.exp(x[0]), np.exp(x[1]), d, c)

    res = minimize(
        negll,
        np.log([a0[0], b0[0]]),
        method="Nelder-Mead",
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


def account_lifetimes(ds: Dataset, as_of: int, segs: Segments) -> pl.DataFrame:
    """Per account first active by ``as_of``: yearly lifetime data for the sBG fit.

    ``observed`` = whole years observed (as_of - first month) // 12; ``alive_run`` =
    consecutive yearly checkpoints (ages 0, 12, 24... months) the account was
    active at; it is lost at period ``alive_run`` or censored at ``observed``.
    """
    ages = account_ages(ds, as_of, segs)
    runs = (
        ages.filter(pl.col("age") % 12 == 0)
        .with_columns((pl.col("age") // 12).alias("t"))
        .with_columns((pl.col("t") == pl.int_range(pl.len()).over("idx")).alias("in_run"))
        .group_by("idx")
        .agg(pl.col("in_run").sum().alias("alive_run"))
    )
    members = cohort_members(ds, as_of, segs).with_columns(
        ((as_of - pl.col("first_month")) // 12).alias("observed")
    )
    out = members.join(runs, on="idx", how="left").with_columns(pl.col("alive_run").fill_null(1))
    return out.with_columns(
        (pl.col("alive_run") > pl.col("observed")).alias("censored"),
        pl.min_horizontal(pl.col("alive_run"), pl.col("observed")).alias("period"),
    )


def segment_cohort_clv(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    segs: Segments,
    margins: dict[int, float],
    names: dict[int, str],
    intervals: bool,
) -> pl.DataFrame:
    """Cohort CLV per segment: ``seg, clv, clv_low, clv_high, alpha, beta``.

    ``margins`` and ``names`` map segment numbers to their gross margin and to the
    stable name that seeds their bootstrap.
    """
    years = settings.cohort_clv_years
    lives = account_lifetimes(ds, as_of, segs)
    ages = account_ages(ds, as_of, segs).with_columns((pl.col("age") // 12).alias("t"))
    rev = (
        ages.filter(pl.col("t") < years)
        .group_by("seg", "idx", "t")
        .agg(pl.col("mrr").sum().alias("rev"), pl.len().alias("cnt"))
    )
    periods = int(lives.get_column("period").max() or 0)
    rev_by_seg = rev.partition_by("seg", as_dict=True)
    empty = rev.clear()
    rows = []
    for (seg,), group in lives.sort("idx").partition_by("seg", as_dict=True).items():
        seg_id = int(seg)
        rows.append(
            _one_segment_clv(
                seg_id,
                group,
                rev_by_seg.get((seg,), empty),
                periods,
                years,
                margins.get(seg_id, settings.gross_margin),
                names.get(seg_id, str(seg_id)),
                settings,
                intervals,
            )
        )
    schema = {
        "seg": pl.UInt32,
        "clv": pl.Float64,
        "clv_low": pl.Float64,
        "clv_high": pl.Float64,
        "alpha": pl.Float64,
        "beta": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _one_segment_clv(
    seg: int,
    lives: pl.DataFrame,
    rev: pl.DataFrame,
    periods: int,
    years: int,
    margin: float,
    name: str,
    settings: MetricSettings,
    intervals: bool,
) -> tuple:
    n = lives.height
    idx = lives.get_column("idx").to_numpy()
    period = lives.get_column("period").to_numpy()
    cens = lives.get_column("censored").to_numpy()
    # One-hot of each account's outcome: lost at period t, or censored at t.
    outcome = np.zeros((n, 2 * (periods + 1)))
    outcome[np.arange(n), np.where(cens, periods + 1 + period, period)] = 1.0
    revenue = np.zeros((n, years))
    active = np.zeros((n, years))
    if rev.height:
        ri = np.searchsorted(idx, rev.get_column("idx").to_numpy())
        rt = rev.get_column("t").to_numpy()
        revenue[ri, rt] = rev.get_column("rev").to_numpy() / 100.0
        active[ri, rt] = rev.get_column("cnt").to_numpy()
    if not (period > 0).any():
        return (seg, None, None, None, None, None)
    counts = outcome.sum(axis=0)
    fit = fit_sbg_censored(counts[: periods + 1], counts[periods + 1 :])
    yearly = _carry_forward(revenue.sum(axis=0), active.sum(axis=0), years)
    clv = float(
        cohort_clv_value(
            np.array(fit["alpha"]),
            np.array(fit["beta"]),
            yearly,
            margin,
            years,
            settings.discount_rate,
        )
    )
    low = high = None
    if intervals and settings.bootstrap_samples > 0:
        rng = rng_for(settings.bootstrap_seed, f"clv:{name}")
        values = []
        for w in weight_blocks(rng, n, settings.bootstrap_samples):
            cw = w @ outcome
            a, b = fit_sbg_batch(cw[:, : periods + 1], cw[:, periods + 1 :])
            yr = _carry_forward(w @ revenue, w @ active, years)
            values.append(cohort_clv_value(a, b, yr, margin, years, settings.discount_rate))
        low, high = interval(np.concatenate(values), settings.confidence)
    return (seg, clv, low, high, fit["alpha"], fit["beta"])
