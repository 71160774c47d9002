"""The ICP priority panel: a scorecard's rated segments in the order to invest in them."""

from __future__ import annotations

from dash import dcc, html

from app.components.widgets import metric_label, tier_badge
from app.views import query as urlstate
from app.views.view import View


def segment_href(view: View, row: dict) -> str:
    """The segment page of a priority row: the view's filters and the row's dimensions."""
    p = view.params
    conditions = {**p.segment(), **{d: row[d] for d in p.by}}
    return "/segment" + urlstate.search({**conditions, "as_of": p.as_of_label, "window": p.window})


def priority_items(view: View) -> list:
    """The panel's content: one line per rated segment (rank, name, tier, reason)."""
    rows = view.rows()
    if not rows:
        return [html.P("No segment is rated yet: each needs at least min_accounts accounts "
                       "in its starting cohort.", className="hint")]
    return [
        html.Ol(
            [
                html.Li(
                    [
                        html.Span(str(r["rank"]), className="priority-rank"),
                        html.Span(dcc.Link(r["segment"], href=segment_href(view, r)),
                                  className="priority-segment"),
                        tier_badge(r["tier"]),
                        html.Span(r["reason"], className="priority-reason"),
                    ],
                    className="priority-item",
                )
                for r in rows
            ],
            className="priority-list",
        )
    ]


def priority_panel(view: View, content_id: str) -> html.Div:
    """The panel: title, how segments are ranked, and the ranked lines under ``content_id``."""
    return html.Div(
        [
            html.Div(metric_label("rank", "priority", "ICP priority"), className="section-title"),
            html.P("Rated segments by CLV, then NRR, then logo retention; TAM breaks the "
                   "remaining ties. Each line says what puts it behind the one above and "
                   "ahead of the one below.", className="hint mb-1"),
            html.Div(priority_items(view), id=content_id),
        ],
        className="panel",
    )
