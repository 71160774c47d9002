"""Sign-in, roles and hardening, against the real app under gunicorn (2 workers) on the test database."""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.commands.users import AddUser, ChangeUser
from loadtest import server as gunicorn
from loadtest.client import csrf_token, sign_in

pytestmark = pytest.mark.slow

PASSWORD = "Tr0ub4dor&3-long-enough"
ADMIN, ANALYST, VIEWER = "admin@example.com", "analyst@example.com", "viewer@example.com"


@pytest.fixture(scope="module")
def app_server(engine: sa.Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[gunicorn.Server]:
    """Gunicorn with an admin, an analyst and a viewer; 1 MB upload cap to test the size cap;
    behind one (pretended) proxy, so a test can name its client address."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users; DELETE FROM login_attempts"))
    for email, role in ((ADMIN, "admin"), (ANALYST, "analyst"), (VIEWER, "viewer")):
        AddUser(engine, email, role, PASSWORD).run()
    tmp = tmp_path_factory.mktemp("auth-serving")
    server = gunicorn.start(
        database_url,
        tmp / "gunicorn.log",
        # One proxy in front: a test names the client address in X-Forwarded-For.
        env={"ICP_SECRET_KEY": "test-secret-" + "k" * 32, "ICP_DATA_DIR": str(tmp), "ICP_UPLOAD_MAX_MB": "1",
             "ICP_PROXY_COUNT": "1"},
    )
    yield server
    server.stop()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users; DELETE FROM login_attempts"))


@pytest.fixture(autouse=True)
def _fresh_attempts(engine: sa.Engine) -> None:
    # Every test signs in from 127.0.0.1; one test's failures must not lock out the next.
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM login_attempts"))


def _signed_in(server: gunicorn.Server, email: str) -> requests.Session:
    http, resp = sign_in(server.url, email, PASSWORD)
    assert resp.status_code == 302, resp.text
    return http


def _token(http: requests.Session, server: gunicorn.Server) -> str:
    return http.get(server.url + "/api/csrf", timeout=10).json()["csrf_token"]


def test_anonymous_gets_only_the_sign_in_page(app_server: gunicorn.Server) -> None:
    for path in ("/", "/cohorts", "/upload", "/settings?x=1", "/assets/10-icp.css"):
        resp = requests.get(app_server.url + path, allow_redirects=False, timeout=10)
        assert resp.status_code == 302, path
        assert resp.headers["Location"].startswith("/login?next=/"), path
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/csrf", "/_dash-component-suites/dash/deps/react@18.3.1.min.js"):
        resp = requests.get(app_server.url + path, timeout=10)
        assert resp.status_code == 401, path
        assert resp.json()["error"] == "Sign in required."
    callback = requests.post(app_server.url + "/_dash-update-component", json={"output": "x.children"}, timeout=10)
    assert callback.status_code == 401
    assert "props" not in callback.text
    login = requests.get(app_server.url + "/login", timeout=10)
    assert login.status_code == 200 and 'name="password"' in login.text
    assert requests.get(app_server.url + "/healthz", timeout=10).json() == {"status": "ok"}


def test_sign_in_then_pages_and_callbacks_answer(app_server: gunicorn.Server) -> None:
    http, resp = sign_in(app_server.url, VIEWER, PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "icp_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert http.get(app_server.url + "/", timeout=10).status_code == 200
    layout = http.get(app_server.url + "/_dash-layout", timeout=10)
    assert layout.status_code == 200 and VIEWER in layout.text


def test_wrong_password_is_refused_and_passwords_never_in_clear(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    _, wrong = sign_in(app_server.url, ANALYST, "not-the-password-at-all")
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    _, right = sign_in(app_server.url, ANALYST, PASSWORD)
    assert right.status_code == 302
    with engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT password_hash FROM users")).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    time.sleep(0.5)  # let gunicorn flush the access and app logs
    log = app_server.log()
    assert "signed in" in log
    assert PASSWORD not in log and "not-the-password-at-all" not in log


def test_csrf_token_required_on_the_non_dash_routes(app_server: gunicorn.Server) -> None:
    anonymous = requests.Session()
    anonymous.get(app_server.url + "/login", timeout=10)
    no_token = anonymous.post(app_server.url + "/login", data={"email": ADMIN, "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert no_token.status_code == 400 and "CSRF" in no_token.text
    assert anonymous.get(app_server.url + "/", allow_redirects=False, timeout=10).status_code == 302

    admin = _signed_in(app_server, ADMIN)
    logout = admin.post(app_server.url + "/logout", allow_redirects=False, timeout=10)
    assert logout.status_code == 400
    assert admin.get(app_server.url + "/", allow_redirects=False, timeout=10).status_code == 200
    upload = admin.post(app_server.url + "/api/import", files={"files": ("a.csv", b"account_id\n")}, timeout=10)
    assert upload.status_code == 400 and "CSRF" in upload.json()["error"]
    forged = admin.post(app_server.url + "/logout", data={"csrf_token": "forged"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 400

    ok = admin.post(app_server.url + "/logout", data={"csrf_token": _token(admin, app_server)}, allow_redirects=False, timeout=10)
    assert ok.status_code == 302 and ok.headers["Location"] == "/login"
    assert admin.get(app_server.url + "/", allow_redirects=False, timeout=10).status_code == 302


def test_viewer_and_analyst_get_403_from_the_import_route(app_server: gunicorn.Server) -> None:
    for email in (VIEWER, ANALYST):
        http = _signed_in(app_server, email)
        resp = http.post(
            app_server.url + "/api/import",
            files={"files": ("accounts.csv", b"account_id,vertical\nA1,Fintech\n")},
            headers={"X-CSRFToken": _token(http, app_server)},
            timeout=10,
        )
        assert resp.status_code == 403, email
        assert resp.json()["error"] == "requires the admin role"


def test_request_size_cap_matches_the_upload_cap(app_server: gunicorn.Server) -> None:
    admin = _signed_in(app_server, ADMIN)
    token = _token(admin, app_server)
    # Cap 1 MB: 1 MB base64-encoded (1.33 MB) plus 1 MB of envelope fits, 3 MB does not. The
    # refusal comes from the declared length, before any of the body is read, so only the
    # headers are sent (sending the body too would race the server closing the connection).
    host = app_server.url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.putrequest("POST", "/api/import")
    conn.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in admin.cookies))
    conn.putheader("X-CSRFToken", token)
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(3 * 1024 * 1024))
    conn.endheaders()
    big = conn.getresponse()
    assert big.status == 413
    assert json.loads(big.read())["error"].startswith("The data value transmitted exceeds")
    conn.close()
    over_file_cap = admin.post(app_server.url + "/api/import", files={"files": ("big.csv", b"x" * (1024 * 1024 + 10))}, headers={"X-CSRFToken": token}, timeout=30)
    assert over_file_cap.status_code == 413
    assert "larger than 1 MB" in over_file_cap.json()["error"]


def test_security_headers_present(app_server: gunicorn.Server) -> None:
    viewer = _signed_in(app_server, VIEWER)
    for resp in (requests.get(app_server.url + "/login", timeout=10), viewer.get(app_server.url + "/", timeout=10)):
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "'sha256-" in script_src
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert resp.headers["Cache-Control"] == "no-store"
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


def test_dash_callbacks_refuse_cross_site_and_non_json_posts(app_server: gunicorn.Server) -> None:
    viewer = _signed_in(app_server, VIEWER)
    url = app_server.url + "/_dash-update-component"
    body = '{"output": "nav-drift-badge.children"}'
    cross = viewer.post(url, data=body, headers={"Content-Type": "application/json", "Origin": "https://evil.example"}, timeout=10)
    assert cross.status_code == 403
    form = viewer.post(url, data=body, headers={"Content-Type": "text/plain"}, timeout=10)
    assert form.status_code == 403


def test_errors_return_no_stack_trace_but_a_request_id(app_server: gunicorn.Server) -> None:
    viewer = _signed_in(app_server, VIEWER)
    resp = viewer.post(app_server.url + "/_dash-update-component", json={"output": "no-such.children", "inputs": "not a list"}, timeout=10)
    assert resp.status_code == 500
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    rid = resp.json()["request_id"]
    assert rid == resp.headers["X-Request-ID"]
    time.sleep(0.5)
    logged = [line for line in app_server.log().splitlines() if rid in line and '"level": "ERROR"' in line]
    assert logged and "Traceback" in logged[0]


def _failures(engine: sa.Engine, email: str, client: str = "127.0.0.1") -> int:
    with engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT count(*) FROM login_attempts WHERE key = :k AND NOT succeeded"),
            {"k": f"account:{email} client:{client}"},
        )


def test_rate_limit_triggers_across_workers(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    for _ in range(5):
        _, resp = sign_in(app_server.url, ANALYST, "wrong-password-123")
        assert resp.status_code == 401
    _, locked = sign_in(app_server.url, ANALYST, PASSWORD)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert "Set-Cookie" not in locked.headers or "email" not in locked.headers["Set-Cookie"]
    assert _failures(engine, ANALYST) == 5
    _, other = sign_in(app_server.url, VIEWER, PASSWORD)
    assert other.status_code == 302


def _sign_in_from(server: gunicorn.Server, client: str, email: str, password: str, start: threading.Barrier | None = None) -> int:
    """The status of a sign-in of ``email`` from the address ``client`` (through the proxy)."""
    http = requests.Session()
    http.headers["X-Forwarded-For"] = client
    token = csrf_token(http.get(server.url + "/login", timeout=10).text)
    if start is not None:
        start.wait()
    resp = http.post(
        server.url + "/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    return resp.status_code


def test_rate_limit_holds_against_concurrent_guesses(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    # Ten wrong passwords at once across the workers' threads: each is checked and counted
    # in turn, so exactly the limit (5) are tried and the rest refused.
    from concurrent.futures import ThreadPoolExecutor

    start = threading.Barrier(10)
    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(lambda _: _sign_in_from(app_server, "127.0.0.1", ANALYST, "wrong-password-123", start), range(10)))
    assert statuses == [401] * 5 + [429] * 5
    assert _failures(engine, ANALYST) == 5


def test_concurrent_correct_sign_ins_all_succeed(app_server: gunicorn.Server) -> None:
    # Attempts in flight are not failures: eight tabs signing in at once all get in.
    from concurrent.futures import ThreadPoolExecutor

    for _ in range(3):
        start = threading.Barrier(8)
        with ThreadPoolExecutor(8) as pool:
            attempts = [pool.submit(_sign_in_from, app_server, "127.0.0.1", ADMIN, PASSWORD, start) for _ in range(8)]
            statuses = [a.result() for a in attempts]
        assert statuses == [302] * 8


def test_a_stranger_cannot_lock_the_admin_out(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    stranger, office = "203.0.113.9", "198.51.100.7"
    assert [_sign_in_from(app_server, stranger, ADMIN, "wrong-password-123") for _ in range(6)] == [401] * 5 + [429]
    assert _sign_in_from(app_server, stranger, ADMIN, PASSWORD) == 429
    assert _sign_in_from(app_server, office, ADMIN, PASSWORD) == 302
    assert _failures(engine, ADMIN, stranger) == 5 and _failures(engine, ADMIN, office) == 0


def test_disabled_user_is_shut_out_at_the_next_request(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    AddUser(engine, "leaver@example.com", "viewer", PASSWORD).run()
    http = _signed_in(app_server, "leaver@example.com")
    assert http.get(app_server.url + "/", allow_redirects=False, timeout=10).status_code == 200
    ChangeUser(engine, "leaver@example.com", disabled=True).run()
    assert http.get(app_server.url + "/", allow_redirects=False, timeout=10).status_code == 302
    assert http.post(app_server.url + "/_dash-update-component", json={}, timeout=10).status_code == 401


def _replayed(saved: requests.Session) -> requests.Session:
    """A new client holding a copy of ``saved``'s cookies, as an attacker who copied them."""
    replay = requests.Session()
    replay.cookies.update(saved.cookies.get_dict())
    return replay


def _shut_out(server: gunicorn.Server, http: requests.Session) -> bool:
    """True when ``http`` is refused by every worker (several requests reach both)."""
    answers = {http.get(server.url + "/_dash-layout", timeout=10).status_code for _ in range(6)}
    return answers == {401}


def test_sign_out_ends_the_session_even_for_a_replayed_cookie(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    admin = _signed_in(app_server, ADMIN)
    token = _token(admin, app_server)
    saved = _replayed(admin)
    other_browser = _signed_in(app_server, ADMIN)
    viewer = _signed_in(app_server, VIEWER)
    saved_viewer = _replayed(viewer)
    assert admin.post(app_server.url + "/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10).status_code == 302
    assert viewer.post(app_server.url + "/logout", data={"csrf_token": _token(viewer, app_server)}, allow_redirects=False, timeout=10).status_code == 302
    replay = saved.post(app_server.url + "/api/import", files={"files": ("accounts.csv", b"account_id,vertical\nR1,Fintech\n")},
                        headers={"X-CSRFToken": token}, timeout=30)
    assert replay.status_code == 401, replay.text[:200]
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM import_batches")) == 0
    assert _shut_out(app_server, saved_viewer)
    # Signing out ends every session of the user, not only this browser's.
    assert _shut_out(app_server, other_browser)
    assert _signed_in(app_server, ADMIN).get(app_server.url + "/_dash-layout", timeout=10).status_code == 200


def test_disable_then_enable_never_revives_an_old_cookie(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    viewer = _signed_in(app_server, VIEWER)
    saved = _replayed(viewer)
    ChangeUser(engine, VIEWER, disabled=True).run()
    ChangeUser(engine, VIEWER, disabled=False).run()
    assert _shut_out(app_server, saved) and _shut_out(app_server, viewer)
    assert _signed_in(app_server, VIEWER).get(app_server.url + "/_dash-layout", timeout=10).status_code == 200


def test_a_new_password_or_role_ends_the_users_sessions(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    for change in ({"password": PASSWORD}, {"role": "viewer"}, {"role": "analyst"}):
        analyst = _signed_in(app_server, ANALYST)
        assert analyst.get(app_server.url + "/_dash-layout", timeout=10).status_code == 200
        ChangeUser(engine, ANALYST, **change).run()
        assert _shut_out(app_server, analyst), change


def test_open_redirects_are_refused(app_server: gunicorn.Server) -> None:
    http = requests.Session()
    token = csrf_token(http.get(app_server.url + "/login", timeout=10).text)
    # Browsers drop tabs and newlines and read "\\" as "/": each of these is //evil.example.
    targets = ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
               "/\n/evil.example", "\t//evil.example", "/\r\n/evil.example", "javascript:alert(1)")
    for target in targets:
        resp = http.post(app_server.url + "/login", data={"email": VIEWER, "password": PASSWORD, "csrf_token": token, "next": target}, allow_redirects=False, timeout=10)
        assert resp.status_code == 302 and resp.headers["Location"] == "/", target
        token = _token(http, app_server)
    for query in ("next=/%09/evil.example", "next=/%0a/evil.example", "next=%5C%5Cevil.example"):
        form = requests.get(app_server.url + "/login?" + query, timeout=10)
        assert form.status_code == 200, query
        assert 'name="next" value="/"' in form.text, query
    local = http.post(app_server.url + "/login", data={"email": VIEWER, "password": PASSWORD, "csrf_token": token, "next": "/cohorts?vertical=Financial Services"}, allow_redirects=False, timeout=10)
    assert local.headers["Location"] == "/cohorts?vertical=Financial%20Services"


def test_malformed_paths_answer_404_without_a_traceback(app_server: gunicorn.Server) -> None:
    viewer = _signed_in(app_server, VIEWER)
    paths = ("/_dash-component-suites/dash/..%2f__init__.py", "/_dash-component-suites/dash/%2e%2e/__init__.py",
             "/_dash-component-suites/dash/deps/no-such.js", "/_dash-component-suites/no_such_package/x.js",
             "/assets/..%2f..%2fapp%2f__init__.py", "/_dash-component-suites/dash/%00.js", "/%5c%5cevil.example")
    logged_before = len(app_server.log())
    for path in paths:
        for client, expected in ((viewer, {404}), (requests.Session(), {401, 404})):
            resp = client.get(app_server.url + path, allow_redirects=False, timeout=10)
            assert resp.status_code in expected, (path, resp.status_code)
            assert "Traceback" not in resp.text
    time.sleep(0.5)
    assert "Traceback" not in app_server.log()[logged_before:]


def test_sessions_expire(engine: sa.Engine, database_url: str, tmp_path: Path) -> None:
    AddUser(engine, "brief@example.com", "viewer", PASSWORD).run()
    server = gunicorn.start(
        database_url,
        tmp_path / "gunicorn.log",
        workers=1,
        env={"ICP_SECRET_KEY": "s" * 40, "ICP_DATA_DIR": str(tmp_path), "ICP_SESSION_HOURS": "0.001"},
    )
    try:
        http = _signed_in(server, "brief@example.com")
        assert http.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 200
        time.sleep(4)  # 0.001 h = 3.6 s
        expired = http.get(server.url + "/", allow_redirects=False, timeout=10)
        assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")
    finally:
        server.stop()


def test_admin_imports_through_the_route_all_or_nothing(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    admin = _signed_in(app_server, ADMIN)
    headers = {"X-CSRFToken": _token(admin, app_server)}
    try:
        bad = admin.post(app_server.url + "/api/import", files={"files": ("accounts.csv", b"account_id,vertical,employees\nA1,Fintech,many\n")}, headers=headers, timeout=60)
        assert bad.status_code == 422
        problems = bad.json()["plan"]
        assert "many" in json.dumps(problems)
        ok = admin.post(app_server.url + "/api/import", files={"files": ("accounts.csv", b"account_id,vertical\nA1,Fintech\nA2,Retail\n")}, headers=headers, timeout=60)
        assert ok.status_code == 200, ok.text
        assert ok.json()["inserted"] == 2 and ok.json()["batch_id"] is not None
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT created_by FROM import_batches WHERE status = 'committed'")) == ADMIN
            assert conn.scalar(sa.text("SELECT count(*) FROM accounts")) == 2
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE accounts, import_batches, import_files, import_changes, import_jobs RESTART IDENTITY CASCADE"))
            conn.execute(sa.text("UPDATE data_version SET version = 0"))


def _upload_callback_body(
    server: gunicorn.Server, http: requests.Session, trigger: str, csv: bytes, job: dict | None = None
) -> dict:
    """The exact request the Upload page's callback fired by ``trigger`` sends, built from the
    app's callback map (its pattern-matching states empty: no mapping chosen)."""
    deps = http.get(server.url + "/_dash-dependencies", timeout=10).json()
    dep = next(d for d in deps if f"{d['inputs'][0]['id']}.{d['inputs'][0]['property']}" == trigger)
    outputs = [
        {"id": spec.rsplit(".", 1)[0], "property": spec.rsplit(".", 1)[1].split("@")[0]}
        for spec in dep["output"].strip(".").split("...")
    ]
    content = "data:text/csv;base64," + base64.b64encode(csv).decode()
    values = {"up-upload.contents": [content], "up-upload.filename": ["accounts.csv"],
              "up-job.data": job}
    values.setdefault(trigger, 1)

    def entry(item: dict) -> dict | list:
        if item["id"].startswith("{"):
            return []
        key = f"{item['id']}.{item['property']}"
        return {"id": item["id"], "property": item["property"], "value": values.get(key)}

    return {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [entry(i) for i in dep["inputs"]],
        "state": [entry(s) for s in dep.get("state", [])],
        "changedPropIds": [trigger],
    }


def test_viewer_gets_403_from_the_upload_callbacks(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    csv = b"account_id,vertical\nV1,Fintech\n"
    viewer = _signed_in(app_server, VIEWER)
    for trigger in ("up-upload.contents", "up-import.n_clicks"):
        body = _upload_callback_body(app_server, viewer, trigger, csv)
        resp = viewer.post(app_server.url + "/_dash-update-component", json=body, timeout=30)
        assert resp.status_code == 403, (trigger, resp.text[:200])
        assert "V1" not in resp.text
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM accounts")) == 0
    admin = _signed_in(app_server, ADMIN)
    try:
        # Dropping the file starts a check job; "Import" imports that job's files in another.
        body = _upload_callback_body(app_server, admin, "up-upload.contents", csv)
        resp = admin.post(app_server.url + "/_dash-update-component", json=body, timeout=60)
        assert resp.status_code == 200, resp.text[:300]
        state = resp.json()["response"]["up-job"]["data"]
        body = _upload_callback_body(app_server, admin, "up-import.n_clicks", csv, state)
        resp = admin.post(app_server.url + "/_dash-update-component", json=body, timeout=60)
        assert resp.status_code == 200, resp.text[:300]
        job = resp.json()["response"]["up-job"]["data"]["job"]
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status in (None, "running"):
            with engine.connect() as conn:
                status = conn.scalar(
                    sa.text("SELECT status FROM import_jobs WHERE job_id = :j"), {"j": job}
                )
            time.sleep(0.1)
        assert status == "done"
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM accounts")) == 1
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE accounts, import_batches, import_files, import_changes, import_jobs RESTART IDENTITY CASCADE"))
            conn.execute(sa.text("UPDATE data_version SET version = 0"))


def test_health_ready_and_json_logs_with_request_ids(app_server: gunicorn.Server, engine: sa.Engine) -> None:
    from db import migrate

    head = migrate.head_revision()
    assert requests.get(app_server.url + "/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(app_server.url + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["revision"] == head
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000_older'"))
        behind = requests.get(app_server.url + "/readyz", timeout=10)
        assert behind.status_code == 503
        assert behind.json()["reason"] == f"migrations pending: at 0000_older, code at {head}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :h"), {"h": head})
    rid = requests.get(app_server.url + "/login", headers={"X-Request-ID": "trace-12345678"}, timeout=10).headers["X-Request-ID"]
    assert rid == "trace-12345678"
    # A request whose handling logs a line of the app's own (a failed sign-in): that line
    # carries the request's id.
    http = requests.Session()
    token = csrf_token(http.get(app_server.url + "/login", timeout=10).text)
    http.post(app_server.url + "/login", data={"email": VIEWER, "password": "wrong-password",
                                               "csrf_token": token},
              headers={"X-Request-ID": "trace-87654321"}, allow_redirects=False, timeout=10)
    time.sleep(0.5)
    lines = [line for line in app_server.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e["logger"] == "gunicorn.access"]
    assert any("GET /login" in e["message"] and "rid=trace-12345678" in e["message"] for e in access)
    assert any(e.get("request_id") == "trace-87654321" and e["logger"] == "icp.signin" for e in entries)
