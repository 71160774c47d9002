"""Every ``icp`` command from a fresh folder, and against a warehouse it cannot reach:
a short message, never a traceback; the embedded server stops with its last process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from db.migrate import head_revision
from loadtest.server import serve

ROOT = Path(__file__).resolve().parents[2]
ICP = Path(sys.executable).parent / "icp"
UNREACHABLE = "postgresql://icp@127.0.0.1:1/icp"
EMPTY = "the warehouse holds no data yet: load the demo (`icp demo`) or import your exports"

# (arguments, expected exit status, text the output holds) in a fresh folder, in order.
FRESH = [
    (["report", "scorecard"], 1, EMPTY),
    (["report", "cohorts"], 1, EMPTY),
    (["report", "movements"], 1, EMPTY),
    (["report", "flags"], 1, EMPTY),
    (["report", "alerts"], 1, EMPTY),
    (["import", "history"], 0, "no imports yet"),
    (["import", "rollback", "7"], 1, "error: there is no import batch 7"),
    (["import", "{bad}"], 1, "this is an HTML page"),
    (["users", "list"], 0, "no users yet"),
    (["users", "set-role", "ann@example.com", "owner"], 1, "unknown role 'owner'"),
    (["users", "disable", "ann@example.com"], 1, "no user ann@example.com"),
    (["db", "current"], 0, "warehouse: "),
    (["db", "backup", "{dump}"], 0, "backed up the warehouse (migration"),
    (["db", "restore", "{dump}", "--yes"], 0, "restored"),
    (["demo", "--as-of", "2024-13"], 1, "error: --as-of:"),
    (["report", "scorecard", "--window", "0"], 2, "Invalid value for '--window'"),
]
# Every command that needs the warehouse, against one that does not answer.
UNREACHABLE_COMMANDS = [
    ["serve"],
    ["demo"],
    ["db", "upgrade"],
    ["db", "current"],
    ["db", "backup", "{dump}"],
    ["import", "history"],
    ["import", "rollback", "1"],
    ["import", "{good}"],
    ["report", "scorecard"],
    ["report", "alerts"],
    ["users", "list"],
    ["users", "add", "ann@example.com", "--generate"],
    ["users", "set-role", "ann@example.com", "admin"],
]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh, short working folder (the embedded server's socket lives inside it)."""
    d = Path(tempfile.mkdtemp(prefix="icp-f-"))
    d.chmod(0o755)
    yield d
    # A failed test may leave the server up: stop it (fast shutdown) before removing its folder.
    if (d / "d" / "pgdata" / "postmaster.pid").exists():
        pid = _postmaster(d)
        if _running(pid):
            os.kill(pid, signal.SIGINT)
            _wait_gone(pid)
    shutil.rmtree(d, ignore_errors=True)


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "ICP_DATA_DIR": str(folder / "d"), **extra}
    if "DATABASE_URL" not in extra:
        env.pop("DATABASE_URL", None)
    return env


def _files(folder: Path) -> dict[str, str]:
    bad = folder / "bad.csv"
    bad.write_text("<html><body>not an export</body></html>\n")
    good = ROOT / "tests" / "data" / "good" / "accounts.csv"
    return {"bad": str(bad), "good": str(good), "dump": str(folder / "icp.dump")}


def _icp(args: list[str], folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    files = _files(folder)
    args = [a.format(**files) for a in args]
    return subprocess.run(
        [str(ICP), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )


def _short(result: subprocess.CompletedProcess) -> str:
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert len(out.strip().splitlines()) <= 8, out
    return out


@contextmanager
def _holding_the_server(folder: Path) -> Iterator[None]:
    """Keep the embedded server up between commands, as a running `icp serve` would (each
    command would otherwise start and stop it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from db.engine import get_engine; "
         "get_engine().connect().close(); print('up', flush=True); sys.stdin.read()"],
        cwd=ROOT, env=_env(folder), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "up"
    try:
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_every_command_in_a_fresh_folder(folder: Path) -> None:
    env = _env(folder)
    first, *rest = FRESH
    for args, status, text in [first]:
        result = _icp(args, folder, env)
        assert result.returncode == status and text in _short(result), result
    with _holding_the_server(folder):
        for args, status, text in rest:
            result = _icp(args, folder, env)
            out = _short(result)
            assert result.returncode == status, (args, out)
            assert text in out, (args, out)
        # The first command migrated the embedded warehouse by itself, to the code's head.
        head = head_revision()
        assert f"warehouse: {head}  code: {head}" in _icp(["db", "current"], folder, env).stdout


def _postmaster(folder: Path) -> int:
    return int((folder / "d" / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + 30
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _running(pid)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_embedded_server_stops_with_the_last_process(folder: Path, stop: int) -> None:
    # A process killed outright never unregisters from the server; it must not keep
    # the server alive after the others are gone.
    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal; from db.engine import get_engine; "
         "get_engine().connect().close(); os.kill(os.getpid(), signal.SIGKILL)"],
        cwd=ROOT, env=_env(folder), timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    server = serve(_env(folder), folder / "serve.log", cwd=folder)
    postmaster = _postmaster(folder)
    assert _running(postmaster)
    server.proc.send_signal(stop)
    assert server.proc.wait(timeout=60) in (0, 1), server.log()
    assert _wait_gone(postmaster), "the embedded Postgres kept running"
