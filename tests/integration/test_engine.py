"""The embedded warehouse: starts, is reused across runs, is shared by several processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.engine import normalize_url

ROOT = Path(__file__).resolve().parents[2]

# A client process: joins the embedded server of ICP_DATA_DIR, prints the postmaster's
# start time (microseconds), then runs `seconds` of queries, one every 50 ms, and prints how many it ran.
CLIENT = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    from db.engine import get_engine
    eng = get_engine()
    with eng.connect() as c:
        print(c.scalar(sa.text("SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1e6)::bigint")), flush=True)
        c.execute(sa.text("SELECT pg_advisory_xact_lock(42)"))
        c.execute(sa.text("CREATE TABLE IF NOT EXISTS probe (n int)"))
        c.commit()
    end, n = time.time() + float(sys.argv[1]), 0
    while time.time() < end:
        with eng.begin() as c:
            c.execute(sa.text("INSERT INTO probe VALUES (1)"))
        n += 1
        time.sleep(0.05)
    print(n, flush=True)
    """
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A short, traversable folder (the server's socket lives inside it)."""
    d = Path(tempfile.mkdtemp(prefix="icp-eng-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _client(data_dir: Path, seconds: float) -> subprocess.Popen[str]:
    env = {**os.environ, "ICP_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(seconds)], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _count(data_dir: Path) -> int:
    env = {**os.environ, "ICP_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    code = "import sqlalchemy as sa; from db.engine import get_engine; print(get_engine().connect().scalar(sa.text('SELECT count(*) FROM probe')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True, capture_output=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def test_embedded_server_starts_and_serves_the_icp_database(pg_admin_url: str) -> None:
    from db.engine import embedded_url

    url = embedded_url()
    assert sa.make_url(url).database == "icp"
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        assert conn.scalar(sa.text("SELECT current_database()")) == "icp"
        assert conn.scalar(sa.text("SHOW server_version_num")).startswith("1")
    eng.dispose()


def test_data_survives_a_restart_and_the_folder_is_reused(data_dir: Path) -> None:
    first = _client(data_dir, 0.3)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    inserted = int(out.split()[-1])
    assert inserted > 0
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    # A second run starts the server again on the same folder and sees the rows.
    assert _count(data_dir) == inserted


def test_two_processes_share_one_server_and_the_second_outlives_the_first(data_dir: Path) -> None:
    short = _client(data_dir, 0.5)
    time.sleep(0.2)
    long = _client(data_dir, 4.0)
    s_out, s_err = short.communicate(timeout=120)
    assert short.returncode == 0, s_err
    l_out, l_err = long.communicate(timeout=120)
    assert long.returncode == 0, l_err
    s_start, s_n = (int(x) for x in s_out.split())
    l_start, l_n = (int(x) for x in l_out.split())
    assert s_start == l_start > 0, "both processes must use the same running server"
    # The long client kept working for seconds after the short one exited.
    assert l_n > s_n
    assert _count(data_dir) == s_n + l_n


def test_database_url_wins_over_the_embedded_server(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from db.config import get_config
    from db.engine import database_url as configured_url

    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    monkeypatch.setenv("DATABASE_URL", plain)
    get_config.cache_clear()
    try:
        assert configured_url() == normalize_url(plain)
        assert configured_url().startswith("postgresql+psycopg://")
    finally:
        get_config.cache_clear()
