"""OpenID Connect: configuration from the environment, and the redirect to the provider (no network:
the provider's discovery document is served from this process on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.signin import OidcConfigError, oidc_settings, role_from_claims
from app.users import record_sso_sign_in, session_user
from db.config import get_config
from loadtest import server as gunicorn


@pytest.fixture
def oidc_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set ICP_OIDC_* variables in the test, with the config re-read."""
    for var in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "ROLE_CLAIM", "DEFAULT_ROLE", "ALLOWED_DOMAINS"):
        monkeypatch.delenv(f"ICP_OIDC_{var}", raising=False)
    get_config.cache_clear()
    yield monkeypatch
    get_config.cache_clear()


def _set(mp: pytest.MonkeyPatch, **values: str) -> None:
    for key, value in values.items():
        mp.setenv(f"ICP_OIDC_{key.upper()}", value)
    get_config.cache_clear()


def test_oidc_is_off_without_an_issuer(oidc_env: pytest.MonkeyPatch) -> None:
    assert oidc_settings() is None


def test_oidc_settings_are_parsed(oidc_env: pytest.MonkeyPatch) -> None:
    _set(oidc_env, issuer="https://idp.example.com/", client_id="icp", client_secret="s3", role_claim="groups",
         default_role="analyst", allowed_domains="Company.com, @sub.company.com")
    s = oidc_settings()
    assert s is not None
    assert s.metadata_url == "https://idp.example.com/.well-known/openid-configuration"
    assert s.allowed_domains == frozenset({"company.com", "sub.company.com"})
    assert (s.client_id, s.client_secret, s.role_claim, s.default_role) == ("icp", "s3", "groups", "analyst")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"issuer": "https://idp.example.com"}, "ICP_OIDC_CLIENT_ID is not"),
        ({"issuer": "http://idp.example.com", "client_id": "c"}, "must be an https URL"),
        ({"issuer": "https://idp.example.com", "client_id": "c", "default_role": "owner"}, "ICP_OIDC_DEFAULT_ROLE is 'owner'"),
    ],
)
def test_half_set_oidc_is_refused_with_the_reason(oidc_env: pytest.MonkeyPatch, values: dict, message: str) -> None:
    _set(oidc_env, **values)
    with pytest.raises(OidcConfigError, match=message):
        oidc_settings()


def test_role_from_claims_takes_the_most_powerful_valid_role() -> None:
    assert role_from_claims({"groups": ["staff", "viewer", "analyst"]}, "groups") == "analyst"
    assert role_from_claims({"role": "admin"}, "role") == "admin"
    assert role_from_claims({"groups": ["staff"]}, "groups") is None
    assert role_from_claims({"groups": ["admin"]}, None) is None


def test_sso_users_are_provisioned_only_when_pre_added_or_allowed(db: sa.Engine) -> None:
    assert record_sso_sign_in(db, "eve@elsewhere.com", None, provision=False, default_role="viewer") is None
    new = record_sso_sign_in(db, "Kim@Company.com", None, provision=True, default_role="analyst")
    assert new is not None and (new.email, new.role) == ("kim@company.com", "analyst")
    promoted = record_sso_sign_in(db, "kim@company.com", "admin", provision=False, default_role="viewer")
    assert promoted is not None and promoted.role == "admin" and promoted.last_login_at is not None
    # A role changed by the identity provider ends the sessions signed in under the old one;
    # signing in again with the same role ends none.
    assert session_user(db, new.user_id, new.session_epoch) is None
    again = record_sso_sign_in(db, "kim@company.com", "admin", provision=False, default_role="viewer")
    assert again.session_epoch == promoted.session_epoch
    assert session_user(db, again.user_id, again.session_epoch) is not None


class _Discovery(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        doc = {
            "issuer": base,
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token",
            "jwks_uri": base + "/jwks",
            "response_types_supported": ["code"],
        }
        body = json.dumps(doc).encode()
        self.send_response(200 if self.path == "/.well-known/openid-configuration" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_sso_alone_lets_the_app_start_and_redirects_to_the_provider(db: sa.Engine, database_url: str, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    idp = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{idp.server_address[1]}"
    server = gunicorn.start(
        database_url,
        tmp_path / "g.log",
        workers=1,
        env={"ICP_SECRET_KEY": "k" * 40, "ICP_DATA_DIR": str(tmp_path), "ICP_OIDC_ISSUER": issuer,
             "ICP_OIDC_CLIENT_ID": "icp-lens", "ICP_OIDC_CLIENT_SECRET": "shh"},
    )
    try:
        http = requests.Session()
        assert "Sign in with single sign-on" in http.get(server.url + "/login", timeout=10).text
        resp = http.get(server.url + "/login/oidc?next=/cohorts", allow_redirects=False, timeout=10)
        assert resp.status_code == 302
        location = urlsplit(resp.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == issuer + "/authorize"
        query = parse_qs(location.query)
        assert query["client_id"] == ["icp-lens"]
        assert query["response_type"] == ["code"]
        assert query["redirect_uri"] == [server.url + "/login/oidc/callback"]
        assert "openid" in query["scope"][0].split() and "email" in query["scope"][0].split()
        assert query["state"][0] and query["nonce"][0]
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
        assert "shh" not in resp.headers["Location"]
    finally:
        server.stop()
        idp.shutdown()
