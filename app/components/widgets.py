"""Small building blocks: metric label with its definition, KPI card, tier badge, empty
state, dropdown options for values from the data."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable

import dash_bootstrap_components as dbc
from dash import dcc, html

from app.components import charts
from app.views import definitions
from app.views.formats import TIER_LABELS

_tip_ids = itertools.count()

TIER_ORDER = tuple(TIER_LABELS)
# Dash's dropdown indexes every substring of every option's value and label for its search:
# n(n+1)/2 strings for a word of n characters. One option of 10,000 characters froze the
# browser for minutes. Longer values stand in the dropdown as a short key.
OPTION_KEY_CHARS = 64


def option_key(value: str) -> str:
    """What a dropdown holds for ``value``: the value itself, or for a long one its beginning
    and a digest of the whole (the same value, the same key, on every worker)."""
    if len(value) <= OPTION_KEY_CHARS:
        return value
    return f"{value[:40]}\u2026#{hashlib.sha256(value.encode()).hexdigest()[:16]}"


def value_options(values: Iterable[str]) -> list[dict[str, str]]:
    """Dropdown options for values from the data: a short label, the whole value as the
    option's tooltip and :func:`option_key` as what the dropdown holds."""
    return [{"label": charts.short(v), "value": option_key(v), "title": v} for v in values]


def option_value(key: str | None, values: Iterable[str]) -> str | None:
    """The value among ``values`` that a dropdown's ``key`` stands for (a key that stands
    for none of them is a value itself)."""
    if key is None:
        return None
    return {option_key(v): v for v in values}.get(key, key)


def metric_label(key: str, scope: str, text: str | None = None) -> html.Span:
    """A metric's name, underlined dotted, with its METRICS.md definition as a tooltip.

    ``scope`` keeps the tooltip target id unique on the page.
    """
    target = f"tip-{scope}-{key}-{next(_tip_ids)}"
    return html.Span(
        [
            html.Span(text or definitions.name(key), id=target, className="metric-name"),
            dbc.Tooltip(definitions.definition(key), target=target, placement="top"),
        ]
    )


def kpi_card(
    key: str,
    value_id: str,
    value: str,
    note_id: str,
    note: str,
    band: str | None,
    benchmark: str | None,
) -> dbc.Card:
    """A headline number with its name (tooltip), a note and its benchmark colouring.

    The value and note carry ids so a callback can update them in place.
    """
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(metric_label(key, "kpi"), className="kpi-label"),
                html.Div(value, id=value_id, className=f"kpi-value bm-{band or 'none'}"),
                html.Div(note, id=note_id, className="kpi-note"),
                html.Div(benchmark or "\u00a0", className="kpi-benchmark"),
            ]
        ),
        className="kpi-card h-100",
    )


def tier_badge(tier: str) -> html.Span:
    """The coloured badge of an ICP tier."""
    return html.Span(TIER_LABELS.get(tier, tier), className=f"tier-badge tier-{tier}")


def empty_state(title: str = "No data in the warehouse yet") -> dbc.Alert:
    """What a page shows before any data is loaded: the three ways to load it."""
    return dbc.Alert(
        [
            html.H4(title, className="alert-heading"),
            html.P("Load data in one of three ways, then come back to this page:"),
            html.Ul(
                [
                    html.Li(
                        [
                            "Try the demo data: run ",
                            html.Code("icp demo"),
                            " in a terminal.",
                        ]
                    ),
                    html.Li(
                        [
                            "Import your CRM and billing exports: ",
                            html.Code("icp import accounts.csv subscriptions.csv opportunities.csv"),
                            ".",
                        ]
                    ),
                    html.Li(
                        [
                            "Or drag the export files onto the ",
                            dcc.Link("Upload page", href="/upload"),
                            " (admins).",
                        ]
                    ),
                ]
            ),
        ],
        color="info",
        className="empty-state",
    )


def page_header(title: str, subtitle: str) -> html.Div:
    """The title of a page and one line saying what it answers."""
    return html.Div(
        [html.H2(title, className="page-title"), html.P(subtitle, className="page-subtitle")],
        className="page-header",
    )


def problem(message: str) -> dbc.Alert:
    """A message the user can act on (bad URL parameter, no such segment)."""
    return dbc.Alert(message, color="warning", className="mt-2")
