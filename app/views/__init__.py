"""The view layer: one function per view, rendered by pages, CLI, CSV and JSON alike.

``VIEWS`` maps a view's name to its function ``(Context, ViewParams) -> View``.
Importing this package registers every view.
"""

from __future__ import annotations

from app.views import (
    accounts,
    cohorts,
    discovery,
    economics,
    evidence,
    history,
    priority,
    revenue,
    sales,
    scorecard,
    targets,
)
from app.views.errors import ViewError
from app.views.registry import VIEWS
from metrics.attributes import band_labels, band_name, bounds_text, parse_bounds
from metrics.errors import MetricsError
from metrics.settings import MetricSettings

# What a user can act on: pages and commands print these as messages, never a traceback.
USER_ERRORS = (ViewError, MetricsError)

__all__ = [
    "MetricSettings",
    "band_labels",
    "band_name",
    "bounds_text",
    "parse_bounds",
    "USER_ERRORS",
    "VIEWS",
    "ViewError",
    "accounts",
    "cohorts",
    "discovery",
    "economics",
    "evidence",
    "history",
    "priority",
    "revenue",
    "sales",
    "scorecard",
    "targets",
]
