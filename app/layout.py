"""The page shell: navigation bar (with the open drift-alert badge), local-mode banner, page."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html
from flask import has_request_context
from flask_wtf.csrf import generate_csrf

from app import auth, health
from app.components.demo_ribbon import demo_ribbon
from app.components.viewpage import current
from app.views import USER_ERRORS
from app.views.evidence import open_alert_count

DRIFT_BADGE = "nav-drift-badge"


def _nav_link(label: str, href: str) -> dbc.NavLink:
    if href == "/drift":
        badge = dbc.Badge("", id=DRIFT_BADGE, color="danger", pill=True, className="d-none")
        return dbc.NavLink([label, badge], href=href, active="exact", id="nav-drift")
    return dbc.NavLink(label, href=href, active="exact")


def nav_pages(user: auth.User | None) -> list[dict]:
    """The registered pages to link from the navigation bar, in their ``order``.

    Each page names the role it needs in its ``dash.register_page(..., role=...)``;
    a drill-down page reached from another one says ``nav=False``.
    """
    return [
        page
        for page in dash.page_registry.values()
        if page.get("nav", True)
        and (page["role"] == "viewer" or (user is not None and user.can(page["role"])))
    ]


def session_bar() -> html.Div:
    """Who is signed in, with a sign-out button (a CSRF-protected form); empty in local mode."""
    if not has_request_context():
        return html.Div()
    if auth.local_mode():
        # The layout shows the local-mode banner; there is no one to sign out.
        return html.Div(id="icp-session-bar")
    user = auth.current_user()
    if user is None:
        return html.Div(id="icp-session-bar")
    return html.Div(
        html.Form(
            [
                html.Span(f"{user.email} ({user.role})", className="me-2"),
                dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                html.Button(
                    "Sign out", type="submit", className="btn btn-sm btn-outline-secondary"
                ),
            ],
            action="/logout",
            method="POST",
            className="d-flex justify-content-end align-items-center mb-2",
        ),
        id="icp-session-bar",
    )


def shell() -> html.Div:
    """Navigation on top, the current page below; links the user may not use are hidden."""
    user = auth.current_user()
    links = [_nav_link(page["name"], page["path"]) for page in nav_pages(user)]
    banner = (
        html.Div(
            "Local mode: served on this machine only, no sign-in, you have the admin role.",
            className="local-banner",
            id="local-banner",
        )
        if auth.local_mode()
        else html.Div(id="local-banner", className="d-none")
    )
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand("ICP Lens", href="/", className="fw-bold"),
                        dbc.Nav(links, navbar=True, className="ms-auto"),
                        html.Div(session_bar(), className="session-slot ms-3"),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
            ),
            banner,
            demo_ribbon(),
            health.data_status_banner(),
            dbc.Container(
                # A page whose numbers are not cached yet takes a moment to build: show it.
                dcc.Loading(
                    dash.page_container,
                    target_components={"_pages_content": "children"},
                    delay_show=300,
                    type="default",
                    overlay_style={"visibility": "visible", "opacity": 0.5},
                ),
                fluid=True,
                className="pt-3 pb-4",
            ),
        ]
    )


@callback(
    Output(DRIFT_BADGE, "children"),
    Output(DRIFT_BADGE, "className"),
    Input("_pages_location", "pathname"),
)
def drift_badge(_pathname: str | None) -> tuple[str, str]:
    """The count of open drift alerts beside the ICP drift link (hidden at zero)."""
    try:
        n = open_alert_count(current())
    except USER_ERRORS:
        n = 0
    return (str(n), "ms-1") if n else ("", "d-none")
