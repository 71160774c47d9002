"""Benchmarks that colour a number: one rule per metric, thresholds from the settings."""

from __future__ import annotations

from metrics.settings import MetricSettings

# Band names double as CSS classes (bm-<band>) in assets/10-icp.css.
BANDS = ("best", "good", "watch", "bad")

QUICK_RATIO_STRONG = 4.0  # SaaS rule of thumb (Mamoon Hamid): above 4 grows efficiently.


def band(metric: str, value: float | None, settings: MetricSettings) -> str | None:
    """The benchmark band of ``value`` for ``metric``, or None when it has no benchmark."""
    if value is None:
        return None
    if metric == "nrr":
        if value >= settings.core_nrr:
            return "best"
        if value >= settings.healthy_nrr:
            return "good"
        return "watch" if value >= settings.watch_nrr else "bad"
    if metric == "grr":
        if value >= settings.core_grr:
            return "good"
        return "watch" if value >= settings.core_grr - 0.10 else "bad"
    if metric == "quick_ratio":
        if value >= QUICK_RATIO_STRONG:
            return "best"
        return "good" if value >= 1 else "bad"
    return None


def benchmark_text(metric: str, settings: MetricSettings) -> str | None:
    """The benchmark a card states under its number."""
    if metric == "nrr":
        return (
            f"{settings.core_nrr:.0%}+ best in class · {settings.healthy_nrr:.0%} healthy"
        )
    if metric == "grr":
        return f"{settings.core_grr:.0%}+ healthy"
    if metric == "quick_ratio":
        return f"{QUICK_RATIO_STRONG:.0f}+ strong · below 1 shrinking"
    return None
