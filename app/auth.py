"""Who is asking, and may they? Role checks used by every page and callback.

Roles, in increasing power: viewer (all dashboards), analyst (also thresholds
and the declared ICP), admin (also upload, rollback, users). In local mode (the
server bound to 127.0.0.1 or localhost) there is no sign-in and the local user
is an admin. Otherwise every request but the health checks and the sign-in page
needs a signed session naming an enabled user of the warehouse's ``users``
table. The session cookie holds the user's id and their session epoch at sign-in;
each request re-reads the user by id and epoch (one primary-key lookup, no cache,
so it holds at once on every worker). Sign-out, disabling or enabling the user and
a new password or role bump the epoch, so every earlier cookie of that user,
replayed or not, stops working at once.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Flask, Response, current_app, g, redirect, request, session
from werkzeug.exceptions import Forbidden, Unauthorized

from app.users import UserRecord, end_sessions, session_user
from db.engine import DB_ERRORS, get_engine

ROLE_RANK = {"viewer": 0, "analyst": 1, "admin": 2}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Reachable without signing in: health checks for load balancers and the sign-in flow.
PUBLIC_PATHS = {
    "/healthz", "/readyz", "/login", "/login/oidc", "/login/oidc/callback", "/_favicon.ico"
}
# Machine endpoints: an anonymous caller gets 401, not a redirect to an HTML page.
API_PREFIXES = ("/_dash-", "/api/")

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


def install(server: Flask, local: bool) -> None:
    """Identify the user of every request: no one to identify in local mode, else the
    signed session's user (anonymous callers are sent to sign in)."""
    server.config["ICP_LOCAL_MODE"] = local
    server.before_request(_load_user)


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


def sign_in(record: UserRecord) -> None:
    """Start a fresh session for ``record`` under its current session epoch (the session is
    rebuilt from nothing, which defeats session fixation)."""
    session.clear()
    session.permanent = True
    session["uid"] = record.user_id
    session["epoch"] = record.session_epoch
    session["email"] = record.email
    session["iat"] = int(time.time())


def sign_out() -> None:
    """End this session and every other session of its user, on every worker."""
    uid = session.get("uid")
    session.clear()
    if uid is not None:
        end_sessions(get_engine(), uid)


def _load_user() -> Response | None:
    if request.path in PUBLIC_PATHS or local_mode():
        return None
    user = _session_user()
    if user is not None:
        g.icp_user = user
        return None
    if request.path.startswith(API_PREFIXES) or request.method != "GET":
        raise Unauthorized("Sign in required.")
    target = request.full_path if request.query_string else request.path
    return redirect(f"/login?next={quote(target, safe='/')}")


def _session_user() -> User | None:
    uid, epoch = session.get("uid"), session.get("epoch")
    if uid is None or epoch is None:
        return None
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if time.time() - session.get("iat", 0) > lifetime:
        session.clear()
        return None
    try:
        record = session_user(get_engine(), uid, epoch)
    except DB_ERRORS:
        # The signed session vouches for the user while the warehouse is down, so pages
        # can show "data temporarily unavailable" instead of bouncing to sign-in; but its
        # epoch cannot be checked, so it vouches for reading only.
        return User(email=session.get("email", ""), role="viewer")
    if record is None:
        session.clear()
        return None
    return User(email=record.email, role=record.role)
