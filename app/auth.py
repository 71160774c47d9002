"""Who is asking, and may they? Role checks used by every page and callback.

Roles, in increasing power: viewer (all dashboards), analyst (also thresholds
and the declared ICP), admin (also upload, rollback, users). In local mode (the
server bound to 127.0.0.1 or localhost) there is no sign-in and the local user
is an admin. Otherwise every request but the health checks and the sign-in page
needs a signed session naming an enabled user of the warehouse's ``users``
table; the user is re-read on each request so a disabled user or a changed role
takes effect at once.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from dash import dcc, html
from flask import Flask, Response, current_app, g, has_request_context, redirect, request, session
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import Forbidden

ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Reachable without signing in: health checks for load balancers and the sign-in flow.
PUBLIC_PATHS = {"/healthz", "/readyz", "/login", "/login/oidc", "/login/oidc/callback", "/_favicon.ico"}
# Machine endpoints: an anonymous caller gets 401, not a redirect to an HTML page.
API_PREFIXES = ("/_dash-", "/api/")
SIGN_IN_HELP = "icp users add you@company.com --role admin"

log = logging.getLogger("icp.auth")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    """The person behind a request."""

    email: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user has ``role`` or a more powerful one."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


LOCAL_ADMIN = User(email="local", role="admin")


def configure(server: Flask, host: str | None) -> None:
    """Local mode for a loopback host; otherwise sign-in is required and must be possible.

    Also installs the web hardening, the health checks and the sign-in routes.
    Raises StartupRefused when not in local mode and nobody could sign in.
    """
    from app import api, health, security, signin

    local = host is not None and host in LOCAL_HOSTS
    server.config["ICP_LOCAL_MODE"] = local
    security.configure(server, local)
    server.before_request(_load_user)
    health.register(server)
    signin.register(server)
    api.register(server)
    if not local:
        require_sign_in_possible()


def require_sign_in_possible() -> None:
    """Refuse to start a served (non-local) app that no one could sign in to."""
    from app.health import DB_ERRORS
    from app.security import StartupRefused
    from app.signin import oidc_settings
    from app.users import has_users
    from db.engine import get_engine

    if oidc_settings() is not None:
        return
    try:
        anyone = has_users(get_engine())
    except DB_ERRORS as exc:
        # An unreachable warehouse is a fault to ride out (readyz reports it), not a config error.
        log.warning("could not check for users at startup (%s)", exc.__class__.__name__)
        return
    if not anyone:
        raise StartupRefused(
            "Sign-in is not configured: the users table has no enabled user and OpenID "
            f"Connect is not set up, so no one could sign in. Add an admin first: `{SIGN_IN_HELP}` "
            "(or set ICP_OIDC_ISSUER, ICP_OIDC_CLIENT_ID and ICP_OIDC_CLIENT_SECRET). "
            "To use ICP Lens alone on this machine without sign-in, serve it on 127.0.0.1: `icp serve`."
        )


def local_mode() -> bool:
    """True when the app serves only this machine and needs no sign-in."""
    return bool(current_app.config.get("ICP_LOCAL_MODE"))


def current_user() -> User | None:
    """The signed-in user of this request, the local admin in local mode, else None."""
    if local_mode():
        return LOCAL_ADMIN
    return g.get("icp_user")


def require_role(role: str) -> Callable[[F], F]:
    """Decorator for callbacks and routes: 403 unless the user has ``role``."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or not user.can(role):
                raise Forbidden(f"requires the {role} role")
            return fn(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return wrap


def sign_in(user: User) -> None:
    """Start a fresh session for ``user`` (a new session id defeats session fixation)."""
    session.clear()
    session.permanent = True
    session["email"] = user.email
    session["role"] = user.role
    session["iat"] = int(time.time())


def session_bar() -> html.Div:
    """Who is signed in, with a sign-out button (a CSRF-protected form); empty in local mode."""
    if not has_request_context():
        return html.Div()
    if local_mode():
        # The layout shows the local-mode banner; there is no one to sign out.
        return html.Div(id="icp-session-bar")
    user = current_user()
    if user is None:
        return html.Div(id="icp-session-bar")
    return html.Div(
        html.Form(
            [
                html.Span(f"{user.email} ({user.role})", className="me-2"),
                dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                html.Button("Sign out", type="submit", className="btn btn-sm btn-outline-secondary"),
            ],
            action="/logout",
            method="POST",
            className="d-flex justify-content-end align-items-center mb-2",
        ),
        id="icp-session-bar",
    )


def _load_user() -> Response | None:
    if request.path in PUBLIC_PATHS or local_mode():
        return None
    user = _session_user()
    if user is not None:
        g.icp_user = user
        return None
    if request.path.startswith(API_PREFIXES) or request.method != "GET":
        from app.security import error_page

        return error_page(401, "Sign in required.")
    target = request.full_path if request.query_string else request.path
    return redirect(f"/login?next={quote(target, safe='/')}")


def _session_user() -> User | None:
    from app.health import DB_ERRORS
    from app.users import find_active
    from db.engine import get_engine

    email = session.get("email")
    if not email:
        return None
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if time.time() - session.get("iat", 0) > lifetime:
        session.clear()
        return None
    try:
        record = find_active(get_engine(), email)
    except DB_ERRORS:
        # The signed session vouches for the user while the warehouse is down, so pages
        # can show "data temporarily unavailable" instead of bouncing to sign-in.
        return User(email=email, role=session.get("role", "viewer"))
    if record is None:
        session.clear()
        return None
    return User(email=record.email, role=record.role)
