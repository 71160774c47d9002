"""The page shell: navigation bar and the page container."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from app import auth, health

NAV = [
    ("Scorecard", "/"),
    ("Cohorts", "/cohorts"),
    ("Accidental ICP", "/accidental-icp"),
    ("ICP drift", "/drift"),
    ("Revenue", "/revenue"),
    ("Upload", "/upload"),
    ("Settings", "/settings"),
]


def shell() -> html.Div:
    """Navigation on top, the current page below."""
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand("ICP Lens", href="/", className="fw-bold"),
                        dbc.Nav(
                            [dbc.NavLink(label, href=href, active="exact") for label, href in NAV],
                            navbar=True,
                        ),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                className="mb-3",
            ),
            auth.session_bar(),
            health.data_status_banner(),
            dbc.Container(dash.page_container, fluid=True),
        ]
    )
