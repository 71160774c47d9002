"""Statistics shared by the metrics: seeded bootstrap weights, intervals, tests."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

import numpy as np
from scipy import stats as sps

# Rows x accounts of one block of bootstrap weights; keeps memory flat on big segments.
_BLOCK_CELLS = 4_000_000


def rng_for(seed: int, key: str) -> np.random.Generator:
    """A generator seeded by the settings' seed and a stable key (segment, purpose).

    Keyed seeds make each segment's interval independent of which other segments
    are computed alongside it.
    """
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def weight_blocks(rng: np.random.Generator, n: int, samples: int) -> Iterator[np.ndarray]:
    """Poisson(1) bootstrap weights over ``n`` accounts, ``samples`` rows in blocks."""
    rows = max(1, _BLOCK_CELLS // max(n, 1))
    done = 0
    while done < samples:
        size = min(rows, samples - done)
        yield rng.poisson(1.0, size=(size, n)).astype(np.float64)
        done += size


def interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """Percentile interval of finite bootstrap values (None, None when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_ratio(
    num: np.ndarray,
    den: np.ndarray,
    samples: int,
    rng: np.random.Generator,
    confidence: float,
) -> tuple[float | None, float | None]:
    """Interval of Σ num / Σ den under resampling of the accounts (rows of num, den)."""
    if samples <= 0 or num.size == 0:
        return None, None
    return bootstrap_stat(num.size, samples, rng, confidence, lambda w: _safe_div(w @ num, w @ den))


def bootstrap_stat(
    n: int,
    samples: int,
    rng: np.random.Generator,
    confidence: float,
    stat: Callable[[np.ndarray], np.ndarray],
) -> tuple[float | None, float | None]:
    """Interval of ``stat(weights)`` (weights: replicates x accounts -> one value per row)."""
    if samples <= 0 or n == 0:
        return None, None
    values = np.concatenate([stat(w) for w in weight_blocks(rng, n, samples)])
    return interval(values, confidence)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def mann_whitney(recent: np.ndarray, base: np.ndarray, alternative: str) -> dict[str, float] | None:
    """Mann-Whitney U test of ``recent`` against ``base`` (None when a side is empty)."""
    if len(recent) == 0 or len(base) == 0:
        return None
    res = sps.mannwhitneyu(recent, base, alternative=alternative)
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue)}


def fisher_exact(
    hits_a: int, misses_a: int, hits_b: int, misses_b: int, alternative: str
) -> float | None:
    """Fisher exact p-value comparing group a's hit rate with group b's (one- or two-sided)."""
    if hits_a + misses_a == 0 or hits_b + misses_b == 0:
        return None
    res = sps.fisher_exact([[hits_a, misses_a], [hits_b, misses_b]], alternative=alternative)
    return float(res.pvalue)


def poisson_greater(count: int, expected: float) -> float | None:
    """One-sided Poisson p-value of seeing ``count`` or more events when ``expected`` are."""
    if expected <= 0:
        return None
    return float(sps.poisson.sf(count - 1, expected))


def p_text(p: float) -> str:
    """A p-value as a reader sees it: ``p = 0.032``, or ``p < 0.001`` when it rounds to zero."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
