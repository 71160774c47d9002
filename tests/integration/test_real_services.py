"""ICP Lens on the real parts of a production deployment: Debian's PostgreSQL as DATABASE_URL,
Redis as the cache of four gunicorn workers, nginx terminating HTTPS in front
(ICP_PROXY_COUNT=1), and a real OpenID Connect provider (node-oidc-provider) to sign in
through in Chromium.

One stack for the module: the demo on the system PostgreSQL, then the provider, gunicorn
and nginx. Each server is started once (tests/services.py); a missing one skips its tests
with the reason.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from db import backup
from db.engine import drop_database, ensure_database
from db.importer import ImportFile, run_import
from loadtest import server as gunicorn
from tests import services
from tests.integration.test_import_support import checksums

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ICP = Path(sys.executable).parent / "icp"
PASSWORD = "Real-servers-Pa55word"
ADMIN = "admin@example.com"
# Signs in at the provider as `kim`; the `groups` claim names the role (ICP_OIDC_ROLE_CLAIM).
SSO_ACCOUNTS = {"kim": {"email": "kim@example.com", "groups": ["staff", "analyst"]}}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
NEW_PROSPECTS = (
    "account_id,account_name,vertical,sub_industry,size_band,employees,region,use_case,"
    "lead_source,created_date\n"
) + "".join(
    f"NEW-{i},New Clinic {i},Healthcare,Hospitals & Health Systems,Enterprise,9000,"
    "North America,Revenue Analytics,Inbound,2024-01-15\n"
    for i in range(3)
)
# A view no worker warms at start (the warm-up computes the scorecard by vertical).
COLD_VIEW = "/api/scorecard.json?by=lead_source&window=9"


def _url(admin_url: str, database: str) -> str:
    return sa.make_url(admin_url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def system_demo(system_postgres: services.Service, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo, migrated and imported into Debian's PostgreSQL, with an admin."""
    tmp = tmp_path_factory.mktemp("system-demo")
    return gunicorn.demo_database(system_postgres.url, "icp_demo", tmp, {ADMIN: ("admin", PASSWORD)})


