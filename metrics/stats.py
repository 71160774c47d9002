"""Statistics shared by the metrics: seeded bootstrap resamples, intervals, tests.

scipy.stats is imported inside the tests that use it: it costs about 0.6 s, and most
commands (``icp report scorecard``) run no test.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Sequence
from statistics import NormalDist

import numpy as np

# Resamples x accounts of one block of bootstrap counts; keeps memory flat on big segments.
_BLOCK_CELLS = 4_000_000
# From this many accounts a ratio of sums gets the normal-limit (delta-method) interval
# instead of the bootstrap: on simulated heavy-tailed segments the two cover the true
# ratio equally often (within one point) from 100 accounts up (tests/unit/test_stats.py).
LARGE_SEGMENT = 500


def segment_rng(seed: int, purpose: str, idx: np.ndarray) -> np.random.Generator:
    """A generator keyed by the settings' seed, a purpose (``nrr``, ``clv``) and the
    segment's accounts (their ``idx``, in any order).

    Keying on the account set, not on a label or a position, gives a segment the
    same interval whichever view, filter or grouping reaches it (METRICS.md, Evidence).
    """
    accounts = np.unique(np.asarray(idx, dtype=np.int64)).astype("<u8")
    digest = hashlib.blake2b(accounts.tobytes(), digest_size=8).digest()
    key = [seed, zlib.crc32(purpose.encode("utf-8")), int.from_bytes(digest, "little")]
    return np.random.default_rng(key)


def count_blocks(rng: np.random.Generator, n: int, samples: int) -> Iterator[np.ndarray]:
    """Bootstrap resamples of ``n`` accounts as counts (how often each account was drawn,
    n draws with replacement): ``samples`` rows of n columns, yielded in blocks.

    Drawing indices and counting them is about five times faster than Poisson weights.
    """
    rows = max(1, _BLOCK_CELLS // max(n, 1))
    done = 0
    while done < samples:
        size = min(rows, samples - done)
        draws = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)
        done += size


def interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """Percentile interval of finite bootstrap values (None, None when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def ratio_interval(
    num: np.ndarray,
    den: np.ndarray,
    samples: int,
    rng: np.random.Generator,
    confidence: float,
) -> tuple[float | None, float | None]:
    """Interval of Σ num / Σ den over accounts (rows of num, den).

    Below ``LARGE_SEGMENT`` accounts: percentile bootstrap over accounts, ``samples``
    resamples. From it up: the delta-method interval R ± z·sqrt(Σ (num - R·den)²) / Σ den,
    the bootstrap's normal limit, computed in one pass (no resampling).
    """
    if samples <= 0 or num.size == 0:
        return None, None
    if num.size >= LARGE_SEGMENT:
        return delta_ratio_interval(num, den, confidence)
    values = np.concatenate(
        [_safe_div(c @ num, c @ den) for c in count_blocks(rng, num.size, samples)]
    )
    return interval(values, confidence)


def delta_ratio_interval(
    num: np.ndarray, den: np.ndarray, confidence: float
) -> tuple[float | None, float | None]:
    """Delta-method (linearisation) interval of Σ num / Σ den over independent accounts."""
    total = float(den.sum())
    if total <= 0:
        return None, None
    r = float(num.sum()) / total
    se = float(np.sqrt(np.square(num - r * den).sum())) / total
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return r - z * se, r + z * se


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def mann_whitney(recent: np.ndarray, base: np.ndarray, alternative: str) -> dict[str, float] | None:
    """Mann-Whitney U test of ``recent`` against ``base`` (None when a side is empty)."""
    if len(recent) == 0 or len(base) == 0:
        return None
    from scipy import stats as sps

    res = sps.mannwhitneyu(recent, base, alternative=alternative)
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue)}


def fisher_exact(
    hits_a: int, misses_a: int, hits_b: int, misses_b: int, alternative: str
) -> dict[str, float | None] | None:
    """Fisher exact test of group a's hit rate against group b's (one- or two-sided).

    ``statistic`` is the sample odds ratio (None when a zero cell leaves it
    undefined or infinite, so that JSON stays valid); None when a group is empty.
    """
    if hits_a + misses_a == 0 or hits_b + misses_b == 0:
        return None
    from scipy import stats as sps

    res = sps.fisher_exact([[hits_a, misses_a], [hits_b, misses_b]], alternative=alternative)
    odds = float(res.statistic)
    return {"statistic": odds if np.isfinite(odds) else None, "p_value": float(res.pvalue)}


def poisson_greater(count: int, expected: float) -> float | None:
    """One-sided Poisson p-value of seeing ``count`` or more events when ``expected`` are."""
    if expected <= 0:
        return None
    from scipy import stats as sps

    return float(sps.poisson.sf(count - 1, expected))


def p_text(p: float) -> str:
    """A p-value as a reader sees it: ``p = 0.032``, or ``p < 0.001`` when it rounds to zero."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def bh_qvalues(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q), in the order given.

    q of the i-th smallest of m p-values = min over j >= i of m * p_(j) / j, at
    most 1: rejecting every q <= alpha keeps the false discovery rate <= alpha.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    # The running minimum from the largest p down makes q monotone in p.
    q_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q = np.empty(m)
    q[order] = q_sorted
    return [float(x) for x in q]


def ratio_change_z(s0: np.ndarray, e0: np.ndarray, s1: np.ndarray, e1: np.ndarray) -> float | None:
    """z statistic of the change Σe1/Σs1 - Σe0/Σs0 of a ratio between two moments.

    Arrays are aligned by unit (account or deal; 0 where a unit is not in that
    moment), so a unit in both moments counts once and its two terms stay paired.
    The variance is the delta-method (linearised) one, Σ φ² with
    φ = (e1 - R1 s1)/S1 - (e0 - R0 s0)/S0. None when a side has no starting
    amount or there is no spread.
    """
    big_s0, big_s1 = float(s0.sum()), float(s1.sum())
    if big_s0 <= 0 or big_s1 <= 0:
        return None
    r0, r1 = float(e0.sum()) / big_s0, float(e1.sum()) / big_s1
    phi = (e1 - r1 * s1) / big_s1 - (e0 - r0 * s0) / big_s0
    var = float(np.sum(phi**2))
    if var <= 0:
        return None
    return float((r1 - r0) / np.sqrt(var))


def z_test(z: float, alternative: str) -> dict[str, float]:
    """One-sided normal test of a z statistic: "less" (a fall) or "greater" (a rise)."""
    # cdf(-z) rather than 1 - cdf(z): a tiny upper tail keeps its digits.
    p = NormalDist().cdf(z if alternative == "less" else -z)
    return {"statistic": z, "p_value": p}


def wilson_interval(hits: int, n: int, confidence: float) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion hits / n (None, None when n = 0).

    Used for logo retention: a count of accounts, where the Wilson interval keeps
    its level near 0 and 1 and needs no resampling.
    """
    if n <= 0:
        return None, None
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
