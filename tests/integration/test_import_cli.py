"""``icp import``: files and subcommands under one name, exit status, dry run, JSON."""

from __future__ import annotations

import json
import secrets

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from db.config import get_config
from db.engine import dispose_engines, drop_database, ensure_database
from db.migrate import head_revision
from tests.integration.test_import_support import BAD, GOOD, batch_statuses, checksums

runner = CliRunner()
FILES = [str(GOOD / n) for n in ("accounts.csv", "subscriptions.csv", "opportunities.csv")]


def test_import_several_files_then_history_and_rollback(env_db: sa.Engine) -> None:
    result = runner.invoke(app, ["import", *FILES, "--user", "ops"])
    assert result.exit_code == 0, result.output
    assert "batch 1: 13 inserted, 0 updated, 0 unchanged" in result.output
    assert "accounts.csv: accounts, 4 rows (CSV)" in result.output

    history = runner.invoke(app, ["import", "history"])
    assert history.exit_code == 0
    assert "ops" in history.output and "committed" in history.output and "+13" in history.output

    rolled = runner.invoke(app, ["import", "rollback", "1", "--user", "ops"])
    assert rolled.exit_code == 0, rolled.output
    assert (
        rolled.output.strip()
        == "batch 1 rolled back: 13 inserted rows removed, 0 updated rows restored"
    )
    assert batch_statuses(env_db) == [(1, "rolled_back")]

    again = runner.invoke(app, ["import", "rollback", "1"])
    assert again.exit_code == 1
    assert "already rolled back" in again.output


def test_dry_run_writes_nothing(env_db: sa.Engine) -> None:
    before = checksums(env_db)
    result = runner.invoke(app, ["import", "--dry-run", *FILES])
    assert result.exit_code == 0, result.output
    assert "dry run: 3 file(s), 13 rows valid; nothing written" in result.output
    assert checksums(env_db) == before and batch_statuses(env_db) == []


def test_bad_file_exits_non_zero_with_the_report(env_db: sa.Engine) -> None:
    result = runner.invoke(app, ["import", str(GOOD / "accounts.csv"), str(BAD / "bad_date.csv")])
    assert result.exit_code == 1
    assert (
        "bad_date.csv, row 3, column 'start_date': '2024-13-45' -- expected a date" in result.output
    )
    assert batch_statuses(env_db) == [(1, "failed")]


def test_json_format_and_explicit_kind(env_db: sa.Engine) -> None:
    ok = runner.invoke(app, ["import", "--format", "json", "--kind", "accounts", FILES[0]])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.output)
    assert payload["ok"] is True and payload["batch_id"] == 1 and payload["inserted"] == 4
    assert payload["plan"]["files"][0]["kind"] == "accounts"

    bad = runner.invoke(app, ["import", "--format", "json", "--kind", "accounts", FILES[1]])
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert report["ok"] is False and report["problem_count"] == 1
    assert report["problems"][0]["expected"].startswith(
        "the columns of an accounts file: missing vertical"
    )

    history = json.loads(runner.invoke(app, ["import", "history", "--format", "json"]).output)
    assert [(b["batch_id"], b["status"]) for b in history] == [(2, "failed"), (1, "committed")]


def test_refused_file_and_missing_file(env_db: sa.Engine) -> None:
    refused = runner.invoke(app, ["import", str(BAD / "html_renamed.csv")])
    assert refused.exit_code == 1
    assert "this is an HTML page" in refused.output
    missing = runner.invoke(app, ["import", "no-such-file.csv"])
    assert missing.exit_code == 2


def test_unmigrated_warehouse_is_one_clear_line(
    pg_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"icp_empty_{secrets.token_hex(3)}"
    ensure_database(pg_admin_url, name)
    try:
        monkeypatch.setenv(
            "DATABASE_URL",
            sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False),
        )
        get_config.cache_clear()
        result = runner.invoke(app, ["import", "history"])
        assert result.exit_code == 1
        assert (
            result.output.strip()
            == "error: the warehouse at DATABASE_URL is at migration none, this ICP Lens "
            f"needs {head_revision()}: run `icp db upgrade`"
        )
    finally:
        get_config.cache_clear()
        dispose_engines()
        drop_database(pg_admin_url, name)


def test_progress_is_said_stage_by_stage_on_stderr(env_db: sa.Engine) -> None:
    result = runner.invoke(app, ["import", *FILES, "--user", "ops", "--progress"])
    assert result.exit_code == 0, result.output
    said = result.stderr
    assert "reading 3/3" in said and "checking" in said and "loading" in said
    assert "committing" in said
    # stdout keeps the report alone, for scripts
    assert "reading" not in result.stdout
    quiet = runner.invoke(app, ["import", *FILES, "--user", "ops"])
    assert "reading" not in quiet.stderr  # not a terminal: no progress unless asked