@pytest.fixture(scope="module")
def embedded_demo(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same demo in the embedded PostgreSQL."""
    tmp = tmp_path_factory.mktemp("embedded-demo")
    name = f"icp_test_real_{secrets.token_hex(3)}"
    yield gunicorn.demo_database(pg_admin_url, name, tmp, {})
    drop_database(pg_admin_url, name)


def _icp(args: list[str], database_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.Popen([str(ICP), *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _server_version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SHOW server_version"))
    finally:
        engine.dispose()


def test_the_scorecard_on_system_postgres_is_the_embedded_ones(system_demo: str, embedded_demo: str) -> None:
    assert _server_version(system_demo).split(".")[0] != _server_version(embedded_demo).split(".")[0]
    runs = [_icp(["report", "scorecard"], url) for url in (system_demo, embedded_demo)]
    (system_out, system_err), (embedded_out, embedded_err) = (r.communicate(timeout=600) for r in runs)
    assert runs[0].returncode == 0, system_err
    assert runs[1].returncode == 0, embedded_err
    assert "NRR" in system_out and len(system_out.splitlines()) > 5
    assert system_out == embedded_out


def test_backup_and_restore_with_the_servers_own_tools(system_postgres: services.Service, system_demo: str, tmp_path: Path) -> None:
    major = int(_server_version(system_demo).split(".")[0])
    assert str(backup.find_tool("pg_dump", major)).startswith(f"/usr/lib/postgresql/{major}/bin/")
    made = backup.backup(system_demo, tmp_path / "system.dump")
    ensure_database(system_postgres.url, "icp_drill")
    drill = _url(system_postgres.url, "icp_drill")
    engines = [sa.create_engine(drill), sa.create_engine(system_demo)]
    try:
        backup.restore(drill, made.path)
        tables = ("accounts", "subscriptions", "opportunities", "import_batches", "users")
        restored, original = (checksums(e, tables) for e in engines)
        assert restored == original
    finally:
        for e in engines:
            e.dispose()
        drop_database(system_postgres.url, "icp_drill")


@dataclass
class Stack:
    """gunicorn (4 workers, Redis cache) behind nginx, and the OpenID Connect provider."""

    app: gunicorn.Server
    proxy: services.Service
    idp: services.Service | None
    idp_missing: str | None
    database_url: str

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def cert(self) -> str:
        return str(self.proxy.folder / "cert.pem")

    def log_entries(self) -> list[dict]:
        """gunicorn's and the app's JSON log lines so far."""
        out = []
        for line in self.app.log().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # not JSON (a traceback), or a line still being written
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out


@pytest.fixture(scope="module")
def stack(system_demo: str, redis_server: services.Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    public_port = gunicorn.free_port()
    public = f"https://127.0.0.1:{public_port}"
    secret = secrets.token_urlsafe(16)
    env = {
        "ICP_SECRET_KEY": secrets.token_urlsafe(32), "ICP_DATA_DIR": str(tmp),
        "REDIS_URL": redis_server.url, "ICP_PROXY_COUNT": "1", "ICP_COOKIE_SECURE": "true",
    }
    with ExitStack() as started:
        idp, idp_missing = None, None
        try:
            idp = services.start_oidc_provider("icp-lens", secret, public + "/login/oidc/callback", SSO_ACCOUNTS)
            started.callback(idp.stop)
            env |= {"ICP_OIDC_ISSUER": idp.url, "ICP_OIDC_CLIENT_ID": "icp-lens", "ICP_OIDC_CLIENT_SECRET": secret,
                    "ICP_OIDC_ROLE_CLAIM": "groups", "ICP_OIDC_ALLOWED_DOMAINS": "example.com"}
        except services.Unavailable as exc:
            idp_missing = str(exc)
        app = gunicorn.start(system_demo, tmp / "gunicorn.log", env=env, workers=4, threads=4)
        started.callback(_kill, app)
        try:
            proxy = services.start_nginx(app.url, public_port)
        except services.Unavailable as exc:
            pytest.skip(str(exc))
        started.callback(proxy.stop)
        yield Stack(app, proxy, idp, idp_missing, system_demo)


def _kill(app: gunicorn.Server) -> None:
    # At once: a graceful stop of four workers takes ~10 s here, and nothing is left to finish.
    os.killpg(app.proc.pid, signal.SIGKILL)
    app.proc.wait()


class _FromAddress(HTTPAdapter):
    """Connect from another loopback address, so nginx sees a client unlike itself."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(stack: Stack, source: str | None = None) -> requests.Session:
    http = requests.Session()
    http.verify = stack.cert
    http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate trusted here
    if source:
        http.mount("https://", _FromAddress(source))
    return http


def _login(http: requests.Session, stack: Stack, email: str, password: str, **headers: str) -> requests.Response:
    page = http.get(stack.url + "/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # Over HTTPS Flask-WTF also wants a Referer of this site, as a browser sends.
    return http.post(
        stack.url + "/login", allow_redirects=False, timeout=30,
        data={"csrf_token": token, "email": email, "password": password, "next": "/"},
        headers={"Referer": stack.url + "/login", **headers},
    )


@pytest.fixture(scope="module")
def admin(stack: Stack) -> requests.Session:
    """A session signed in as the admin, through nginx."""
    http = _session(stack)
    assert _login(http, stack, ADMIN, PASSWORD).status_code == 302
    return http


def test_concurrent_first_requests_compute_a_view_once_across_workers(stack: Stack, admin: requests.Session) -> None:
    seen = len(stack.log_entries())
    cookies = admin.cookies.get_dict()

    def fetch(_: int) -> str:
        # Each on its own connection, so they spread over the workers.
        with _session(stack) as http:
            http.cookies.update(cookies)
            response = http.get(stack.url + COLD_VIEW, timeout=120)
        assert response.status_code == 200, response.text[:300]
        return response.text

    with ThreadPoolExecutor(max_workers=12) as pool:
        bodies = list(pool.map(fetch, range(12)))
    assert len(set(bodies)) == 1
    new = stack.log_entries()[seen:]
    computed = Counter(e["key"] for e in new if e.get("message") == "view computed")
    assert any(key.startswith("scorecard:") for key in computed), new
    assert max(computed.values()) == 1, computed
    workers = {e["pid"] for e in new if e.get("logger") == "gunicorn.access" and COLD_VIEW in e["message"]}
    assert len(workers) >= 2, workers


def test_nginx_forwards_the_client_address_and_https(stack: Stack) -> None:
    # The client connects from 127.0.0.2 and claims another address; nginx appends the one it saw.
    http = _session(stack, source="127.0.0.2")
    seen = len(stack.log_entries())
    failed = _login(http, stack, ADMIN, "wrong password", **{"X-Forwarded-For": "203.0.113.9"})
    assert failed.status_code == 401
    entries = [e for e in stack.log_entries()[seen:] if e.get("message") == "sign-in failed"]
    assert [e["client"] for e in entries] == ["127.0.0.2"]
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            keys = conn.scalars(sa.text("SELECT key FROM login_attempts")).all()
    finally:
        engine.dispose()
    assert any("127.0.0.2" in k for k in keys) and not any("203.0.113.9" in k for k in keys), keys
    # https as nginx said: a Secure cookie, HSTS, and absolute URLs on https at nginx's host.
    assert [c.secure for c in http.cookies if c.name == "icp_session"] == [True]
    assert failed.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in requests.get(stack.app.url + "/login", timeout=30).headers
    if stack.idp is not None:
        sso = http.get(stack.url + "/login/oidc?next=/", allow_redirects=False, timeout=30)
        assert f"redirect_uri={requests.utils.quote(stack.url + '/login/oidc/callback', safe='')}" in sso.headers["Location"]


@pytest.mark.e2e
def test_sign_in_through_the_openid_connect_provider(stack: Stack) -> None:
    if stack.idp is None:
        pytest.skip(stack.idp_missing)
    pytest.importorskip("playwright.sync_api")
    failure: list[BaseException] = []
    landed: dict[str, str] = {}

    def drive() -> None:
        try:
            landed.update(_sign_in_with_sso(stack))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)

    # Its own thread: Playwright's sync API refuses to run where an event loop runs.
    worker = threading.Thread(target=drive)
    worker.start()
    worker.join(timeout=240)
    if failure:
        raise AssertionError(f"{failure[0]}\nprovider log:\n{stack.idp.log()[-3000:]}") from failure[0]
    assert landed["url"] == stack.url + "/"
    assert landed["session"].startswith("kim@example.com (analyst)")
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            role = conn.scalar(sa.text("SELECT role FROM users WHERE email = 'kim@example.com'"))
    finally:
        engine.dispose()
    assert role == "analyst"


def _sign_in_with_sso(stack: Stack) -> dict[str, str]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True)
        # The provider's page imports a web font; this machine has no way out, so say so at once.
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
        page = context.new_page()
        try:
            page.goto(stack.url + "/")
            page.click("a.sso")
            # The provider's own pages: its development sign-in form, then its consent.
            page.wait_for_url(stack.idp.url + "/**")
            page.fill("input[name=login]", "kim")
            page.fill("input[name=password]", "any")
            page.click("button[type=submit]")
            page.click("button[type=submit]")  # consent: Continue
            page.wait_for_url(stack.url + "/", timeout=60000)
            page.wait_for_selector(".ag-root", timeout=60000)  # the scorecard's grid
            return {"url": page.url, "session": page.locator("#icp-session-bar").inner_text()}
        except PlaywrightError as exc:
            raise AssertionError(f"{exc.message}\nat {page.url}:\n{page.inner_text('body')[:600]}") from None
        finally:
            browser.close()


