"""The one exception type of the view layer that a user can act on."""

from __future__ import annotations


class ViewError(ValueError):
    """A request the views cannot answer (bad parameter, empty warehouse, bad folder);
    the message is written for the person who asked and names what to change."""
