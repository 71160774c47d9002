"""Numbers formatted for people: $1.2M, 107%, 64 days. The one place pages format values."""

from __future__ import annotations

import math

MISSING = "—"


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | int | None) -> str:
    """Currency with a magnitude suffix: $850, $12K, $1.2M, $3.4B."""
    if _missing(value):
        return MISSING
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= limit:
            scaled = v / limit
            # One decimal below 10 ($1.2M), none above ($12M): three significant digits at most.
            text = f"{scaled:.1f}" if scaled < 10 else f"{scaled:.0f}"
            return f"{sign}${text.removesuffix('.0')}{suffix}"
    return f"{sign}${v:,.0f}"


def pct(value: float | int | None, digits: int = 0) -> str:
    """A fraction as a percentage: 1.07 -> 107%."""
    if _missing(value):
        return MISSING
    return f"{float(value) * 100:.{digits}f}%"


def points(value: float | int | None) -> str:
    """A difference of fractions in whole percentage points, signed: -0.06 -> -6 pts,
    -0.003 -> +0 pts (never "-0"), 0.01 -> +1 pt."""
    if _missing(value):
        return MISSING
    n = round(float(value) * 100)
    return f"{n:+d} pt" if abs(n) == 1 else f"{n:+d} pts"


def days(value: float | int | None) -> str:
    """A duration in whole days: 64 days."""
    if _missing(value):
        return MISSING
    n = round(float(value))
    return f"{n} day" if n == 1 else f"{n} days"


def months(value: float | int | None) -> str:
    """A duration in whole months: 18 months."""
    if _missing(value):
        return MISSING
    n = round(float(value))
    return f"{n} month" if n == 1 else f"{n} months"


def multiple(value: float | int | None) -> str:
    """A ratio shown as a multiple: 3.2×."""
    if _missing(value):
        return MISSING
    return f"{float(value):.1f}×"


def factor(value: float | int | None) -> str:
    """A multiple near 1, to two decimals: 1.15×."""
    if _missing(value):
        return MISSING
    return f"{float(value):.2f}×"


def probability(value: float | int | None) -> str:
    """A p- or q-value: 0.032, or < 0.001 when it rounds to zero."""
    if _missing(value):
        return MISSING
    return "< 0.001" if value < 0.001 else f"{float(value):.3f}"


def boolean(value: object) -> str:
    """True / False as yes / no."""
    return MISSING if value is None else ("yes" if value else "no")


def conditions(value: dict[str, str] | None) -> str:
    """A segment's conditions as people read them: region = EMEA · size_band = SMB."""
    if not value:
        return MISSING
    return " · ".join(f"{d} = {v}" for d, v in value.items())


def count(value: float | int | None) -> str:
    """A whole number with thousands separators: 1,234."""
    if _missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def interval(low: float | None, high: float | None, fmt=pct) -> str:
    """A 95% interval in the metric's own format: 98%–117%."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"{fmt(low)}–{fmt(high)}"


TIER_LABELS = {
    "core_icp": "Core ICP",
    "healthy": "Healthy",
    "watch": "Watch",
    "accidental_icp": "Accidental ICP",
    "insufficient_data": "Insufficient data",
}


def tier(value: str | None) -> str:
    """An ICP tier key as people read it: accidental_icp -> Accidental ICP."""
    if value is None:
        return MISSING
    return TIER_LABELS.get(value, value)


def number(value: float | int | None) -> str:
    """Any other number, with separators and one decimal: 1,234.5."""
    if _missing(value):
        return MISSING
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.1f}"


def text(value: object) -> str:
    """Text as it is (missing as a dash)."""
    return MISSING if value is None else str(value)


# One formatter per column kind (app.views.view.Kind); "pct" is the pages' older name
# for "ratio".
FORMATTERS = {
    "money": money,
    "ratio": pct,
    "pct": pct,
    "days": days,
    "multiple": multiple,
    "factor": factor,
    "probability": probability,
    "boolean": boolean,
    "conditions": conditions,
    "count": count,
    "months": months,
    "number": number,
    "points": points,
    "tier": tier,
    "text": text,
}


def by_kind(kind: str, value: object) -> str:
    """Format ``value`` as its column kind says (money, ratio, days, multiple, count...)."""
    return FORMATTERS[kind](value)


def plural(n: float | int, noun: str) -> str:
    """A count with its noun: 1 row, 2 rows, 1,204 problems."""
    return f"{count(n)} {noun}" + ("" if n == 1 else "s")