def _healthcare(rows: list[dict]) -> dict:
    return next(r for r in rows if r["vertical"] == "Healthcare")


def test_the_request_after_an_import_shows_the_new_data(stack: Stack, admin: requests.Session, tmp_path: Path) -> None:
    view = stack.url + "/api/scorecard.json?by=vertical"
    before = admin.get(view, timeout=120).json()["rows"]
    # Three new Healthcare prospects, imported by another process than the workers.
    new = tmp_path / "accounts.csv"
    new.write_text(NEW_PROSPECTS)
    engine = sa.create_engine(stack.database_url)
    try:
        run_import([ImportFile.from_path(new)], engine, user="test", keep_demo=True)
    finally:
        engine.dispose()
    for _ in range(4):  # whichever worker answers
        after = admin.get(view, timeout=120).json()["rows"]
        assert _healthcare(after)["prospects"] == _healthcare(before)["prospects"] + 3
        assert [r for r in after if r["vertical"] != "Healthcare"] == [r for r in before if r["vertical"] != "Healthcare"]


def test_a_hung_redis_slows_a_page_but_does_not_break_it(
    stack: Stack, admin: requests.Session, redis_server: services.Service
) -> None:
    seen = len(stack.log_entries())
    os.kill(redis_server.proc.pid, signal.SIGSTOP)  # up, but answering nothing: the worst case
    try:
        response = admin.get(stack.url + "/api/scorecard.json?by=region", timeout=120)
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    assert response.status_code == 200 and response.json()["rows"]
    warnings = [e["message"] for e in stack.log_entries()[seen:] if e["level"] == "WARNING"]
    assert any(m.startswith("metrics cache unavailable (TimeoutError") for m in warnings), warnings
