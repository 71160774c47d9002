"""Every command against a warehouse that does not answer, or a bad environment: one line,
never a traceback. (Beside test_cli_fresh_folder.py so the two slow walks through every
command run on two test workers at once.)"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli_fresh_folder import (
    UNREACHABLE,
    UNREACHABLE_COMMANDS,
    _env,
    _icp,
    _short,
)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh working folder (no server starts in it: the warehouse never answers)."""
    d = Path(tempfile.mkdtemp(prefix="icp-u-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_every_command_against_an_unreachable_warehouse(folder: Path) -> None:
    env = _env(folder, DATABASE_URL=UNREACHABLE)
    for args in UNREACHABLE_COMMANDS:
        result = _icp(args, folder, env)
        out = _short(result)
        assert result.returncode == 1, (args, out)
        assert out.startswith("error: cannot reach the warehouse (connection failed"), (args, out)
        assert out.rstrip().endswith("check DATABASE_URL"), (args, out)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "error: DATABASE_URL is not a database URL: use postgresql://"),
        ("mysql://ann@db/icp", "error: DATABASE_URL names a mysql database; ICP Lens needs"),
    ],
)
def test_a_bad_database_url_is_one_line(folder: Path, url: str, message: str) -> None:
    result = _icp(["report", "scorecard"], folder, _env(folder, DATABASE_URL=url))
    assert result.returncode == 1
    assert _short(result).startswith(message)


def test_a_bad_environment_variable_is_one_line(folder: Path) -> None:
    result = _icp(["users", "list"], folder, _env(folder, ICP_PORT="eighty"))
    assert result.returncode == 1
    assert _short(result).startswith(
        "error: bad setting in the environment: ICP_PORT: Input should be a valid integer"
    )
