"""The sign-in page, sign-out, and optional OpenID Connect sign-in (Authlib).

The page is plain server-rendered HTML (no Dash, no scripts) so it needs no
assets and works under the strict CSP before anyone is signed in.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, current_app, redirect, request, session, url_for
from flask_wtf.csrf import generate_csrf

from app.auth import sign_in, sign_out
from app.security import (
    CONTROL_OR_BACKSLASH,
    LoginLimits,
    SignInLocked,
    StartupRefused,
    rate_limited_sign_in,
)
from app.users import UserError, authenticate, has_users, record_sso_sign_in
from db.config import get_config
from db.engine import DB_ERRORS, get_engine
from db.schema import ROLES

SIGN_IN_HELP = "icp users add you@company.com --role admin"

log = logging.getLogger("icp.signin")

oauth = OAuth()


class OidcConfigError(ValueError):
    """The ICP_OIDC_* variables are set but incomplete or wrong."""


@dataclass(frozen=True)
class OidcSettings:
    """OpenID Connect configuration, from the ICP_OIDC_* environment variables."""

    issuer: str
    client_id: str
    client_secret: str | None
    role_claim: str | None
    default_role: str
    allowed_domains: frozenset[str]

    @property
    def metadata_url(self) -> str:
        """The issuer's discovery document."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def oidc_settings() -> OidcSettings | None:
    """The OIDC settings, None when OIDC is off (no issuer); OidcConfigError when half set."""
    cfg = get_config()
    if not cfg.icp_oidc_issuer:
        return None
    if not cfg.icp_oidc_client_id:
        raise OidcConfigError("ICP_OIDC_ISSUER is set but ICP_OIDC_CLIENT_ID is not")
    if not cfg.icp_oidc_issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise OidcConfigError(f"ICP_OIDC_ISSUER must be an https URL, got '{cfg.icp_oidc_issuer}'")
    if cfg.icp_oidc_default_role not in ROLES:
        raise OidcConfigError(
            f"ICP_OIDC_DEFAULT_ROLE is '{cfg.icp_oidc_default_role}': use one of {', '.join(ROLES)}"
        )
    domains = frozenset(
        d.strip().lower().lstrip("@") for d in (cfg.icp_oidc_allowed_domains or "").split(",") if d.strip()
    )
    return OidcSettings(
        issuer=cfg.icp_oidc_issuer,
        client_id=cfg.icp_oidc_client_id,
        client_secret=cfg.icp_oidc_client_secret,
        role_claim=cfg.icp_oidc_role_claim,
        default_role=cfg.icp_oidc_default_role,
        allowed_domains=domains,
    )


def role_from_claims(claims: dict, claim: str | None) -> str | None:
    """The most powerful valid role named by ``claims[claim]`` (a string or a list), or None."""
    if not claim or claim not in claims:
        return None
    value = claims[claim]
    named = [value] if isinstance(value, str) else list(value or [])
    valid = [r for r in ROLES if r in named]
    return valid[-1] if valid else None


def sso_claims(token: dict, role_claim: str | None) -> dict:
    """The signed-in user's claims: the ID token's, completed from the provider's UserInfo
    endpoint when they lack the email or the role claim.

    Providers that follow OpenID Connect Core 5.4 to the letter (node-oidc-provider by
    default) put the email and profile claims in UserInfo, not in the ID token, when they
    also issue an access token.
    """
    claims = dict(token.get("userinfo") or {})
    if "email" in claims and (not role_claim or role_claim in claims):
        return claims
    info = oauth.oidc.userinfo(token=token)
    # UserInfo must describe the ID token's subject (Core 5.3.2); anything else is ignored.
    if info.get("sub") != claims.get("sub"):
        log.warning("sso userinfo names another subject than the id token; ignored")
        return claims
    return {**info, **claims}


def register(server: Flask) -> None:
    """Add the sign-in and sign-out routes, and the OIDC ones when configured."""
    server.add_url_rule("/login", "login", login_page, methods=["GET"])
    server.add_url_rule("/login", "login_submit", login_submit, methods=["POST"])
    server.add_url_rule("/logout", "logout", logout, methods=["POST"])
    settings = oidc_settings()
    if settings is not None:
        oauth.init_app(server)
        oauth.register(
            "oidc",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.metadata_url,
            # PKCE as well as the client secret: OAuth's security best practice (RFC 9700), and
            # providers that follow it (node-oidc-provider by default) refuse a code flow without.
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )
        server.add_url_rule("/login/oidc", "oidc_login", oidc_login)
        server.add_url_rule("/login/oidc/callback", "oidc_callback", oidc_callback)
    server.config["ICP_OIDC"] = settings


