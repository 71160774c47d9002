"""The URL query string is the view's state: parse it strictly, write it back canonically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from app.views.errors import ViewError
from metrics.errors import MetricsError
from metrics.months import month_key

DIMENSION_LABELS = {
    "vertical": "Vertical",
    "sub_industry": "Sub-industry",
    "size_band": "Size band",
    "region": "Region",
    "use_case": "Use case",
    "lead_source": "Lead source",
}
"""Labels of the built-in dimensions; a custom attribute is labelled from its name."""
# The scorecard's "segment by" label of sub-industry: across all verticals (drilling
# into a vertical shows its own sub-industries).
SEGMENT_BY = {**DIMENSION_LABELS, "sub_industry": "Sub-industry (all verticals)"}
WINDOWS = (3, 6, 12, 24)
PERIODS = ("month", "quarter", "year")
DEPTHS = (1, 2, 3)


class BadParameter(ViewError):
    """A URL parameter the page cannot use; the message names it and its value."""


def as_of(query: Mapping[str, str]) -> str | None:
    """The ``as_of`` month (YYYY-MM), or None for the data's default."""
    value = query.get("as_of")
    if not value:
        return None
    try:
        month_key(value)
    except MetricsError:
        raise BadParameter(
            f"as_of={value!r} is not a month; use YYYY-MM, e.g. as_of=2025-12"
        ) from None
    return value


def window(query: Mapping[str, str]) -> int | None:
    """The retention window in months, or None for the settings' default."""
    value = query.get("window")
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 120:
        raise BadParameter(f"window={value!r} is not a number of months between 1 and 120")
    return int(value)


def dimension_label(dimension: str) -> str:
    """How a dimension is named on a page: 'Size band', or 'Sales motion' for the custom
    attribute ``sales_motion``."""
    return DIMENSION_LABELS.get(dimension) or dimension.replace("_", " ").capitalize()


def dimension(
    query: Mapping[str, str],
    dimensions: Sequence[str],
    key: str = "by",
    default: str = "vertical",
) -> str:
    """A segment dimension named in the URL, one of the data's ``dimensions``."""
    value = query.get(key) or default
    if value not in dimensions:
        raise BadParameter(f"{key}={value!r} is not a dimension; use one of {', '.join(dimensions)}")
    return value


def period(query: Mapping[str, str]) -> str | None:
    """The cohort period (month, quarter or year), or None for the settings' default."""
    value = query.get("period")
    if not value:
        return None
    if value not in PERIODS:
        raise BadParameter(f"period={value!r}; use month, quarter or year")
    return value


def accounts_pick(query: Mapping[str, str]) -> dict[str, Any]:
    """What list of accounts the URL picks: ``movement``, ``cohort`` and ``age``, or
    ``deals`` (statuses, comma-separated); their values are checked in ``params``."""
    age = query.get("age") or None
    if age is not None and not age.isdigit():
        raise BadParameter(f"age={age!r} is not a number of months")
    deals = [d.strip() for d in (query.get("deals") or "").split(",") if d.strip()]
    return {
        "movement": query.get("movement") or None,
        "cohort": query.get("cohort") or None,
        "age": None if age is None else int(age),
        "deals": tuple(deals),
    }


def depth(query: Mapping[str, str]) -> int | None:
    """The discovery depth (conditions a candidate, 1 to 3), or None for the default."""
    value = query.get("depth")
    if not value:
        return None
    if value not in {str(d) for d in DEPTHS}:
        raise BadParameter(f"depth={value!r}; use 1, 2 or 3")
    return int(value)


def dimensions(
    query: Mapping[str, str], dimensions: Sequence[str], default: str = "vertical"
) -> tuple[str, ...]:
    """``by`` as one or two of the data's ``dimensions``, comma-separated
    (``by=vertical,size_band``)."""
    values = [v.strip() for v in (query.get("by") or default).split(",") if v.strip()]
    for v in values:
        dimension({"by": v}, dimensions)
    return tuple(values)


def segment_filters(
    query: Mapping[str, str], dimensions: Sequence[str], prefix: str = ""
) -> dict[str, list[str]]:
    """Filters ``{dimension: [value]}`` from parameters named after the data's ``dimensions``."""
    return {d: [query[prefix + d]] for d in dimensions if query.get(prefix + d)}


def search(params: Mapping[str, object]) -> str:
    """A canonical query string (``?a=1&b=x%20y``), leaving out empty values."""
    kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(kept, quote_via=quote) if kept else ""


def segment_label(filters: Mapping[str, list[str]]) -> str:
    """The name of a segment given by filters: 'Financial Services / Credit Unions'."""
    return " / ".join(v[0] for v in filters.values()) if filters else "Company"
