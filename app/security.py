"""Web hardening in one place: cookies, CSRF, security headers, size cap, error pages,
request ids and the sign-in rate limit.

CSRF: plain Flask POST routes (sign-in, sign-out, ``/api/import``) need a
Flask-WTF token from the session. Dash's own ``/_dash-update-component`` POSTs
carry no token; they are protected instead by (1) the SameSite=Lax session
cookie, which browsers do not send on cross-site POSTs, (2) requiring the JSON
content type, which a cross-site form cannot send and a cross-site ``fetch`` can
only send after a CORS preflight that this app never grants, and (3) rejecting
an ``Origin`` header that names another site (checked on every write).

Local mode (no sign-in: whoever reaches the server is its admin) answers only to
``Host`` 127.0.0.1, localhost or [::1] with the port it listens on, so a page
that rebinds its own DNS name to 127.0.0.1 cannot drive it.
"""

from __future__ import annotations

import html
import logging
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import dash
import sqlalchemy as sa
from dash.exceptions import DependencyException
from flask import Flask, Response, current_app, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException, MisdirectedRequest, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from app.logging_setup import new_request_id
from db.config import Config, get_config
from db.engine import DB_ERRORS
from db.schema import login_attempts

log = logging.getLogger("icp.security")

DASH_CALLBACK_PATH = "/_dash-update-component"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# What browsers drop from a URL (tabs, newlines) or read as something else (a backslash
# as a slash): no path of the app holds one.
CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x1f\x7f\\]")
# Room for the JSON envelope and form fields around the base64 (or raw) file.
_ENVELOPE_BYTES = 1024 * 1024

csrf = CSRFProtect()


class StartupRefused(RuntimeError):
    """The app must not start as configured; the message says what to do."""


def max_request_bytes(upload_max_mb: int) -> int:
    """Request size cap: one file at the upload cap, base64-encoded (+33%) as dcc.Upload sends it."""
    return math.ceil(upload_max_mb * 1024 * 1024 * 4 / 3) + _ENVELOPE_BYTES


