"""Serving: the gunicorn command, Docker files, health checks, JSON logs, startup refusal."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import yaml
from packaging.version import Version

from db.config import Config
from loadtest import server as gunicorn

ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARS = {name.upper() for name in Config.model_fields}


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_dash_is_past_the_known_advisories() -> None:
    # Before 4.4.1 background callbacks trusted browser-sent job ids (PITFALLS.md).
    assert Version(version("dash")) >= Version("4.4.1")


def test_dockerfile_runs_the_gunicorn_command_the_tests_run() -> None:
    cmd = re.search(r"^CMD (\[.*\])$", _dockerfile(), re.M)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == gunicorn.GUNICORN_CMD


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    text = _dockerfile()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, re.M)
    assert stages == ["builder", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    uid = re.search(r"useradd .*--uid (\d+) .*icp$", runtime, re.M).group(1)
    assert re.search(rf"^USER {uid}$", runtime, re.M) and uid != "0"
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    assert "/healthz" in re.search(r"HEALTHCHECK[^\n]*\n[^\n]*", runtime).group(0)
    # Only runtime dependencies: the dev lock never enters the image.
    assert "requirements.lock" in text and "requirements-dev.lock" not in text
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in copied.split():
            assert (ROOT / path).exists(), path


def test_compose_names_real_services_modules_and_variables() -> None:
    compose = _compose()
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:16"
    volume = services["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert services["redis"]["image"].startswith("redis:")
    app = services["app"]
    assert app["build"] == "."
    assert set(app["depends_on"]) == {"postgres", "redis"}
    env = app["environment"]
    assert set(env) <= CONFIG_VARS, set(env) - CONFIG_VARS
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    shell = app["command"][-1]
    upgrade, serve = shell.split("&&")
    assert shlex.split(upgrade) == ["icp", "db", "upgrade"]
    assert shlex.split(serve) == ["exec", *gunicorn.GUNICORN_CMD]
    module = gunicorn.GUNICORN_CMD[-1].split(":")[0]
    assert importlib.util.find_spec(module) is not None
    assert (ROOT / gunicorn.GUNICORN_CMD[2]).is_file()


def test_deploy_doc_and_readme_list_every_environment_variable() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for text in (doc, readme):
        missing = [var for var in sorted(CONFIG_VARS) if f"| `{var}` |" not in text]
        assert not missing, missing
    for topic in ("pg_dump", "Rotate", "Scale out", "docker compose"):
        assert topic in doc


def test_refuses_to_start_when_no_one_could_sign_in(db: sa.Engine, database_url: str, tmp_path: Path) -> None:
    with db.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    with pytest.raises(RuntimeError) as refused:
        gunicorn.start(database_url, tmp_path / "g.log", workers=1, env={"ICP_SECRET_KEY": "k" * 40})
    assert "icp users add you@company.com --role admin" in str(refused.value)


def test_served_app_needs_a_shared_secret_key() -> None:
    from app.security import StartupRefused, _secret_key

    with pytest.raises(StartupRefused, match="ICP_SECRET_KEY is not set"):
        _secret_key(Config(icp_secret_key=None), local=False)
    assert len(_secret_key(Config(icp_secret_key=None), local=True)) >= 32
    assert _secret_key(Config(icp_secret_key="given"), local=False) == "given"


def test_icp_serve_on_another_address_refuses_without_users(env_db: sa.Engine) -> None:
    from typer.testing import CliRunner

    from app.cli import app as cli

    with env_db.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    refused = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"], env={"ICP_SECRET_KEY": "k" * 40})
    assert refused.exit_code == 1
    assert "icp users add you@company.com --role admin" in refused.output
    debug = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--debug"])
    assert debug.exit_code == 1 and "--debug is only allowed on 127.0.0.1" in debug.output


def test_local_mode_needs_no_sign_in_and_says_so(db: sa.Engine, database_url: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    port = gunicorn.free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ICP_DATA_DIR": str(tmp_path)}
    env.pop("ICP_SECRET_KEY", None)
    icp = Path(sys.executable).parent / "icp"
    proc = subprocess.Popen([str(icp), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                home = requests.get(url + "/", allow_redirects=False, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.3)
        assert home.status_code == 200
        layout = requests.get(url + "/_dash-layout", timeout=10)
        assert layout.status_code == 200 and "Local mode" in layout.text
        assert "Sign out" not in layout.text
        assert requests.get(url + "/", timeout=10).headers["X-Frame-Options"] == "DENY"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_local_mode_answers_only_to_its_own_host(db: sa.Engine, database_url: str, tmp_path: Path) -> None:
    # DNS rebinding: a page on evil.example points its name at 127.0.0.1 and then calls the
    # local server (no sign-in, the local admin) as its own origin.
    import os

    env = {**os.environ, "DATABASE_URL": database_url, "ICP_DATA_DIR": str(tmp_path), "ICP_PROXY_COUNT": "1"}
    env.pop("ICP_SECRET_KEY", None)
    server = gunicorn.serve(env, tmp_path / "serve.log")
    port = server.url.rsplit(":", 1)[1]
    accounts = {"files": ("accounts.csv", b"account_id,vertical\nL1,Fintech\n")}

    def batches() -> int:
        with db.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM import_batches"))

    try:
        http = requests.Session()
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{int(port) + 1}", "localhost", f"127.0.0.1.evil.example:{port}"):
            for path in ("/api/csrf", "/", "/_dash-layout", "/healthz"):
                resp = http.get(server.url + path, headers={"Host": host}, timeout=10)
                assert resp.status_code == 421, (host, path, resp.status_code)
                assert "csrf_token" not in resp.text
            # The token of a real session does not help a request for another host either.
            token = http.get(server.url + "/api/csrf", timeout=10).json()["csrf_token"]
            forged = http.post(server.url + "/api/import", files=accounts, timeout=30,
                               headers={"Host": host, "Origin": f"http://{host}", "X-CSRFToken": token})
            assert forged.status_code == 421, (host, forged.status_code)
        # X-Forwarded-Host is not believed in local mode, whatever ICP_PROXY_COUNT says.
        fwd = http.get(server.url + "/api/csrf", headers={"X-Forwarded-Host": "evil.example"}, timeout=10)
        assert fwd.status_code == 200
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
            assert http.get(server.url + "/api/csrf", headers={"Host": host}, timeout=10).status_code == 200, host
        # Every write names this very host as its Origin, or none (a script).
        token = http.get(server.url + "/api/csrf", timeout=10).json()["csrf_token"]
        for origin in (f"http://evil.example:{port}", "null", f"http://localhost:{int(port) + 1}"):
            cross = http.post(server.url + "/api/import", files=accounts, headers={"Origin": origin, "X-CSRFToken": token}, timeout=30)
            assert cross.status_code == 403, (origin, cross.status_code)
        assert batches() == 0
        same = http.post(server.url + "/api/import", files=accounts, headers={"Origin": server.url, "X-CSRFToken": token}, timeout=60)
        assert same.status_code == 200, same.text[:300]
        assert batches() == 1
    finally:
        server.stop()
