"""ICP discovery (METRICS.md, "ICP discovery (pockets)"): attribute combinations whose
revenue retention differs from the rest, found in greedy rounds with false discoveries
under control.

Candidates are numbered per combination of dimensions with a mixed-radix key over
the starting cohort (one integer per account and combination), so each round's
tests are a handful of weighted bincounts per combination: no loop over accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import polars as pl

from metrics.accounts import segment_retention_accounts
from metrics.clv import segment_cohort_clv
from metrics.conditions import condition_segments, conditions_label
from metrics.model import Dataset, MetricsError
from metrics.retention import window_pairs
from metrics.settings import MetricSettings
from metrics.stats import bh_qvalues, ratio_interval, segment_rng

MIN_POCKET = 30  # accounts in the pool on each side of a candidate, whatever min_accounts is
MAX_POCKETS = 10
MAX_DEPTH = 3


@dataclass(frozen=True)
class Candidates:
    """Every conjunction of 1..depth conditions over some accounts, as integer keys.

    ``keys[c, a]`` is account a's cell in combination ``combos[c]`` (a tuple of
    dimension numbers): the mixed-radix number of its values' codes, so accounts
    share a key exactly when they meet the same conditions.
    """

    dims: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    combos: tuple[tuple[int, ...], ...]
    keys: np.ndarray
    cells: tuple[int, ...]

    def conditions(self, combo: int, key: int) -> dict[str, str]:
        """The conditions ``{dimension: value}`` of candidate (combo, key)."""
        out = {}
        for dim in reversed(self.combos[combo]):
            key, code = divmod(key, len(self.values[dim]))
            out[self.dims[dim]] = self.values[dim][code]
        return {self.dims[d]: out[self.dims[d]] for d in self.combos[combo]}


def candidates(attrs: pl.DataFrame, dims: tuple[str, ...], depth: int) -> Candidates:
    """The candidates of 1..``depth`` conditions over ``dims`` of ``attrs`` (one row an account)."""
    if not 1 <= depth <= MAX_DEPTH:
        raise MetricsError(f"discovery depth must be 1 to {MAX_DEPTH}, not {depth}")
    codes, values = [], []
    for dim in dims:
        col = attrs.get_column(dim).cast(pl.String).fill_null("Unspecified")
        values.append(tuple(col.unique().sort().to_list()))
        codes.append((col.rank("dense").cast(pl.Int64) - 1).to_numpy())
    combos = tuple(c for k in range(1, depth + 1) for c in combinations(range(len(dims)), k))
    keys = np.zeros((len(combos), attrs.height), dtype=np.int64)
    cells = []
    for i, combo in enumerate(combos):
        size = 1
        for dim in combo:
            keys[i] = keys[i] * len(values[dim]) + codes[dim]
            size *= len(values[dim])
        cells.append(size)
    return Candidates(dims, tuple(values), combos, keys, tuple(cells))


def residual_z_test(
    t: np.ndarray, n: np.ndarray, pool: int, sum_d2: float
) -> tuple[np.ndarray, np.ndarray]:
    """(z, two-sided p) of residual sums ``t`` of groups of ``n`` among ``pool`` accounts.

    Under random assignment of the pool's accounts to a group of n,
    Var(T) = n (N - n) / (N (N - 1)) Σ_P d²; with no spread the test says nothing (p = 1).
    """
    from scipy.special import ndtr  # imported on use: most commands never discover

    var = n * (pool - n) / (pool * (pool - 1.0)) * sum_d2 if pool > 1 else np.zeros(n.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, t / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    return z, 2.0 * ndtr(-np.abs(z))


def round_tests(
    cands: Candidates, s: np.ndarray, e: np.ndarray, pool: np.ndarray, min_size: int
) -> pl.DataFrame:
    """Every candidate with at least ``min_size`` pool accounts in and out, tested.

    ``s``, ``e``: each account's MRR at the window's start and end; ``pool``: which
    accounts are still in the pool. Columns: ``combo, key, conditions (count), n,
    nrr, nrr_rest, score, z, p_value, q_value`` (BH across this round's candidates;
    score = |NRR(G∩P) - NRR(P∖G)| × √n).
    """
    sp, ep = s[pool], e[pool]
    big_n, big_s, big_e = int(pool.sum()), float(sp.sum()), float(ep.sum())
    d = ep - (big_e / big_s) * sp if big_s > 0 else np.zeros_like(sp)
    sum_d2 = float(d @ d)
    parts = []
    for c, combo in enumerate(cands.combos):
        k = cands.keys[c, pool]
        n = np.bincount(k, minlength=cands.cells[c])
        ok = np.nonzero((n >= min_size) & (big_n - n >= min_size))[0]
        if ok.size == 0:
            continue
        n = n[ok].astype(np.float64)
        t = np.bincount(k, weights=d, minlength=cands.cells[c])[ok]
        s_in = np.bincount(k, weights=sp, minlength=cands.cells[c])[ok]
        e_in = np.bincount(k, weights=ep, minlength=cands.cells[c])[ok]
        z, p = residual_z_test(t, n, big_n, sum_d2)
        nrr_in, nrr_out = _ratio(e_in, s_in), _ratio(big_e - e_in, big_s - s_in)
        parts.append(
            pl.DataFrame(
                {
                    "combo": np.full(ok.size, c, dtype=np.int64),
                    "key": ok.astype(np.int64),
                    "conditions": np.full(ok.size, len(combo), dtype=np.int64),
                    "n": n.astype(np.int64),
                    "nrr": nrr_in,
                    "nrr_rest": nrr_out,
                    "score": np.abs(nrr_in - nrr_out) * np.sqrt(n),
                    "z": z,
                    "p_value": p,
                }
            )
        )
    schema = {
        "combo": pl.Int64,
        "key": pl.Int64,
        "conditions": pl.Int64,
        "n": pl.Int64,
        "nrr": pl.Float64,
        "nrr_rest": pl.Float64,
        "score": pl.Float64,
        "z": pl.Float64,
        "p_value": pl.Float64,
    }
    table = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return table.with_columns(
        pl.Series("q_value", bh_qvalues(table.get_column("p_value").to_list()), pl.Float64)
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def pick_pocket(tests: pl.DataFrame, alpha: float) -> dict[str, float] | None:
    """The round's pocket: the significant candidate (q <= alpha) with the highest score.

    Ties go to fewer conditions, then to the first combination and key, so the
    same data always gives the same pockets.
    """
    best = (
        tests.filter(pl.col("q_value") <= alpha)
        .sort(["score", "conditions", "combo", "key"], descending=[True, False, False, False])
        .head(1)
    )
    return best.row(0, named=True) if best.height else None


def greedy_pockets(
    cands: Candidates,
    s: np.ndarray,
    e: np.ndarray,
    min_size: int,
    alpha: float,
    max_pockets: int = MAX_POCKETS,
) -> list[tuple[dict[str, float], np.ndarray]]:
    """Greedy rounds: each takes ``pick_pocket`` of ``round_tests`` and removes its accounts.

    Returns (the pocket's test row, a mask of its accounts) per round, in order.
    """
    pool = np.ones(s.size, dtype=bool)
    found = []
    while len(found) < max_pockets:
        best = pick_pocket(round_tests(cands, s, e, pool, min_size), alpha)
        if best is None:
            break
        members = pool & (cands.keys[int(best["combo"])] == int(best["key"]))
        found.append((best, members))
        pool &= ~members
    return found


def discover_pockets(
    ds: Dataset, settings: MetricSettings, as_of: int, window: int, depth: int
) -> pl.DataFrame:
    """The pockets of the starting cohort at ``as_of - window``, in the order found.

    Candidates are conjunctions of 1..``depth`` conditions over every account
    dimension of the dataset (``Dataset.dimensions``), tested on window
    retention; a candidate needs max(30, min_accounts) pool accounts in and out;
    BH per round at ``settings.alpha``; at most 10 pockets. Columns: ``round,
    conditions (list of {dimension, value}), pocket (label), accounts,
    account_ids, nrr, nrr_low, nrr_high, nrr_rest, grr, logo_retention, clv,
    lift (NRR / company NRR), z, p_value, q_value``. NRR, GRR and logo
    retention are the pocket's accounts' (those still in the pool in its
    round); its interval is the scorecard's (``metrics.stats.ratio_interval``
    keyed by the accounts), so a first-round pocket shows its segment's interval;
    CLV is the cohort CLV of every account meeting the conditions.
    """
    pairs = window_pairs(ds, as_of - window, as_of)
    idx = pairs.get_column("idx")
    s = pairs.get_column("s").to_numpy().astype(np.float64)
    e = pairs.get_column("e").to_numpy().astype(np.float64)
    attrs = ds.accounts[idx]
    cands = candidates(attrs, ds.dimensions, depth)
    found = greedy_pockets(cands, s, e, max(MIN_POCKET, settings.min_accounts), settings.alpha)
    company = float(e.sum() / s.sum()) if s.sum() > 0 else None
    rows = []
    for number, (best, members) in enumerate(found, start=1):
        conditions = cands.conditions(int(best["combo"]), int(best["key"]))
        rows.append(_pocket(ds, settings, as_of, number, conditions, s, e, members, attrs, best))
    out = pl.DataFrame(rows, schema=_SCHEMA, orient="row")
    lift = pl.col("nrr") / company if company else pl.lit(None, pl.Float64)
    return out.with_columns(lift.alias("lift")).select(
        *[c for c in _SCHEMA if c not in _TESTS], "lift", *_TESTS
    )


_TESTS = ("z", "p_value", "q_value")


_SCHEMA = {
    "round": pl.Int64,
    "conditions": pl.List(pl.Struct({"dimension": pl.String, "value": pl.String})),
    "pocket": pl.String,
    "accounts": pl.Int64,
    "account_ids": pl.List(pl.String),
    "nrr": pl.Float64,
    "nrr_low": pl.Float64,
    "nrr_high": pl.Float64,
    "nrr_rest": pl.Float64,
    "grr": pl.Float64,
    "logo_retention": pl.Float64,
    "clv": pl.Float64,
    "z": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
}


def _pocket(
    ds: Dataset,
    settings: MetricSettings,
    as_of: int,
    number: int,
    conditions: dict[str, str],
    s: np.ndarray,
    e: np.ndarray,
    members: np.ndarray,
    accounts: pl.DataFrame,
    best: dict[str, float],
) -> tuple:
    """One pocket's row of ``_SCHEMA``."""
    label = conditions_label(conditions)
    sm, em = s[members], e[members]
    rng = segment_rng(
        settings.bootstrap_seed, "nrr", accounts.get_column("idx").to_numpy()[members]
    )
    low, high = ratio_interval(em, sm, settings.bootstrap_samples, rng, settings.confidence)
    segs = condition_segments(ds, conditions)
    clv = segment_cohort_clv(ds, settings, as_of, segs, {0: settings.margin_for(conditions)}, False)
    return (
        number,
        [{"dimension": d, "value": v} for d, v in conditions.items()],
        label,
        int(members.sum()),
        accounts.get_column("account_id").filter(pl.Series(members)).to_list(),
        float(em.sum() / sm.sum()),
        low,
        high,
        best["nrr_rest"],
        float(np.minimum(sm, em).sum() / sm.sum()),
        float((em > 0).mean()),
        clv.get_column("clv").item(),
        best["z"],
        best["p_value"],
        best["q_value"],
    )


def pocket_conditions(pocket: dict) -> dict[str, str]:
    """A pocket row's conditions as ``{dimension: value}``."""
    return {c["dimension"]: c["value"] for c in pocket["conditions"]}


def pocket_accounts(
    ds: Dataset, pockets: pl.DataFrame, number: int, as_of: int, window: int
) -> pl.DataFrame:
    """The accounts of pocket ``number`` (its round) of ``discover_pockets(ds, ..., as_of,
    window, ...)``, as ``metrics.accounts.retention_accounts`` lists them: Σ end_mrr /
    Σ start_mrr is the pocket's NRR."""
    found = pockets.filter(pl.col("round") == number)
    if found.height == 0:
        raise MetricsError(f"there is no pocket {number}; pockets are 1 to {pockets.height}")
    row = found.row(0, named=True)
    segs = condition_segments(ds, pocket_conditions(row))
    mine = ds.accounts.get_column("account_id").is_in(row["account_ids"])
    codes = pl.select(pl.when(mine).then(segs.codes)).to_series().rename("seg")
    return segment_retention_accounts(ds, replace(segs, codes=codes), as_of, window)