def content_security_policy(script_hashes: list[str]) -> str:
    """The CSP header value: scripts only from this origin plus Dash's own inline scripts.

    Styles allow 'unsafe-inline' because Plotly and React set style attributes;
    style injection cannot run code.
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def local_hosts(port: int | None) -> frozenset[str]:
    """The ``Host`` values a local-mode server answers to: a loopback name with the port it
    listens on (without a port only where none is needed: port 80, or an in-process test
    client when ``port`` is None)."""
    names = ("127.0.0.1", "localhost", "[::1]")
    with_port = {f"{name}:{port}" for name in names} if port is not None else set()
    return frozenset(with_port | (set(names) if port in (None, 80) else set()))


def configure(server: Flask, local: bool, port: int | None = None) -> None:
    """Secret key, cookie flags, size cap, CSRF, request ids, headers and error pages; in
    local mode (``port``: the port it listens on) only loopback ``Host`` names."""
    cfg = get_config()
    server.config.update(
        SECRET_KEY=_secret_key(cfg, local),
        SESSION_COOKIE_NAME="icp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.icp_cookie_secure and not local,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=cfg.icp_session_hours),
        # A sign-in lasts ICP_SESSION_HOURS from sign-in, not from the last click.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=max_request_bytes(cfg.icp_upload_max_mb),
        # Checked in _check_unsafe_request so Dash's JSON callbacks can be told apart.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        PROPAGATE_EXCEPTIONS=False,
    )
    if local:
        server.config["ICP_LOCAL_HOSTS"] = local_hosts(port)
    elif cfg.icp_proxy_count:
        # Not in local mode: no proxy stands before a loopback server, and X-Forwarded-Host
        # would let a page choose the Host checked below.
        n = cfg.icp_proxy_count
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    csrf.init_app(server)
    server.before_request(_assign_request_id)
    server.before_request(_check_host)
    server.before_request(_refuse_malformed_path)
    server.before_request(_check_unsafe_request)
    server.after_request(_add_headers)
    server.register_error_handler(Exception, _error_response)


def install(app: dash.Dash) -> None:
    """Finish the CSP once the Dash app exists: its inline scripts are allowed by hash."""
    app.server.config["ICP_DASH_APP"] = app


def _secret_key(cfg: Config, local: bool) -> str:
    if cfg.icp_secret_key:
        return cfg.icp_secret_key
    if local:
        # Sessions of a local-mode server need not survive a restart.
        return secrets.token_urlsafe(32)
    raise StartupRefused(
        "ICP_SECRET_KEY is not set: every worker must sign sessions with the same key. "
        "Generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` "
        "and set ICP_SECRET_KEY (see docs/deploy.md)."
    )


def _assign_request_id() -> None:
    g.request_id = new_request_id(request.headers.get("X-Request-ID"))


def _check_host() -> None:
    # DNS rebinding: a page on evil.example can point that name at 127.0.0.1 and then talk to
    # the local server as its own origin, with "Host: evil.example". A local server, which
    # asks no one to sign in, answers only to its loopback names (as Jupyter does).
    allowed = current_app.config.get("ICP_LOCAL_HOSTS")
    if allowed is not None and request.host.lower() not in allowed:
        log.warning("request for another host refused", extra={"host": request.host})
        raise MisdirectedRequest(
            "This local server answers only to 127.0.0.1, localhost or [::1] with its port."
        )


def _refuse_malformed_path() -> None:
    # The path is decoded by now ("..%2f__init__.py" is "../__init__.py"): no route of the
    # app has a dot segment, a backslash or a control character, and handing one to Dash's
    # file routes made them fail with a traceback.
    path = request.path
    if CONTROL_OR_BACKSLASH.search(path) or any(part in (".", "..") for part in path.split("/")):
        raise NotFound()


def _check_unsafe_request() -> Response | None:
    if request.method not in UNSAFE_METHODS:
        return None
    # Browsers send Origin with every POST; a script (curl) may not, and is no cross-site
    # page. An Origin must be this very host, as the browser reached it.
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        log.warning("write refused: another origin", extra={"origin": origin})
        return error_page(403, "This request did not come from the dashboard.")
    if request.path == DASH_CALLBACK_PATH:
        if not request.is_json:
            log.warning("dash callback refused: not JSON")
            return error_page(403, "This request did not come from the dashboard.")
        return None
    csrf.protect()
    return None


def _add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _csp())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not request.path.startswith(("/_dash-component-suites/", "/assets/")):
        # Revenue figures must not linger in shared or browser caches.
        response.headers["Cache-Control"] = "no-store"
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def _csp() -> str:
    # Not cached: Dash adds inline scripts (clientside callbacks of pages) at its first
    # request, and hashing a few short scripts costs microseconds.
    app = current_app.config.get("ICP_DASH_APP")
    return content_security_policy(list(app.csp_hashes()) if app is not None else [])


def _error_response(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return error_page(exc.code or 500, exc.description or exc.name)
    if isinstance(exc, DependencyException):
        # Dash's answer to a script or style it does not serve: a path nobody links to.
        log.info("no such component file: %s", request.path)
        return error_page(404, NotFound.description)
    if isinstance(exc, DB_ERRORS):
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return error_page(
            503, "Data temporarily unavailable: the warehouse cannot be reached. "
            "This page retries by itself.", retry=True
        )
    log.exception("unhandled error")
    return error_page(500, "Something went wrong on our side.")


def error_page(status: int, message: str, retry: bool = False) -> Response:
    """A short error answer without internals: JSON for API and Dash calls, else HTML."""
    rid = g.get("request_id", "")
    wants_json = request.path.startswith(("/_dash", "/api/")) or request.is_json
    if wants_json:
        resp = current_app.json.response({"error": message, "request_id": rid})
        resp.status_code = status
        return resp
    refresh = '<meta http-equiv="refresh" content="5">' if retry else ""
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'>{refresh}<title>ICP Lens</title></head>"
        f"<body><h1>{status}</h1><p>{html.escape(message)}</p>"
        f"<p>Reference: {html.escape(rid)}</p><p><a href='/'>Back to ICP Lens</a></p></body></html>"
    )
    return Response(body, status=status, mimetype="text/html")


# The first wait after a key reaches its limit; each further failure doubles it, up to the
# window.
FIRST_LOCKOUT = timedelta(minutes=1)
# How long a sign-in waits for another sign-in of the same account from the same client.
_LOCK_WAIT = "10s"
_LOCK_NOT_AVAILABLE = "55P03"  # Postgres: lock_timeout ran out

T = TypeVar("T")


class SignInLocked(Exception):
    """Too many failed sign-ins of this account from this client: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"sign-in locked for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginLimits:
    """Failed sign-ins allowed per (account, client) and per client, within ``window``."""

    per_account_client: int
    per_client: int
    window: timedelta


