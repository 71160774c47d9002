"""The one exception type of the metrics layer for problems a user can act on."""

from __future__ import annotations


class MetricsError(ValueError):
    """A request the metrics layer cannot answer, with a message for the user."""