def require_sign_in_possible() -> None:
    """Refuse to start a served (non-local) app that no one could sign in to."""
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
            "Connect is not set up, so no one could sign in. Add an admin first: "
            f"`{SIGN_IN_HELP}` (or set ICP_OIDC_ISSUER, ICP_OIDC_CLIENT_ID and "
            "ICP_OIDC_CLIENT_SECRET). To use ICP Lens alone on this machine without "
            "sign-in, serve it on 127.0.0.1: `icp serve`."
        )


def login_page(error: str | None = None, status: int = 200) -> Response:
    """The sign-in form (email, password, CSRF token) and the SSO button when configured."""
    next_url = local_path(request.values.get("next"))
    sso = ""
    if current_app.config.get("ICP_OIDC") is not None:
        sso = f'<p><a class="sso" href="/login/oidc?next={html.escape(next_url)}">Sign in with single sign-on</a></p>'
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in - ICP Lens</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
main {{ max-width: 22rem; margin: 10vh auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
label {{ display: block; margin-top: 1rem; font-size: .9rem; }}
input[type=email], input[type=password] {{ width: 100%; padding: .5rem; box-sizing: border-box; }}
button {{ margin-top: 1.5rem; width: 100%; padding: .6rem; background: #212529; color: #fff;
         border: 0; border-radius: 4px; font-size: 1rem; }}
.error {{ color: #b02a37; }}
</style></head>
<body><main>
<h1>ICP Lens</h1>
{message}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{generate_csrf()}">
<input type="hidden" name="next" value="{html.escape(next_url)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{sso}
</main></body></html>"""
    return Response(body, status=status, mimetype="text/html")


def login_submit() -> Response:
    """Check the password against the warehouse, under the shared rate limit."""
    cfg = get_config()
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    client = request.remote_addr or "unknown"
    limits = LoginLimits(
        per_account_client=cfg.icp_login_max_attempts,
        # A shared office address gets more room than one account.
        per_client=cfg.icp_login_max_attempts * 4,
        window=timedelta(minutes=cfg.icp_login_window_minutes),
    )
    engine = get_engine()
    try:
        record = rate_limited_sign_in(
            engine, email, client, limits, lambda: authenticate(engine, email, password)
        )
    except SignInLocked as locked:
        log.warning("sign-in rate limited", extra={"email": email, "client": client})
        page = login_page(
            f"Too many failed sign-ins from here. Wait {_duration(locked.retry_after)}, "
            "or ask an admin to check your account.",
            status=429,
        )
        page.headers["Retry-After"] = str(locked.retry_after)
        return page
    if record is None:
        log.info("sign-in failed", extra={"email": email, "client": client})
        return login_page("Wrong email or password, or the account is disabled.", status=401)
    sign_in(record)
    log.info("signed in", extra={"email": record.email, "role": record.role})
    return redirect(local_path(request.form.get("next")))


def _duration(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def logout() -> Response:
    """End the session and every other one of the user, replayed cookies included (POST
    with a CSRF token, so another site cannot sign a user out)."""
    email = session.get("email")
    sign_out()
    log.info("signed out", extra={"email": email})
    return redirect("/login")


def oidc_login() -> Response:
    """Send the browser to the identity provider."""
    session["oidc_next"] = local_path(request.args.get("next"))
    return oauth.oidc.authorize_redirect(url_for("oidc_callback", _external=True))


def oidc_callback() -> Response:
    """Back from the identity provider: sign in a pre-added user or one of an allowed domain."""
    settings: OidcSettings = current_app.config["ICP_OIDC"]
    token = oauth.oidc.authorize_access_token()
    claims = sso_claims(token, settings.role_claim)
    email = str(claims.get("email", "")).lower()
    if not email or claims.get("email_verified") is False:
        return login_page("Your identity provider did not confirm an email address.", status=403)
    domain = email.rsplit("@", 1)[-1]
    try:
        record = record_sso_sign_in(
            get_engine(),
            email,
            role_from_claims(claims, settings.role_claim),
            provision=domain in settings.allowed_domains,
            default_role=settings.default_role,
        )
    except UserError as exc:
        return login_page(str(exc), status=403)
    if record is None:
        log.info("sso sign-in refused", extra={"email": email})
        return login_page(f"{email} has no access to ICP Lens: ask an admin to add you.", status=403)
    next_url = session.pop("oidc_next", "/")
    sign_in(record)
    return redirect(local_path(next_url))


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site (one slash, then no slash), else "/".

    Used for every ``next``: "//evil.example" or "https://..." would be an open redirect.
    Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
    "/\t/evil.example" and "/\\evil.example" lead to //evil.example too: a target holding
    any control character or backslash is refused (a newline would also break the header).
    """
    if (
        not target
        or CONTROL_OR_BACKSLASH.search(target)
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return "/"
    return target