def rate_limited_sign_in(
    engine: sa.Engine, email: str, client: str, limits: LoginLimits, verify: Callable[[], T | None]
) -> T | None:
    """``verify()`` (the user, or None for a wrong password) unless ``email`` signing in from
    ``client`` is locked out, which raises :class:`SignInLocked`.

    Only failures count. The key is the pair (account, client address), so a stranger's
    guesses lock out the stranger, not the account; a client's failures over all accounts
    have a larger limit of their own. At a limit the next attempt waits FIRST_LOCKOUT after
    the last failure, twice as long after each further failure, at most the window.

    Kept in the warehouse so every gunicorn worker (and container) sees the same count. The
    password is checked while holding an advisory lock on the (account, client) key, so
    concurrent guesses are checked and counted one at a time and cannot slip past the
    limit, while concurrent correct sign-ins simply succeed one after another.
    """
    pair, whole = f"account:{email} client:{client}", f"client:{client}"
    la = login_attempts.c
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"SET LOCAL lock_timeout = '{_LOCK_WAIT}'"))
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext('icp:login'), hashtext(:k))"), {"k": pair}
            )
            wait = max(
                _lockout(conn, pair, limits.per_account_client, limits.window),
                _lockout(conn, whole, limits.per_client, limits.window),
            )
            if wait > 0:
                raise SignInLocked(math.ceil(wait))
            result = verify()
            conn.execute(
                login_attempts.delete().where(
                    la.key.in_((pair, whole)), la.attempted_at < sa.func.now() - limits.window
                )
            )
            rows = [{"key": pair, "succeeded": result is not None}]
            if result is None:
                # A success does not clear the client's count: one account of one's own
                # must not reset a spray over everyone else's.
                rows.append({"key": whole, "succeeded": False})
            conn.execute(login_attempts.insert(), rows)
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        # Another sign-in of this account from this client held the lock that long.
        raise SignInLocked(1) from None
    return result


def _lockout(conn: sa.Connection, key: str, limit: int, window: timedelta) -> float:
    """Seconds ``key`` must still wait: 0 below ``limit`` failures within the window since
    its last success, else FIRST_LOCKOUT doubled per failure beyond the limit, from the last."""
    la = login_attempts.c
    last_ok = sa.select(sa.func.max(la.attempted_at)).where(la.key == key, la.succeeded).scalar_subquery()
    failures, last, now = conn.execute(
        sa.select(sa.func.count(), sa.func.max(la.attempted_at), sa.func.now()).where(
            la.key == key,
            ~la.succeeded,
            la.attempted_at > sa.func.now() - window,
            la.attempted_at > sa.func.coalesce(last_ok, sa.literal("-infinity").cast(la.attempted_at.type)),
        )
    ).one()
    if failures < limit:
        return 0.0
    wait = min(FIRST_LOCKOUT * 2 ** (failures - limit), window)
    return max((last + wait - now).total_seconds(), 0.0)
