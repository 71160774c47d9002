"""Scorecard (home). Until the pages issue lands it shows what the warehouse holds."""

from __future__ import annotations

import dash
import sqlalchemy as sa
from dash import html

dash.register_page(__name__, path="/", name="Scorecard", order=0)


def layout(**_query: str) -> html.Div:
    """Warehouse row counts and a plain note that the scorecard is coming."""
    from db.engine import get_engine

    with get_engine().connect() as conn:
        counts = {
            t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("accounts", "subscriptions", "opportunities")
        }
    return html.Div(
        [
            html.H2("Segment scorecard"),
            html.P("The segment scorecard is coming with the dashboard pages; no metrics are shown yet."),
            html.Ul([html.Li(f"{name}: {n:,} rows in the warehouse") for name, n in counts.items()]),
        ]
    )
